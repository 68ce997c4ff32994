"""xiezuo serve [--host H] [--port N]: the site with a background worker beside it.

For a small office server or the demo. A large production install runs the WSGI app
(``xiezuo.wsgi``) under its own server and ``xiezuo worker`` as a service (see docs/).

The worker is supervised: if it dies (killed, out of memory on a hostile file) it is started
again, with a log line, after a pause that grows while it keeps dying; the new worker takes the
dead one's job back once its heartbeat is stale (ADR 0012). The site stopping stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

log = logging.getLogger("xiezuo.serve")

# Pauses before restarting a worker that died, growing while it dies within RESTART_RESET seconds.
RESTART_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)
RESTART_RESET = 60.0


class Command(BaseCommand):
    help = "Serve the site and run a background worker alongside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(opts["host"], opts["port"])


class Supervisor:
    """Keeps one worker process running beside the site."""

    def __init__(
        self, command: Sequence[str], env: dict[str, str], start: Callable[..., Any] = subprocess.Popen
    ) -> None:
        self.command = list(command)
        self.env = env
        self._start = start
        self.proc: subprocess.Popen[bytes] = start(self.command, env=env)
        self.restarts = 0
        self._died: list[float] = []
        self._due: float | None = None

    def check(self) -> None:
        """Restart the worker if it has died (call it every second or so)."""
        now = time.monotonic()
        if self._due is not None:
            if now >= self._due:
                self._due = None
                self.proc = self._start(self.command, env=self.env)
                self.restarts += 1
                log.warning("xiezuo serve: worker restarted (pid %s)", self.proc.pid)
            return
        code = self.proc.poll()
        if code is None:
            return
        self._died = [t for t in self._died if now - t < RESTART_RESET] + [now]
        pause = RESTART_PAUSES[min(len(self._died), len(RESTART_PAUSES)) - 1]
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        log.warning(
            "xiezuo serve: worker (pid %s) died with %s; restarting it in %.0f s", self.proc.pid, how, pause
        )
        self._due = now + pause

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(host: str, port: int) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xiezuo.settings"}
    exe = [sys.executable, "-m", "xiezuo.cli"]
    worker = Supervisor([*exe, "worker"], env)
    site = subprocess.Popen(
        [*exe, "manage", "runserver", f"{host}:{port}", "--noreload", "--insecure"], env=env
    )
    previous = signal.signal(signal.SIGTERM, lambda *_: site.terminate())
    try:
        while site.poll() is None:
            worker.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if site.poll() is None:
            site.terminate()
            try:
                site.wait(timeout=10)
            except subprocess.TimeoutExpired:
                site.kill()
        worker.stop()
