"""xiezuo worker [--once]: run background jobs from the database queue."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xiezuo.core.jobs import requeue_stale, work


class Command(BaseCommand):
    help = "Run queued background jobs (imports, loads, runs, exports)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="stop when the queue is empty")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
        parser.add_argument(
            "--requeue-stale",
            action="store_true",
            help="first put jobs left running by a dead worker back in the queue",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        stopping = [False]

        def stop(*_: Any) -> None:
            stopping[0] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if opts["requeue_stale"]:
            n = requeue_stale()
            if n:
                self.stdout.write(f"requeued {n} stale job(s)")
        n = work(once=opts["once"], poll=opts["poll"], stop=lambda: stopping[0])
        if opts["once"]:
            self.stdout.write(f"ran {n} job(s)")
