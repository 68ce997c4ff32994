"""xiezuo serve [--host H] [--port N] [--dev]: the site with a background worker beside it.

The site runs under gunicorn (ADR 0017): ``XIEZUO_WEB_WORKERS`` processes of
``XIEZUO_WEB_THREADS`` threads, static files from WhiteNoise; it speaks plain http and is meant to
sit behind nginx, which brings HTTPS (docs/, deploy/). ``--dev`` runs Django's development server
instead, one process, for working on the code.

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
        parser.add_argument(
            "--dev", action="store_true", help="Django's development server instead of gunicorn"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        code = serve(opts["host"], opts["port"], dev=opts["dev"])
        if code:
            # the site stopped by itself (port taken, workers failing to boot): tell systemd
            raise SystemExit(code)


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


def site_command(host: str, port: int, *, dev: bool = False) -> list[str]:
    """The command line of the site's server: gunicorn, or Django's development server."""
    from django.conf import settings

    if dev:
        return [
            sys.executable,
            "-m",
            "xiezuo.cli",
            "manage",
            "runserver",
            f"{host}:{port}",
            "--noreload",
            "--insecure",
        ]
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "xiezuo.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(settings.XIEZUO_WEB_WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(settings.XIEZUO_WEB_THREADS),
        "--timeout",
        str(settings.XIEZUO_WEB_TIMEOUT),
        # No control socket in $HOME: nothing here uses gunicornc, and two sites would share it.
        "--no-control-socket",
        # A stopping site finishes the requests in flight (an upload) for this long.
        "--graceful-timeout",
        "30",
        # No access log here: nginx keeps one, and URLs may carry search terms about people.
        "--error-logfile",
        "-",
        "--log-level",
        "info",
    ]


def serve(host: str, port: int, *, dev: bool = False) -> int:
    """Run the site and a supervised worker until the site stops or SIGTERM/Ctrl-C; the site's
    exit code when it stopped by itself, else 0."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xiezuo.settings"}
    worker = Supervisor([sys.executable, "-m", "xiezuo.cli", "worker"], env)
    site = subprocess.Popen(site_command(host, port, dev=dev), env=env)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        site.terminate()  # gunicorn: graceful shutdown

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while site.poll() is None:
            worker.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopping = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        if site.poll() is None:
            site.terminate()
            try:
                site.wait(timeout=40)
            except subprocess.TimeoutExpired:
                site.kill()
                site.wait()
        worker.stop()
    code = site.returncode
    if stopping or not code:
        return 0
    how = f"signal {-code}" if code < 0 else f"exit code {code}"
    log.error("xiezuo serve: the site's server stopped with %s", how)
    return code if code > 0 else 1
