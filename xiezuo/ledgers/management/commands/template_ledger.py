"""xiezuo template <ledger> --out F.xlsx: the empty import template of a ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiezuo.core.paths import user_path
from xiezuo.ledgers import types
from xiezuo.ledgers.exporting import template


class Command(BaseCommand):
    help = "Write the import template of a ledger (Chinese headers, drop-downs, text-formatted ID columns)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ledger")
        parser.add_argument("--out", type=user_path, required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            ltype = types.get(opts["ledger"])
        except KeyError:
            raise CommandError(f"unknown ledger {opts['ledger']!r}") from None
        self.stdout.write(str(template(ltype, opts["out"])))
