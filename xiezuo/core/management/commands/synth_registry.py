"""xiezuo synth registry --people N | --tier demo|province|national --seed S --out DIR"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core.paths import user_path
from xiezuo.synth.registry import TIERS, generate


class Command(BaseCommand):
    help = "Write synthetic, import-ready registry files (no real people) and a manifest of planted errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int)
        parser.add_argument("--tier", choices=sorted(TIERS), default="demo")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=user_path, required=True)
        parser.add_argument("--data-year", type=int, default=2019)
        parser.add_argument(
            "--province", help="2-digit province code (the province tier defaults to 52 贵州)"
        )
        parser.add_argument("--format", choices=["csv", "parquet"])

    def handle(self, *args: Any, **opts: Any) -> None:
        people = opts["people"] or TIERS[opts["tier"]]
        province = opts["province"] or ("52" if opts["tier"] == "province" and not opts["people"] else None)
        started = time.perf_counter()
        manifest = generate(
            people=people,
            seed=opts["seed"],
            out=opts["out"],
            data_year=opts["data_year"],
            province=province,
            fmt=opts["format"],
        )
        self.stdout.write(
            "{people} people in {n} file(s), {e} planted errors, {s:.1f} s → {out}".format(
                people=manifest["people"],
                n=len(manifest["files"]),
                e=len(manifest["planted_errors"]),
                s=time.perf_counter() - started,
                out=opts["out"],
            )
        )
