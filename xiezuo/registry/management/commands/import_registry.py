"""xiezuo import registry FILE [--data-year Y] [--as-of DATE] [--dry-run] [--errors OUT] [--json]"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from xiezuo.core.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import registry households and members (CSV, XLSX, XLS, Parquet or a zip of them)."
    kind_key = "registry"

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--data-year", type=int)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="数据截止日期 YYYY-MM-DD")

    def options(self, opts: dict[str, Any]) -> dict[str, Any]:
        as_of = opts["as_of"]
        return {"data_year": opts["data_year"], "as_of": as_of.isoformat() if as_of else None}
