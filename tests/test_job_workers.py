"""Jobs that survive their workers (ADR 0012), with real `xiezuo worker` processes on a database of
their own: killed with -9 mid-job, a job that kills its own worker, `--requeue-stale` beside a live
worker, and `xiezuo serve`'s supervisor restarting a dead worker."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import REPO, XIEZUO, fresh_database_url
from xiezuo.core.management.commands.serve import Supervisor

WORKER = [sys.executable, "-m", "tests.jobworker"]
HEARTBEAT = 0.2
STALE = 1.5


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a migrated database of its own, with a short heartbeat and stale age."""
    tmp = tmp_path_factory.mktemp("workers")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": fresh_database_url(tmp, "xiezuo_workers"),
            "XIEZUO_DATA_DIR": str(tmp / "data"),
            "DEBUG": "0",
            "SECRET_KEY": "worker-tests-" + "x" * 40,
            "XIEZUO_HMAC_KEY": "55" * 32,
            "XIEZUO_AES_KEY": "66" * 32,
            "DJANGO_SETTINGS_MODULE": "xiezuo.settings",
            "XIEZUO_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "XIEZUO_JOB_STALE_SECONDS": str(STALE),
            "PYTHONUNBUFFERED": "1",
        }
    )
    proc = subprocess.run(
        [*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield env


def enqueue(env: dict[str, str], kind: str, **params: Any) -> int:
    proc = subprocess.run(
        [*WORKER, "enqueue", kind, json.dumps(params)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return int(proc.stdout.strip().splitlines()[-1])


def worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WORKER, "worker", "--poll", "0.1", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


COLUMNS = "status, attempts, stale_reclaims, worker, heartbeat_at, result, error_code, message, progress_done"


def row(env: dict[str, str], pk: int) -> dict[str, Any]:
    """The job's row as the database holds it now (read apart from Django, whose test connection
    is on the suite's own database)."""
    url = env["DATABASE_URL"]
    query = f"SELECT {COLUMNS} FROM core_job WHERE id = %s"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as conn:
            values = list(conn.execute(query.replace("%s", "?"), (pk,)).fetchone())
        values[5] = json.loads(values[5])
    else:
        with psycopg.connect(url) as conn:
            values = list(conn.execute(query, (pk,)).fetchone() or ())
    return dict(zip([c.strip() for c in COLUMNS.split(",")], values, strict=True))


def wait_for(what: Callable[[], Any], timeout: float = 60.0, why: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s in vain: {why}")


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return out


def lines(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_job_whose_worker_is_killed_is_taken_back_and_done_exactly_once(
    site: dict[str, str], tmp_path: Path
) -> None:
    log, release = tmp_path / "runs.log", tmp_path / "release"
    pk = enqueue(site, "test.sleep", seconds=1, until=str(release), rows=30, log=str(log))
    first = worker(site)
    wait_for(lambda: lines(log) == ["start"], why="the first worker starts the job")
    beat = row(site, pk)["heartbeat_at"]
    wait_for(lambda: row(site, pk)["heartbeat_at"] != beat, why="the heartbeat moves on")
    # Progress shows while the job runs (written by the heartbeat thread).
    wait_for(lambda: row(site, pk)["progress_done"] > 0, why="progress shows")
    first.kill()
    first.wait()
    dead = row(site, pk)
    holder = f"{os.uname().nodename}:{first.pid}"
    assert (dead["status"], dead["attempts"], dead["worker"]) == ("running", 1, holder)

    release.touch()  # the next run may finish
    second = worker(site)
    done = wait_for(lambda: (r := row(site, pk))["status"] == "done" and r, why="the second worker runs it")
    out = stop(second)
    assert (done["attempts"], done["stale_reclaims"], done["error_code"]) == (2, 1, "")
    assert done["result"] == {"read": 30, "accepted": 30, "rejected": 0}
    assert done["worker"] == f"{os.uname().nodename}:{second.pid}"
    assert lines(log) == ["start", "start", "done"]  # run twice, finished once
    assert "stopped sending heartbeats; queued again (attempt 2 of 3)" in out


def test_a_job_that_kills_its_worker_twice_is_set_aside_and_the_queue_moves_on(
    site: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "runs.log"
    killer = enqueue(site, "test.kill_worker", log=str(log))
    after = enqueue(site, "test.note", log=str(log))
    # xiezuo serve's supervisor restarts the worker each time the job kills it.
    caplog.set_level(logging.WARNING, logger="xiezuo.serve")
    supervisor = Supervisor([*WORKER, "worker", "--poll", "0.1"], site)
    pids = [supervisor.proc.pid]
    try:
        deadline = time.monotonic() + 90
        while row(site, after)["status"] != "done" and time.monotonic() < deadline:
            supervisor.check()
            if supervisor.proc.pid != pids[-1]:
                pids.append(supervisor.proc.pid)
            time.sleep(0.1)
    finally:
        supervisor.stop()
    assert lines(log) == ["start", "start", "done"]
    set_aside = row(site, killer)
    assert (set_aside["status"], set_aside["attempts"], set_aside["stale_reclaims"]) == ("quarantined", 2, 2)
    assert set_aside["error_code"] == "quarantined" and set_aside["result"] == {}
    assert set_aside["message"].startswith("此任务已 2 次导致后台进程中止，已被隔离")
    assert (row(site, after)["status"], row(site, after)["attempts"]) == ("done", 1)
    assert len(pids) == 3 and supervisor.restarts == 2
    died = [r.getMessage() for r in caplog.records if "died with signal 9" in r.getMessage()]
    assert [m.split("(pid ")[1].split(")")[0] for m in died] == [str(p) for p in pids[:2]]


def test_requeue_stale_leaves_a_job_with_a_fresh_heartbeat_alone(site: dict[str, str], tmp_path: Path):
    log, release = tmp_path / "runs.log", tmp_path / "release"
    pk = enqueue(site, "test.sleep", seconds=0, until=str(release), log=str(log))
    live = worker(site)
    wait_for(lambda: lines(log) == ["start"], why="the worker starts the job")
    holder = row(site, pk)["worker"]
    time.sleep(STALE)  # longer than the stale age: only the heartbeat keeps the job its worker's
    proc = subprocess.run(
        [*WORKER, "worker", "--requeue-stale", "--once"], cwd=REPO, env=site, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "ran 0 job(s)"
    still = row(site, pk)
    assert (still["status"], still["worker"], still["attempts"], still["stale_reclaims"]) == (
        "running",
        holder,
        1,
        0,
    )
    release.touch()
    wait_for(lambda: row(site, pk)["status"] == "done", why="the live worker finishes it")
    stop(live)
    assert lines(log) == ["start", "done"]


def _children(pid: int) -> dict[int, str]:
    """Child processes of ``pid``: pid → command line."""
    found: dict[int, str] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                found[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except FileNotFoundError:
                pass
    return found


def _worker_of(serve: subprocess.Popen[str]) -> int | None:
    workers = [pid for pid, cmd in _children(serve.pid).items() if cmd.rstrip().endswith("xiezuo.cli worker")]
    return workers[0] if len(workers) == 1 else None


def test_serve_restarts_its_worker_when_it_is_killed(site: dict[str, str], tmp_path: Path) -> None:
    from tests.conftest import _free_port

    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [*XIEZUO, "serve", "--port", str(_free_port())],
            cwd=REPO,
            env=site,
            stdout=out,
            stderr=out,
            text=True,
        )
    try:
        first = wait_for(lambda: _worker_of(serve), why="serve starts a worker")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (pid := _worker_of(serve)) != first and pid, why="serve starts another")
        text = wait_for(lambda: "worker restarted" in (t := log.read_text()) and t, why="the log says so")
        assert f"xiezuo serve: worker (pid {first}) died with signal 9; restarting it in 1 s" in text
        assert f"xiezuo serve: worker restarted (pid {second})" in text
        assert serve.poll() is None  # the site runs on
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    assert serve.returncode is not None and not Path(f"/proc/{second}").exists()


def test_two_workers_share_a_queue_and_run_each_job_once(site: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    ids = [enqueue(site, "test.sleep", seconds=0.3, log=str(log)) for _ in range(8)]
    pair = [worker(site, "--once"), worker(site, "--once")]
    outs = [p.communicate(timeout=120)[0] for p in pair]
    assert [p.returncode for p in pair] == [0, 0], outs
    ran = [int(out.strip().splitlines()[-1].split()[1]) for out in outs]  # "ran N job(s)"
    assert sum(ran) == 8
    starts = sorted(int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("start"))
    assert starts == ids  # every job started exactly once
    assert {row(site, pk)["attempts"] for pk in ids} == {1} and {row(site, pk)["status"] for pk in ids} == {
        "done"
    }
    holders = {row(site, pk)["worker"] for pk in ids}
    assert holders <= {f"{os.uname().nodename}:{p.pid}" for p in pair}
