"""The database-backed job queue (DESIGN.md D9): no extra server, `xiezuo worker` runs the jobs.

A job kind is a function registered with ``@job("kind")`` taking ``(job, progress)`` and returning
a JSON-able result. ``progress(done, total, message)`` writes the job's progress in its own short
transaction so pages can show it while the job's own work is still uncommitted.

Claiming is one conditional UPDATE (``status=queued`` → ``running``), so two workers never run
the same job, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from xiezuo.core import audit
from xiezuo.core.models import Job

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None, str], None]
JobFunction = Callable[[Job, Progress], dict[str, Any]]
REGISTRY: dict[str, JobFunction] = {}


def job(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the runner of a job kind."""

    def register(fn: JobFunction) -> JobFunction:
        REGISTRY[kind] = fn
        return fn

    return register


def enqueue(
    *, actor: Any, kind: str, params: dict[str, Any], region_code: int | None = None, via: str = "web"
) -> Job:
    """Queue a job; the worker picks it up. Audited like every write."""
    import xiezuo.core.builtin_jobs  # noqa: F401  (registers the built-in kinds)

    if kind not in REGISTRY:
        raise ValueError(f"unknown job kind {kind!r}")
    with transaction.atomic():
        user = actor if getattr(actor, "is_authenticated", False) else None
        obj = Job.objects.create(kind=kind, params=params, created_by=user, region_code=region_code)
        audit.record(
            actor=actor,
            action="enqueue",
            object_type="job",
            object_id=obj.pk,
            object_repr=kind,
            region_code=region_code,
            changes={"params": [None, params]},
            via=via,
        )
    return obj


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(worker: str) -> Job | None:
    """Take the oldest queued job, or None. Safe with several workers."""
    for candidate in Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at", "id")[:5]:
        claimed = Job.objects.filter(pk=candidate.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING,
            started_at=timezone.now(),
            worker=worker,
            attempts=candidate.attempts + 1,
        )
        if claimed:
            return Job.objects.get(pk=candidate.pk)
    return None


def _progress_writer(obj: Job) -> Progress:
    last = [0.0]

    def progress(done: int, total: int | None, message: str = "") -> None:
        now = time.monotonic()
        # At most a few writes a second, and always the final one.
        if now - last[0] < 0.5 and total is not None and done < total:
            return
        last[0] = now
        Job.objects.filter(pk=obj.pk).update(progress_done=done, progress_total=total, message=message[:300])

    return progress


def run(obj: Job) -> Job:
    """Run a claimed job to its end; its status says how it ended."""
    fn = REGISTRY.get(obj.kind)
    try:
        if fn is None:
            raise ValueError(f"unknown job kind {obj.kind!r}")
        result = fn(obj, _progress_writer(obj))
    except Exception as exc:  # a failed job is recorded, the worker goes on
        log.exception("job %s failed", obj.pk)
        Job.objects.filter(pk=obj.pk).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            error="".join(traceback.format_exception(exc))[-4000:],
        )
    else:
        Job.objects.filter(pk=obj.pk).update(
            status=Job.Status.DONE, finished_at=timezone.now(), result=result
        )
    obj.refresh_from_db()
    return obj


def requeue_stale(worker_prefix: str | None = None) -> int:
    """Put jobs left running by a killed worker back in the queue (their work was all-or-nothing)."""
    qs = Job.objects.filter(status=Job.Status.RUNNING)
    if worker_prefix:
        qs = qs.filter(worker__startswith=worker_prefix)
    return qs.update(status=Job.Status.QUEUED, worker="", started_at=None)


def work(*, once: bool = False, poll: float = 1.0, stop: Callable[[], bool] = lambda: False) -> int:
    """Run jobs until stopped (or until the queue is empty with ``once``); returns jobs run."""
    import xiezuo.core.builtin_jobs  # noqa: F401  (registers the built-in kinds)

    me = worker_name()
    done = 0
    while not stop():
        obj = claim_next(me)
        if obj is None:
            if once:
                break
            time.sleep(poll)
            continue
        run(obj)
        done += 1
    return done
