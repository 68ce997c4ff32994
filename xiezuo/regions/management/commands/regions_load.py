"""xiezuo regions load [--level county|township|village] [--county 522732 ...]"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core import audit
from xiezuo.regions.loading import load_regions

LEVELS = {"province": 1, "prefecture": 2, "county": 3, "township": 4, "village": 5}


class Command(BaseCommand):
    help = "Load the region tree (counties and above; townships and villages on request) and code history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--level", choices=list(LEVELS), default="county")
        parser.add_argument(
            "--county",
            action="append",
            default=None,
            help="6-digit county code; townships/villages only there",
        )
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        result = load_regions(level=LEVELS[opts["level"]], counties=opts["county"])
        seconds = time.perf_counter() - started
        audit.record(
            actor="cli",
            action="load",
            object_type="region",
            batch={**result.as_dict(), "level": opts["level"], "counties": opts["county"] or "all"},
            via="cli",
        )
        if opts["json"]:
            self.stdout.write(json.dumps({**result.as_dict(), "seconds": round(seconds, 2)}))
        else:
            inserted = ", ".join(f"level {k}: {v}" for k, v in result.inserted.items())
            self.stdout.write(f"regions loaded in {seconds:.1f} s ({inserted}; flags {result.flags})")
