"""xiezuo template monitoring --out F.xlsx: the empty import template of the monitoring sheet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core.paths import user_path
from xiezuo.core.tabular.spec import write_template
from xiezuo.registry.monitoring_columns import MONITORING


class Command(BaseCommand):
    help = "Write the monitoring import template (监测对象帮扶措施: XLSX with headers and drop-downs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=user_path,
            default=user_path("监测对象帮扶措施导入模板.xlsx"),
            help="the .xlsx to write",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = write_template(MONITORING, opts["out"])
        self.stdout.write(str(path))
