"""The one base of the import commands (``xiezuo import registry|monitoring|<ledger> FILE …``)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xiezuo.core.imports import kinds
from xiezuo.core.imports.kinds import ImportKind
from xiezuo.core.imports.result import ImportRefused
from xiezuo.core.paths import user_path
from xiezuo.core.scope import SYSTEM
from xiezuo.core.tabular.readers import TabularError


class ImportCommand(BaseCommand):
    """Reads FILE as one import kind and prints its counts (``--json``: the counts only).

    A subclass names its kind (``kind_key``) or picks it from the arguments (:meth:`kind`), adds
    its own options (:meth:`add_options`) and turns them into the kind's options (:meth:`options`).
    """

    kind_key = ""

    def add_arguments(self, parser: CommandParser) -> None:
        self.add_kind_argument(parser)
        parser.add_argument("file", type=user_path)
        self.add_options(parser)
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--errors", type=user_path, help="write rejected rows to this .xlsx or .csv")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument("--user", help="import as this user (default: the system, national scope)")

    def add_kind_argument(self, parser: CommandParser) -> None:
        """Arguments before FILE (the ledger commands name their ledger there)."""

    def add_options(self, parser: CommandParser) -> None:
        """The kind's own options."""

    def kind(self, opts: dict[str, Any]) -> ImportKind:
        return kinds.get(self.kind_key)

    def options(self, opts: dict[str, Any]) -> dict[str, Any]:
        """The kind's options from the command line, as a job would hold them (JSON-able)."""
        return {}

    def handle(self, *args: Any, **opts: Any) -> None:
        kind = self.kind(opts)
        actor: Any = SYSTEM
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"no user {opts['user']}")
        options = self.options(opts)
        started = time.perf_counter()

        def progress(done: int, total: int | None, message: str) -> None:
            if not opts["json"] and sys.stderr.isatty():
                sys.stderr.write(f"\r{message}   ")

        try:
            result = kind.run(
                opts["file"],
                actor=actor,
                options=options,
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
        self.stdout.write(
            result.summary_zh()
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
