"""The production server and its configuration check, as real processes (ADR 0017).

`xiezuo serve` runs gunicorn with the job worker beside it, WhiteNoise serves the collected static
files, SIGTERM stops everything; `serve --dev` runs Django's development server; `xiezuo
check-deploy` passes with the settings of the production guide (.env.example) and names each bad
setting.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, XIEZUO, _free_port, _run_step, fresh_database_url
from xiezuo.env import read_settings_file

MAP_APPROVAL = "审图号：GS(2024)0650号"


@pytest.fixture(scope="module")
def site_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Production settings on plain http behind a pretend nginx, a migrated database and the static
    files collected, shared by the module."""
    tmp = tmp_path_factory.mktemp("production")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": fresh_database_url(tmp, "xiezuo_serve"),
            "XIEZUO_DATA_DIR": str(tmp / "data"),
            "STATIC_ROOT": str(tmp / "static"),
            "DEBUG": "0",
            "XIEZUO_DEMO": "0",
            "SECRET_KEY": "serve-tests-" + "s" * 50,
            "XIEZUO_HMAC_KEY": "33" * 32,
            "XIEZUO_AES_KEY": "44" * 32,
            "ALLOWED_HOSTS": "127.0.0.1",
            "XIEZUO_PROXY_SSL_HEADER": "1",
            "XIEZUO_WEB_WORKERS": "2",
            "XIEZUO_WEB_THREADS": "2",
            "DJANGO_SETTINGS_MODULE": "xiezuo.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    _run_step([*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"], env, "migrate")
    _run_step([*XIEZUO, "manage", "collectstatic", "--no-input", "-v", "0"], env, "collectstatic")
    return env


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


HTTPS = {"X-Forwarded-Proto": "https"}  # what nginx sends


def _wait(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            _get(port, "/login/", HTTPS)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"not answering after 90 s:\n{log.read_text(errors='replace')}")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> dict[int, str]:
    """pid → command line of every live process under ``pid``."""
    tree, out, todo = _children(), {}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            try:
                cmd = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out[child] = cmd.strip()
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def served(site_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], int, Path, dict[str, str]]]:
    env = site_env
    port = _free_port()
    log = Path(env["XIEZUO_DATA_DIR"]).parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*XIEZUO, "serve", "--port", str(port)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait(port, proc, log)
        yield proc, port, log, env
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serve_runs_gunicorn_and_the_worker_and_stops_cleanly_on_sigterm(
    served: tuple[subprocess.Popen[bytes], int, Path, dict[str, str]],
) -> None:
    proc, port, log, env = served
    # the process tree: gunicorn's arbiter with two workers, and the job worker
    tree = _descendants(proc.pid)
    gunicorns = {p: cmd for p, cmd in tree.items() if "-m gunicorn xiezuo.wsgi:application" in cmd}
    arbiters = [p for p in gunicorns if _children_of(p, tree)]
    assert len(arbiters) == 1, tree
    assert len(_children_of(arbiters[0], tree)) == 2, tree
    assert [cmd.split(" ", 1)[1] for cmd in tree.values() if cmd.endswith("-m xiezuo.cli worker")] == [
        "-m xiezuo.cli worker"
    ]
    assert "Starting gunicorn 27.0.1" in log.read_text()

    # the login page in Chinese, through gunicorn, over "HTTPS" as nginx forwards it
    status, headers, body = _get(port, "/login/", HTTPS)
    page = body.decode()
    assert (status, headers["server"]) == (200, "gunicorn")
    assert '<html lang="zh-hans">' in page and "登录" in page
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    # plain http is sent to HTTPS
    status, headers, _ = _get(port, "/login/")
    assert (status, headers["location"]) == (301, f"https://127.0.0.1:{port}/login/")

    # a static asset under its hashed name, compressed, cached for ten years
    href = re.search(r'href="(/static/xiezuo/site\.[0-9a-f]{12}\.css)"', page)
    assert href, page[:2000]
    status, headers, body = _get(port, href.group(1), {**HTTPS, "Accept-Encoding": "gzip"})
    assert (status, headers["cache-control"], headers["content-encoding"]) == (
        200,
        "max-age=315360000, public, immutable",
        "gzip",
    )
    assert body[:2] == b"\x1f\x8b"

    # a queued job runs in the worker beside the site
    script = (
        "import json, time\n"
        "from xiezuo.core.jobs import enqueue\nfrom xiezuo.core.scope import SYSTEM\n"
        "from xiezuo.regions.models import Region\n"
        "job = enqueue(actor=SYSTEM, kind='regions.load', params={'level': 'county'}, via='cli')\n"
        "for _ in range(600):\n"
        "    job.refresh_from_db()\n"
        "    if job.status not in ('queued', 'running'): break\n"
        "    time.sleep(0.2)\n"
        "print(json.dumps([job.status, job.worker.split(':')[-1] if job.worker else '', "
        "[Region.objects.filter(level=n).count() for n in (1, 2, 3)]]))\n"
    )
    done = subprocess.run([*XIEZUO, "manage", "shell", "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=180, check=True)  # fmt: skip
    status_, worker, counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert (status_, counts) == ("done", [31, 342, 2978]), done.stderr
    assert [str(p) for p, cmd in tree.items() if cmd.endswith("-m xiezuo.cli worker")] == [worker]

    # SIGTERM: gunicorn and the worker stop, nothing is left behind
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in tree if _alive(p)] == []
    assert "Shutting down: Master" in log.read_text()


def _children_of(pid: int, tree: dict[int, str]) -> list[int]:
    parents = _children()
    return [c for c in parents.get(pid, []) if c in tree]


def test_serve_dev_runs_the_development_server(site_env: dict[str, str]) -> None:
    env = site_env
    port = _free_port()
    log = Path(env["XIEZUO_DATA_DIR"]).parent / "serve-dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*XIEZUO, "serve", "--dev", "--port", str(port)], cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        _wait(port, proc, log)
        status, headers, body = _get(port, "/login/", HTTPS)
        assert status == 200 and headers["server"].startswith("WSGIServer/"), headers
        assert "登录" in body.decode()
        assert not any("gunicorn" in cmd for cmd in _descendants(proc.pid).values())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _guide_env(site_env: dict[str, str]) -> dict[str, str]:
    """The production guide's settings: .env.example with its keys generated and the map approval
    number filled in, as the guide tells the administrator to do."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    env.update(read_settings_file(REPO / ".env.example"))
    env.update(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "XIEZUO_HMAC_KEY": secrets.token_hex(32),
            "XIEZUO_AES_KEY": secrets.token_hex(32),
            "XIEZUO_MAP_APPROVAL": MAP_APPROVAL,
            # the guide's folders, here in a temporary directory: the collected static files
            "XIEZUO_DATA_DIR": str(Path(site_env["XIEZUO_DATA_DIR"]).parent / "guide-data"),
            "STATIC_ROOT": site_env["STATIC_ROOT"],
        }
    )
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XIEZUO, "check-deploy"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_the_guide_settings(site_env: dict[str, str]) -> None:
    run = _check_deploy(_guide_env(site_env))
    assert (run.returncode, run.stdout, run.stderr) == (0, "xiezuo check-deploy: OK\n", "")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"DEBUG": "1"}, ["DEBUG"]),
        ({"XIEZUO_DEMO": "1"}, ["XIEZUO_DEMO"]),
        ({"SECRET_KEY": None}, ["SECRET_KEY"]),
        ({"SECRET_KEY": "replace-with-output-of-secrets.token_hex-32"}, ["SECRET_KEY"]),
        ({"XIEZUO_AES_KEY": "SAME"}, ["XIEZUO_AES_KEY"]),
        ({"SECRET_KEY": "SAME"}, ["XIEZUO_HMAC_KEY"]),
        ({"XIEZUO_HMAC_KEY": "replace-with-64-hex-characters"}, ["XIEZUO_HMAC_KEY"]),
        ({"ALLOWED_HOSTS": None}, ["ALLOWED_HOSTS"]),
        ({"ALLOWED_HOSTS": "*"}, ["ALLOWED_HOSTS"]),
        ({"SESSION_COOKIE_SECURE": "0"}, ["SESSION_COOKIE_SECURE"]),
        ({"CSRF_COOKIE_SECURE": "0"}, ["CSRF_COOKIE_SECURE"]),
        ({"SECURE_SSL_REDIRECT": "0"}, ["SECURE_SSL_REDIRECT"]),
        ({"SECURE_HSTS_SECONDS": "0"}, ["SECURE_HSTS_SECONDS"]),
        ({"XIEZUO_PROXY_SSL_HEADER": "0"}, ["XIEZUO_PROXY_SSL_HEADER"]),
        ({"XIEZUO_MAP_APPROVAL": None}, ["XIEZUO_MAP_APPROVAL"]),
        ({"XIEZUO_MAP_APPROVAL": "审图号：GS(20XX)XXXX号"}, ["XIEZUO_MAP_APPROVAL"]),
        ({"STATIC_ROOT": "/nonexistent/static"}, ["STATIC_ROOT"]),
    ],
    ids=lambda v: "-".join(f"{k}={v[k]}" for k in v)[:40] if isinstance(v, dict) else None,
)
def test_check_deploy_names_each_bad_setting(
    site_env: dict[str, str], changes: dict[str, str | None], named: list[str]
) -> None:
    env = _guide_env(site_env)
    for name, value in changes.items():
        if value == "SAME":
            env[name] = env["XIEZUO_HMAC_KEY"]
        elif value is None:
            env.pop(name)
        else:
            env[name] = value
    run = _check_deploy(env)
    assert run.returncode == 1, (run.stdout, run.stderr)
    lines = (run.stdout + run.stderr).strip().splitlines()
    if changes == {"SECRET_KEY": None}:
        # a missing key stops the settings before any check: one line naming it
        assert lines == [
            "xiezuo: SECRET_KEY is required when DEBUG and XIEZUO_DEMO are off: set it in the environment "
            "(see .env.example), or run `bin/xiezuo demo` for a demo"
        ]
        return
    problems = [line for line in lines if not line.startswith("xiezuo check-deploy:")]
    assert [line.split(":", 1)[0] for line in problems] == named, lines
    assert lines[-1] == f"xiezuo check-deploy: {len(named)} problem(s)"
    # Chinese first, then English
    assert re.search(r"[\u4e00-\u9fff].* / [A-Za-z]", problems[0]), problems[0]
