"""xiezuo demo [--no-serve] [--force] [--port N]: a working system on SQLite with demo data."""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from xiezuo.core.demo import is_demo_database, mark_demo_database
from xiezuo.core.jobs import enqueue
from xiezuo.core.management.commands.serve import serve
from xiezuo.core.models import Job
from xiezuo.core.scope import SYSTEM
from xiezuo.env import write_settings_file
from xiezuo.registry.importing import import_registry
from xiezuo.synth import foundation
from xiezuo.synth.registry import generate

DEMO_YEAR = 2019
DEMO_LEDGER_SCALE = 0.3  # a third of a county pair's yearly volume keeps the first start short


class Command(BaseCommand):
    help = "Set up the demo (SQLite, reference data, demo pairings and accounts) and serve it on :8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set everything up, then stop")
        parser.add_argument("--force", action="store_true", help="also on PostgreSQL or a non-demo database")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        self._refuse_unless_safe(opts["force"])
        # Every later command (serve, import, users create …) finds the demo's settings here.
        write_settings_file(
            {"XIEZUO_DEMO": "1", "XIEZUO_SERVE_STATIC": "1"},
            note="written by `xiezuo demo`: this data folder holds a demo (keys in dev-keys.json)",
            folder=settings.DATA_DIR,
        )
        self.stdout.write("[demo] migrating the database …")
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write("[demo] loading code lists, regions, pairings and demo accounts …")
        foundation.build_foundation(
            villages_for=foundation.DEMO_COUNTIES, county_pairs=foundation.COUNTY_PAIRS
        )
        for account in foundation.ACCOUNTS:
            foundation.ensure_account(account)
        self._registry()
        self._ledgers()
        mark_demo_database()
        if not Job.objects.filter(kind="regions.load").exists():
            # Townships of the whole country, loaded in the background: the jobs page shows it running.
            enqueue(actor=SYSTEM, kind="regions.load", params={"level": "township"}, via="cli")
        call_command("collectstatic", verbosity=0, interactive=False)
        self.stdout.write(f"[demo] ready in {time.perf_counter() - started:.0f} s\n")
        self._print_accounts()
        if not opts["no_serve"]:
            self._serve(opts["port"])

    def _ledgers(self) -> None:
        """A full year (2019) of every cooperation ledger for the demo's pairing 东丽区 → 承德县,
        consistent with the registry just imported (a recorded few planted bad claims)."""
        from xiezuo.labour.models import Placement
        from xiezuo.synth.ledgers import build_ledgers

        pair = foundation.Pairing.objects.filter(
            sides__side="helped", sides__region_code=foundation.full_code("130821"), level="county-county"
        ).first()
        if pair is None or Placement.objects.filter(pairing=pair, year=DEMO_YEAR).exists():
            return
        self.stdout.write(f"[demo] cooperation ledgers: {DEMO_YEAR}, {pair.name} (synthetic) …")
        counts = build_ledgers(pairings=[pair], year=DEMO_YEAR, seed=2019, scale=DEMO_LEDGER_SCALE)
        self.stdout.write("[demo] ledgers: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        # The year's story so far: the helped side has confirmed the fiscal transfers' arrival and the
        # helper side's fund period went through its three steps (locked); the rest is open.
        from xiezuo.funds.models import FiscalFund
        from xiezuo.ledgers import periods, services, types

        funds = types.get("fiscal_funds")
        for record in FiscalFund.objects.filter(pairing=pair, year=DEMO_YEAR, confirmation="pending"):
            services.confirm_record(
                funds, actor=SYSTEM, record=record, confirmed=True, note="已到账（演示）", via="demo"
            )
        period = periods.get_period("fiscal_funds", pair, "helper", DEMO_YEAR)
        while not period.locked:
            periods.advance_period(period, actor=SYSTEM, note="演示", via="demo")

    def _registry(self) -> None:
        """Synthetic registered poor people in the demo's helped poverty counties (once)."""
        from xiezuo.registry.models import Dataset

        if Dataset.objects.exists():
            return
        self.stdout.write("[demo] importing synthetic registry data (建档立卡, no real people) …")
        out = settings.DATA_DIR / "demo" / "registry"
        counties = [c for _, c in foundation.COUNTY_PAIRS]
        generate(people=foundation.DEMO_PEOPLE, seed=20161208, out=out, counties=counties)
        result = import_registry(
            out / "registry.csv",
            actor=SYSTEM,
            data_year=2019,
            as_of=dt.date(2019, 12, 31),
            errors_out=out / "errors.xlsx",
        )
        self.stdout.write(
            "[demo] registry: {read} rows read, {accepted} accepted, {rejected} rejected (planted)".format(
                **result.counts()
            )
        )

    def _refuse_unless_safe(self, force: bool) -> None:
        if force:
            return
        if connection.vendor != "sqlite":
            raise CommandError("The demo runs on SQLite; use --force to put demo data into this database.")
        tables = connection.introspection.table_names()
        if "auth_user" in tables and User.objects.exists() and not is_demo_database():
            raise CommandError(
                "This database holds data that is not demo data; use another XIEZUO_DATA_DIR or --force."
            )

    def _print_accounts(self) -> None:
        self.stdout.write(f"Demo accounts (password for all: {foundation.PASSWORD})")
        for a in foundation.ACCOUNTS:
            self.stdout.write(f"  {a.username:<12} {a.role:<22} {a.note}")

    def _serve(self, port: int) -> None:
        self.stdout.write(f"\nServing http://127.0.0.1:{port}/  (Ctrl-C stops the site and the worker)")
        os.environ["XIEZUO_DEMO"] = "1"
        os.environ["XIEZUO_SERVE_STATIC"] = "1"
        serve("127.0.0.1", port)
