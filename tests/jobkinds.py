"""Job kinds for tests only (``python -m tests.jobworker`` runs a real worker that knows them).

``test.sleep`` sleeps ``seconds`` and until a file exists (reporting progress), writing a line to
``log`` when it starts and when it finishes, so a test counts runs and completions.
``test.kill_worker`` kills its own worker process with SIGKILL, as an out-of-memory kill would.
``test.note`` returns at once; ``test.raise`` raises RuntimeError with ``text``.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from xiezuo.core.jobs import Progress, job
from xiezuo.core.models import Job


def _log(obj: Job, what: str) -> None:
    if obj.params.get("log"):
        with Path(obj.params["log"]).open("a") as fh:
            fh.write(f"{what} {obj.pk} {os.getpid()}\n")


@job("test.sleep")
def sleep(obj: Job, progress: Progress) -> dict[str, Any]:
    """Sleep ``seconds``, and then until the file ``until`` exists (at most a minute more)."""
    _log(obj, "start")
    seconds = float(obj.params.get("seconds", 1))
    until = Path(obj.params["until"]) if obj.params.get("until") else None
    started = time.monotonic()
    ticks = 0
    while time.monotonic() - started < seconds or (
        until is not None and not until.exists() and time.monotonic() - started < seconds + 60
    ):
        time.sleep(0.05)
        ticks += 1
        progress(ticks, None, "")
    _log(obj, "done")
    rows = int(obj.params.get("rows", 3))
    return {"read": rows, "accepted": rows, "rejected": 0}


@job("test.kill_worker")
def kill_worker(obj: Job, progress: Progress) -> dict[str, Any]:
    _log(obj, "start")
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # never reached
    return {}


@job("test.note")
def note(obj: Job, progress: Progress) -> dict[str, Any]:
    _log(obj, "done")
    return {"read": 1, "accepted": 1, "rejected": 0}


@job("test.raise")
def fail(obj: Job, progress: Progress) -> dict[str, Any]:
    raise RuntimeError(str(obj.params.get("text", "boom")))
