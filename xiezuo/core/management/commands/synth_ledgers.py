"""xiezuo synth ledgers --year Y [--pairing ID ...] [--scale X] --seed S --out DIR [--save]"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiezuo.core.paths import user_path
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import SynthContext, generate_all, write_files


class Command(BaseCommand):
    help = (
        "Write synthetic, import-ready sheets of every cooperation ledger for pairings and a year, "
        "consistent with the registry in the database (people drawn from it, a recorded few planted "
        "bad claims), with a manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=2019)
        parser.add_argument(
            "--pairing", type=int, action="append", help="pairing id (repeatable); default: every county pair"
        )
        parser.add_argument(
            "--scale", type=float, default=1.0, help="volume per pairing (1 = a county pair's year)"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=user_path, required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        if opts["pairing"]:
            pairings = list(Pairing.objects.filter(pk__in=opts["pairing"]).order_by("pk"))
            if len(pairings) != len(set(opts["pairing"])):
                raise CommandError("unknown pairing id")
        else:
            pairings = list(Pairing.objects.filter(level="county-county").order_by("pk"))
        pairings = [p for p in pairings if p.active_in(opts["year"])]
        if not pairings:
            raise CommandError(f"no pairing active in {opts['year']}")
        ctx = SynthContext(
            rng=random.Random(opts["seed"]), year=opts["year"], pairings=pairings, scale=opts["scale"]
        )
        rows = generate_all(ctx)
        paths = write_files(rows, opts["out"])
        manifest = {
            "year": opts["year"],
            "seed": opts["seed"],
            "scale": opts["scale"],
            "pairings": [p.pk for p in pairings],
            "rows": {k: len(v) for k, v in rows.items()},
            "planted_bad_claims": dict(sorted(ctx.planted.items())),
        }
        (opts["out"] / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        self.stdout.write(
            f"{sum(manifest['rows'].values())} rows in {len(paths)} files for {len(pairings)} pairings "
            f"in {time.perf_counter() - started:.1f} s → {opts['out']}"
        )
