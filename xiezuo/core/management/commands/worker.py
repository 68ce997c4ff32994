"""xiezuo worker [--once]: run background jobs from the database queue.

On start and every so often while polling, the worker takes back jobs whose worker died (their
heartbeat is older than XIEZUO_JOB_STALE_SECONDS; ADR 0012). ``--requeue-stale`` does that once
first and says how many it took back; jobs with a fresh heartbeat are never touched.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core.jobs import reclaim_stale, work


class Command(BaseCommand):
    help = "Run queued background jobs (imports, loads, runs, exports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="stop when the queue is empty")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
        parser.add_argument(
            "--requeue-stale",
            action="store_true",
            help="first take back jobs whose worker died (stale heartbeat) and report them",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        stopping = [False]

        def stop(*_: Any) -> None:
            stopping[0] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if opts["requeue_stale"]:
            taken = reclaim_stale()
            for outcome, ids in taken.items():
                if ids:
                    self.stdout.write(f"{outcome} {len(ids)} stale job(s): {', '.join(map(str, ids))}")
        n = work(once=opts["once"], poll=opts["poll"], stop=lambda: stopping[0])
        if opts["once"]:
            self.stdout.write(f"ran {n} job(s)")
