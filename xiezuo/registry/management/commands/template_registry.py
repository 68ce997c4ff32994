"""xiezuo template registry --out F.xlsx: the empty import template of the registry sheet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core.paths import user_path
from xiezuo.core.tabular.spec import write_template
from xiezuo.registry.columns import REGISTRY


class Command(BaseCommand):
    help = "Write the registry import template (XLSX with headers, drop-downs and a code sheet)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", type=user_path, default=user_path("建档立卡导入模板.xlsx"), help="the .xlsx to write"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = write_template(REGISTRY, opts["out"])
        self.stdout.write(str(path))
