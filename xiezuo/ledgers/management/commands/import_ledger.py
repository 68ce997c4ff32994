"""xiezuo import <ledger> FILE [--pairing ID] [--unit 万元] [--dry-run] [--errors OUT] [--json] [--user U]"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiezuo.core.scope import SYSTEM
from xiezuo.core.tabular.readers import TabularError
from xiezuo.ledgers import types
from xiezuo.pairings.models import Pairing


class Command(BaseCommand):
    help = "Import a cooperation ledger sheet (CSV, XLSX, XLS, Parquet or a zip of them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ledger", help="ledger key: " + ", ".join(t.key for t in types.all_types()))
        parser.add_argument("file", type=Path)
        parser.add_argument("--pairing", type=int, help="pairing id for rows without a 结对关系 column")
        parser.add_argument(
            "--unit", choices=["元", "万元", "亿元"], help="money unit where the sheet states none"
        )
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--errors", type=Path, help="write rejected rows to this .xlsx or .csv")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument("--user", help="import as this user (default: the system, national scope)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from xiezuo.ledgers.importing import import_ledger

        try:
            types.get(opts["ledger"])
        except KeyError:
            raise CommandError(
                f"unknown ledger {opts['ledger']!r}; one of: " + ", ".join(t.key for t in types.all_types())
            ) from None
        actor: Any = SYSTEM
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"no user {opts['user']}")
        pairing = None
        if opts["pairing"]:
            pairing = Pairing.objects.filter(pk=opts["pairing"]).first()
            if pairing is None:
                raise CommandError(f"no pairing {opts['pairing']}")
        started = time.perf_counter()

        def progress(done: int, total: int | None, message: str) -> None:
            if not opts["json"] and sys.stderr.isatty():
                sys.stderr.write(f"\r{message}   ")

        try:
            result = import_ledger(
                opts["ledger"],
                opts["file"],
                actor=actor,
                pairing=pairing,
                unit=opts["unit"],
                dry_run=opts["dry_run"],
                errors_out=opts["errors"],
                progress=progress,
                via="cli",
            )
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
