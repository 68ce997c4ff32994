"""The database-backed job queue (DESIGN.md D9, ADR 0003, ADR 0012): no extra server, `xiezuo
worker` runs the jobs.

A job kind is a function registered with ``@job("kind")`` taking ``(job, progress)`` and returning
a JSON-able result. ``progress(done, total, message)`` hands the job's progress to the worker's
heartbeat thread, which writes it with the heartbeat on its own connection in short transactions,
so pages see it while the job's own work is still uncommitted.

Claiming takes the oldest queued job in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) and flips it with a conditional UPDATE, so two workers never run the
same job. A worker that dies leaves its job running with a heartbeat that stops; any worker takes
such a stale job back (``reclaim_stale``): queued again, failed once it has had its attempts, set
aside (quarantined) once workers died under it twice, so one poisonous file cannot block the queue.

A job that refuses its input raises ``JobFailed(code, **params)`` with a code of
``xiezuo.core.job_messages``; any other exception is an internal error: people read a message
naming the job, the traceback goes to the log and to ``Job.error`` for administrators.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise

from xiezuo.core import audit, job_messages
from xiezuo.core.models import Job

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None, str], None]
JobFunction = Callable[[Job, Progress], dict[str, Any]]
REGISTRY: dict[str, JobFunction] = {}


class JobFailed(Exception):
    """A job that cannot be done as asked; people read the message of ``code`` with ``params``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def job(kind: str, *, label: Promise | None = None) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the runner of a job kind (``label``: what pages call the kind)."""

    def register(fn: JobFunction) -> JobFunction:
        REGISTRY[kind] = fn
        if label is not None:
            job_messages.KIND_LABELS[kind] = label
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


def _locked(qs: Any) -> Any:
    # PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite: atomic()
    # begins IMMEDIATE (settings), which already holds the database's single write lock.
    if connection.vendor == "postgresql":
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def claim_next(worker: str) -> Job | None:
    """Take the oldest queued job, or None. Safe with several workers."""
    queued = Job.objects.filter(status=Job.Status.QUEUED)
    if not queued.exists():  # a plain read first: an idle worker takes no write lock each poll
        return None
    with transaction.atomic():
        candidate = _locked(Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at", "id")).first()
        if candidate is None:
            return None
        now = timezone.now()
        claimed = Job.objects.filter(pk=candidate.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            attempts=F("attempts") + 1,
        )
    return Job.objects.get(pk=candidate.pk) if claimed else None


# ---------------------------------------------------------------------------------------------
# Stale jobs


def _process_alive(pid: int) -> bool:
    """Whether a process of this machine runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _worker_alive_here(worker: str) -> bool:
    """True when ``worker`` (``host:pid``) is a live process of this machine.

    A heartbeat can fall behind while the worker lives: on SQLite its thread waits for the write
    lock as long as the job's own transaction holds it. Such a job is never taken back.
    """
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return int(pid) != os.getpid() and _process_alive(int(pid))


def stale_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.XIEZUO_JOB_STALE_SECONDS)


def reclaim_stale() -> dict[str, list[int]]:
    """Take back running jobs whose worker is gone (heartbeat older than the stale age).

    Each is queued again, or marked failed once it has had ``XIEZUO_JOB_MAX_ATTEMPTS`` runs, or
    set aside (quarantined) once workers died under it ``XIEZUO_JOB_QUARANTINE_AFTER`` times. A job
    with a fresh heartbeat, or whose worker still lives on this machine, is never touched.
    Returns the job ids by outcome.
    """
    out: dict[str, list[int]] = {"requeued": [], "failed": [], "quarantined": []}
    cutoff = stale_cutoff()
    stale = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    # A plain read first: no write lock unless there is a job to take back.
    candidates = Job.objects.filter(stale, status=Job.Status.RUNNING).values_list("pk", "worker")[:100]
    dead = [pk for pk, worker in candidates if not _worker_alive_here(worker)]
    if not dead:
        return out
    with transaction.atomic():
        rows = list(_locked(Job.objects.filter(stale, status=Job.Status.RUNNING, pk__in=dead).order_by("id")))
        for obj in rows:
            if _worker_alive_here(obj.worker):
                continue
            reclaims = obj.stale_reclaims + 1
            same = Job.objects.filter(pk=obj.pk, status=Job.Status.RUNNING, worker=obj.worker)
            same = same.filter(heartbeat_at=obj.heartbeat_at)  # not beaten since we read it
            if reclaims >= settings.XIEZUO_JOB_QUARANTINE_AFTER:
                outcome, status = "quarantined", Job.Status.QUARANTINED
                code, params = job_messages.QUARANTINED, {"times": reclaims}
            elif obj.attempts >= settings.XIEZUO_JOB_MAX_ATTEMPTS:
                outcome, status = "failed", Job.Status.FAILED
                code, params = job_messages.GAVE_UP, {"attempts": obj.attempts}
            else:
                changed = same.update(
                    status=Job.Status.QUEUED,
                    stale_reclaims=reclaims,
                    worker="",
                    started_at=None,
                    heartbeat_at=None,
                    progress_done=0,
                    progress_total=None,
                    message="",
                )
                if changed:
                    out["requeued"].append(obj.pk)
                    log.warning(
                        "job %s (%s): worker %s stopped sending heartbeats; queued again (attempt %s of %s)",
                        obj.pk, obj.kind, obj.worker, obj.attempts + 1, settings.XIEZUO_JOB_MAX_ATTEMPTS,
                    )  # fmt: skip
                continue
            changed = same.update(
                status=status,
                stale_reclaims=reclaims,
                finished_at=timezone.now(),
                error_code=code,
                error_params=params,
                message=job_messages.render_zh(code, {"job": obj.pk, **params})[:300],
                error=f"worker {obj.worker} stopped sending heartbeats {reclaims} time(s); "
                f"attempts {obj.attempts}; last heartbeat {obj.heartbeat_at}",
            )
            if changed:
                out[outcome].append(obj.pk)
                log.error(
                    "job %s (%s): worker %s stopped beating; %s after %s attempt(s), %s dead worker(s)",
                    obj.pk, obj.kind, obj.worker, outcome, obj.attempts, reclaims,
                )  # fmt: skip
    return out


def requeue_stale(worker_prefix: str | None = None) -> int:
    """``xiezuo worker --requeue-stale``: the stale-only rule of ``reclaim_stale``; returns the jobs
    it took back (``worker_prefix`` is accepted for old callers and no longer widens anything)."""
    return sum(len(ids) for ids in reclaim_stale().values())


# ---------------------------------------------------------------------------------------------
# Running a job


class Heartbeat(threading.Thread):
    """Writes a running job's heartbeat, and its latest progress, from a thread of its own.

    Its own thread means its own database connection: each write is one short autocommit UPDATE
    that never waits for the job's own transaction (on SQLite it waits for the write lock at most
    the busy timeout, then tries again at the next beat).
    """

    def __init__(self, obj: Job, interval: float) -> None:
        super().__init__(name=f"heartbeat-{obj.pk}", daemon=True)
        self.job_id = obj.pk
        self.worker = obj.worker
        self.interval = interval
        self.pending: tuple[int, int | None, str] | None = None
        self.last: tuple[int, int | None, str] | None = None
        self.lost = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._last_write = 0.0

    def progress(self, done: int, total: int | None, message: str = "") -> None:
        with self._lock:
            self.pending = self.last = (done, total, message[:300])
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        self.join()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                # A heartbeat every interval; progress as it comes, at most twice a second.
                self._wake.wait(self.interval)
                gap = min(0.5, self.interval) - (time.monotonic() - self._last_write)
                if gap > 0 and self._halt.wait(gap):
                    break
                if self._halt.is_set():
                    break
                self._wake.clear()
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        with self._lock:
            pending, self.pending = self.pending, None
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if pending is not None:
            fields.update(progress_done=pending[0], progress_total=pending[1], message=pending[2])
        self._last_write = time.monotonic()
        try:
            mine = Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING, worker=self.worker)
            changed = mine.update(**fields)
        except DatabaseError as exc:  # busy, or the database restarting: the next beat tries again
            log.warning("job %s: heartbeat not written (%s)", self.job_id, exc)
            with self._lock:
                self.pending = self.pending or pending
            connection.close()
            return
        if not changed and not self.lost:
            self.lost = True
            log.error("job %s: no longer held by %s (taken back as stale); its result will be dropped",
                      self.job_id, self.worker)  # fmt: skip


def _inline_progress(obj: Job) -> tuple[Progress, Callable[[], tuple[int, int | None, str] | None]]:
    """Progress written on the caller's connection, for a job run inside a transaction (tests)."""
    last: list[Any] = [0.0, None]

    def progress(done: int, total: int | None, message: str = "") -> None:
        last[1] = (done, total, message[:300])
        now = time.monotonic()
        if now - last[0] < 0.5 and total is not None and done < total:
            return
        last[0] = now
        Job.objects.filter(pk=obj.pk).update(progress_done=done, progress_total=total, message=message[:300])

    return progress, lambda: last[1]


def _failure(obj: Job, exc: BaseException) -> tuple[str, dict[str, Any]]:
    """The people-facing code and parameters of an exception that ended a job."""
    if isinstance(exc, JobFailed):
        return exc.code, exc.params
    return job_messages.INTERNAL, {}


def run(obj: Job) -> Job:
    """Run a claimed job to its end; its status says how it ended."""
    fn = REGISTRY.get(obj.kind)
    beat: Heartbeat | None = None
    if connection.in_atomic_block:
        # Nobody else can see the job row before the caller commits: no heartbeat to write.
        progress, last_progress = _inline_progress(obj)
    else:
        beat = Heartbeat(obj, settings.XIEZUO_JOB_HEARTBEAT_SECONDS)
        beat.start()
        progress, last_progress = beat.progress, lambda: beat.last if beat else None
    fields: dict[str, Any]
    try:
        if fn is None:
            raise JobFailed(job_messages.UNKNOWN_KIND, kind=obj.kind)
        result = fn(obj, progress)
    except Exception as exc:  # a failed job is recorded, the worker goes on
        code, params = _failure(obj, exc)
        if code == job_messages.INTERNAL:
            log.exception("job %s (%s) failed", obj.pk, obj.kind)
        else:
            log.warning("job %s (%s) refused: %s %s", obj.pk, obj.kind, code, params)
        fields = {
            "status": Job.Status.FAILED,
            "error_code": code,
            "error_params": params,
            "message": job_messages.render_zh(code, {"job": obj.pk, **params})[:300],
            "error": "".join(traceback.format_exception(exc))[-4000:],
        }
    else:
        fields = {"status": Job.Status.DONE, "result": result}
    finally:
        if beat is not None:
            beat.stop()
    latest = last_progress()
    if latest is not None:
        fields.setdefault("message", latest[2])
        fields.update(progress_done=latest[0], progress_total=latest[1])
    mine = Job.objects.filter(pk=obj.pk, status=Job.Status.RUNNING, worker=obj.worker)
    if not mine.update(finished_at=timezone.now(), **fields):
        log.error(
            "job %s: taken back from %s while it ran; this run's outcome is dropped", obj.pk, obj.worker
        )
    obj.refresh_from_db()
    return obj


def work(*, once: bool = False, poll: float = 1.0, stop: Callable[[], bool] = lambda: False) -> int:
    """Run jobs until stopped (or until the queue is empty with ``once``); returns jobs run.

    Stale jobs are taken back on start and then every so often while polling.
    """
    import xiezuo.core.builtin_jobs  # noqa: F401  (registers the built-in kinds)

    me = worker_name()
    done = 0
    every = max(poll, settings.XIEZUO_JOB_STALE_SECONDS / 4)
    next_reclaim = 0.0
    while not stop():
        if time.monotonic() >= next_reclaim:
            try:
                reclaim_stale()
            except DatabaseError as exc:  # the database restarting: try again at the next poll
                log.warning("taking back stale jobs failed: %s", exc)
            next_reclaim = time.monotonic() + every
        try:
            obj = claim_next(me)
        except DatabaseError as exc:  # busy or restarting: the worker waits rather than dies
            log.warning("claiming a job failed: %s", exc)
            time.sleep(poll)
            continue
        if obj is None:
            if once:
                break
            time.sleep(poll)
            continue
        run(obj)
        done += 1
    return done
