"""xiezuo import <ledger> FILE [--pairing ID] [--unit 万元] [--dry-run] [--errors OUT] [--json] [--user U]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from xiezuo.core.imports.command import ImportCommand
from xiezuo.core.imports.kinds import ImportKind
from xiezuo.ledgers import imports, types
from xiezuo.pairings.models import Pairing


class Command(ImportCommand):
    help = "Import a cooperation ledger sheet (CSV, XLSX, XLS, Parquet or a zip of them)."

    def add_kind_argument(self, parser: CommandParser) -> None:
        parser.add_argument("ledger", help="ledger key: " + ", ".join(t.key for t in types.all_types()))

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--pairing", type=int, help="pairing id for rows without a 结对关系 column")
        parser.add_argument(
            "--unit", choices=["元", "万元", "亿元"], help="money unit where the sheet states none"
        )

    def kind(self, opts: dict[str, Any]) -> ImportKind:
        try:
            return imports.kind(opts["ledger"])
        except KeyError:
            raise CommandError(
                f"unknown ledger {opts['ledger']!r}; one of: " + ", ".join(t.key for t in types.all_types())
            ) from None

    def options(self, opts: dict[str, Any]) -> dict[str, Any]:
        if opts["pairing"] and not Pairing.objects.filter(pk=opts["pairing"]).exists():
            raise CommandError(f"no pairing {opts['pairing']}")
        return {"pairing": opts["pairing"], "unit": opts["unit"]}
