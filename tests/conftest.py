"""Shared test fixtures (DESIGN.md D13).

Browser tests (``@pytest.mark.browser``) share one live site started as a separate process: the
audit log table has triggers that forbid DELETE, so Django's LiveServerTestCase (which flushes the
tables) cannot be used. The site gets its own database: a file in a temporary directory on SQLite,
the database ``xiezuo_browser`` on the same server as ``DATABASE_URL`` on PostgreSQL. It is migrated,
then ``xiezuo testworld`` loads the test world and its users (password ``testpass-123``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parent.parent
XIEZUO = [sys.executable, "-m", "xiezuo.cli"]
TEST_PASSWORD = "testpass-123"
BROWSER_DATABASE = "xiezuo_browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Treat SIGTERM (bin/check or CI cancelling) like Ctrl-C, so that session fixtures tear down
    # and the live server process is not left behind.
    signal.signal(signal.SIGTERM, _interrupt)


# Modules whose tests start processes (workers, the demo, commands, kills), load big files or a
# PostgreSQL-sized registry: outside the fast lane (`bin/check --fast`), inside the default suite.
HEAVY_MODULES = frozenset(
    {
        "test_registry_committed",
        "test_demo",
        "test_cli_settings",
        "test_job_workers",
        "test_synth_registry",
        "test_sqlite_writer",
        "test_registry_sealer",
        "test_tabular_hostile",
        "test_tabular_fuzz",
    }
)
# Fixtures that start a live site or a browser: their tests are heavy wherever they are.
HEAVY_FIXTURES = frozenset({"live_server_url", "browser", "page"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of the fast lane's exclusions ``heavy`` (``-m "not heavy"`` leaves them out)."""
    for item in items:
        module = getattr(item, "module", None)
        name = module.__name__.rsplit(".", 1)[-1] if module is not None else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if name in HEAVY_MODULES or fixtures & HEAVY_FIXTURES or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the site's language: a test that switched to English (a request with
    ``Accept-Language: en``, ``translation.activate``) does not leave it on for the next one."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _browser_database_url(tmp: Path) -> str:
    """A fresh, empty database for the live site, next to the one the suite uses."""
    return fresh_database_url(tmp, BROWSER_DATABASE)


def fresh_database_url(tmp: Path, name: str) -> str:
    """A fresh, empty database ``name`` next to the one the suite uses (SQLite: a file in ``tmp``),
    for a process of its own that commits (the suite's tests run in transactions that roll back)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / (name + '.sqlite3')}"
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    params: dict[str, Any] = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname=str(db["NAME"]), autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlsplit(url)._replace(path=f"/{name}").geturl()


def _run_step(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"live server set-up step {what!r} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"live server exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(url + "/login/", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers; the status is the tests' business
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(
        f"live server not answering at {url} after {timeout:.0f} s:\n{log.read_text(errors='replace')}"
    )


@pytest.fixture(scope="session")
def live_site_base_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the live site's process starts with (its own database and keys); journeys
    use ``live_server_env``, which is the same once the site is migrated and running."""
    tmp = tmp_path_factory.mktemp("live-server")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _browser_database_url(tmp),
            "XIEZUO_DATA_DIR": str(tmp / "data"),
            "XIEZUO_SERVE_STATIC": "1",
            # As in production: DEBUG off (real 404 pages), keys given, cookies over plain http.
            "DEBUG": "0",
            "SECRET_KEY": "browser-tests-" + "x" * 40,
            "XIEZUO_HMAC_KEY": "11" * 32,
            "XIEZUO_AES_KEY": "22" * 32,
            "SESSION_COOKIE_SECURE": "0",
            "DJANGO_SETTINGS_MODULE": "xiezuo.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture(scope="session")
def live_server_url(live_site_base_env: dict[str, str]) -> Iterator[str]:
    """URL of the site running in its own process on its own database with the test world loaded."""
    env = live_site_base_env
    tmp = Path(env["XIEZUO_DATA_DIR"]).parent
    _run_step([*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"], env, "migrate")
    _run_step([*XIEZUO, "testworld"], env, "testworld")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "runserver.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*XIEZUO, "manage", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_http(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def live_server_env(live_server_url: str, live_site_base_env: dict[str, str]) -> dict[str, str]:
    """The live site's environment (database, keys), to run ``xiezuo`` commands against it
    (``xiezuo worker --once`` for the jobs a journey queued, ``xiezuo manage shell`` to read its
    database); the site is migrated and running."""
    return dict(live_site_base_env)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, shared by the session."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would then refuse ORM calls
    # made by the same test ("async unsafe"). The tests are synchronous, so this is safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: browser tests need Debian's chromium (bin/check installs it)"
        )
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        # While Playwright runs, Django's connection is looked up in another context (Playwright
        # switches greenlets, each with its own context variables), so the ORM calls of the browser
        # tests opened a second connection that nobody closed: PostgreSQL then refused to drop the
        # test database at the end ("being accessed by other users").
        from django.db import connections

        connections.close_all()
        pw.stop()


@pytest.fixture
def page(browser: Browser, live_server_url: str) -> Iterator[Page]:
    """A fresh page (own context, zh-CN) whose relative URLs go to the live site."""
    context = browser.new_context(locale="zh-CN", base_url=live_server_url)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def login(live_server_url: str) -> Callable[[Page, str], Page]:
    """``login(page, "username")``: sign in through the /login/ form with the test password."""

    def do_login(page: Page, username: str, password: str = TEST_PASSWORD) -> Page:
        page.goto(f"{live_server_url}/login/")
        form = page.locator("form:has(input[name=username])")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            form.locator("button[type=submit], input[type=submit]").first.click()
        if page.url.split("?")[0].rstrip("/").endswith("/login"):
            alerts = page.locator("[role=alert]").all_inner_texts()
            raise AssertionError(f"login as {username!r} failed; still on {page.url}: {alerts}")
        return page

    return do_login


# --- world fixtures (lead) ---
from tests.ledgers_world import registry_people  # noqa: E402,F401  (fixture for the ledger tests)
from tests.world import World, django_db_setup, world  # noqa: E402,F401
