"""Fixtures for the journeys (DESIGN.md D17): a person's weekly work walked through the UI only,
in zh-Hans, in headless Chromium against the shared live site (tests/conftest.py).

``journey`` watches the page and fails the test on any console error, page error, failed
request or HTTP 5xx from the site, so every journey gets that check by asking for the fixture::

    def test_something(journey: Journey, login: Login) -> None:
        page = login(journey.page, "chengdexian")
        ...

``live`` reads what the live site's database then holds, and makes API tokens, through the
``xiezuo`` command run with the site's own environment (the suite's database is another one).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Request, Response

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent.parent
XIEZUO = [sys.executable, "-m", "xiezuo.cli"]

Login = Callable[["Page", str], "Page"]


@dataclass
class Journey:
    """A page under watch: ``problems`` collects what went wrong on it while the test walked."""

    page: Page
    base_url: str
    problems: list[str] = field(default_factory=list)
    allowed_404: set[str] = field(default_factory=set)

    def watch(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)

    def _ignored(self, url: str) -> bool:
        return url.split("?")[0].endswith("/favicon.ico") or url in self.allowed_404

    def _console(self, msg: ConsoleMessage) -> None:
        where = msg.location.get("url", "")
        if (msg.type == "error" or msg.text.startswith("Refused to")) and not self._ignored(where):
            self.problems.append(f"console {msg.type}: {msg.text} ({where})")

    def _failed(self, request: Request) -> None:
        # a download ends its request as "aborted" in Chromium: not a failure
        if not self._ignored(request.url) and "net::ERR_ABORTED" not in str(request.failure):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        if not response.url.startswith(self.base_url):
            return
        if response.status >= 500 or (
            response.status >= 400 and "/static/" in response.url and not self._ignored(response.url)
        ):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture
def journey(page: Page, live_server_url: str) -> Iterator[Journey]:
    """The test's page, watched; the test fails at the end on any console error or 5xx."""
    j = Journey(page=page, base_url=live_server_url)
    j.watch()
    yield j
    assert j.problems == []


class Live:
    """The live site's side: its database read through ``xiezuo manage shell`` and API tokens."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [*XIEZUO, *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120, input=stdin
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout

    def query(self, code: str) -> Any:
        """Run Python in the live site's Django; ``code`` assigns ``out``, returned as JSON data."""
        script = f"import json\n{code}\nprint(json.dumps(out, default=str, ensure_ascii=False))"
        return json.loads(self.run("manage", "shell", "-v", "0", "-c", script).strip().splitlines()[-1])

    def token(self, username: str) -> str:
        return self.run("tokens", "create", "--user", username, "--name", "journey").strip()


@pytest.fixture
def live(live_server_env: dict[str, str]) -> Live:
    return Live(live_server_env)
