"""xiezuo import registry FILE [--data-year Y] [--as-of DATE] [--dry-run] [--errors OUT] [--json]"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiezuo.core.scope import SYSTEM
from xiezuo.core.tabular.readers import TabularError
from xiezuo.registry.importing import ImportRefused, import_registry


class Command(BaseCommand):
    help = "Import registry households and members (CSV, XLSX, XLS, Parquet or a zip of them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--data-year", type=int)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="数据截止日期 YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--errors", type=Path, help="write rejected rows to this .xlsx or .csv")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument("--user", help="import as this user (default: the system, national scope)")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor: Any = SYSTEM
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"no user {opts['user']}")
        started = time.perf_counter()

        def progress(done: int, total: int | None, message: str) -> None:
            if not opts["json"] and sys.stderr.isatty():
                sys.stderr.write(f"\r{message}   ")

        try:
            result = import_registry(
                opts["file"],
                actor=actor,
                data_year=opts["data_year"],
                as_of=opts["as_of"],
                dry_run=opts["dry_run"],
                errors_out=opts["errors"],
                progress=progress,
                via="cli",
            )
        except ImportRefused as exc:
            raise CommandError(exc.zh) from None
        except TabularError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(result.counts()))
            return
        c = result.counts()
        self.stdout.write(
            "读取 {read} 行：接受 {accepted}，拒绝 {rejected}；".format(**c)
            + "新增 {created}，更新 {updated}，未变 {unchanged}".format(**c)
            + ("（试运行，未写入）" if result.dry_run else "")
            + f"  [{time.perf_counter() - started:.1f} s]"
        )
        for note in result.notes:
            self.stdout.write("  " + note)
        if result.errors_file:
            self.stdout.write(f"  错误报告：{result.errors_file}")
        if opts["verbosity"] >= 2:  # where the time went (developers, benchmarks)
            for phase, seconds in result.timings.items():
                self.stdout.write(f"  {phase}: {seconds:.1f} s")
