"""xiezuo serve [--host H] [--port N]: the site with a background worker beside it.

For a small office server or the demo. A large production install runs the WSGI app
(``xiezuo.wsgi``) under its own server and ``xiezuo worker`` as a service (see docs/).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the site and run a background worker alongside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(opts["host"], opts["port"])


def serve(host: str, port: int) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xiezuo.settings"}
    exe = [sys.executable, "-m", "xiezuo.cli"]
    worker = subprocess.Popen([*exe, "worker", "--requeue-stale"], env=env)
    try:
        subprocess.run(
            [*exe, "manage", "runserver", f"{host}:{port}", "--noreload", "--insecure"], env=env, check=False
        )
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(timeout=10)
