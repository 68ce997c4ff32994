"""The journeys' watch itself: a 5xx from the site and a console error are caught."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.journeys.conftest import Journey

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser


def test_the_watch_catches_a_server_error_and_a_console_error(page: Page, live_server_url: str) -> None:
    watched = Journey(page=page, base_url=live_server_url)
    watched.watch()

    def fail(route: Route) -> None:
        route.fulfill(status=500, body="<p>boom</p>", content_type="text/html")

    page.route(f"{live_server_url}/boom/", fail)
    page.goto("/boom/")
    page.evaluate("console.error('something broke')")
    page.goto("/login/")  # a page that works adds nothing
    assert watched.problems == [
        f"HTTP 500: GET {live_server_url}/boom/",
        "console error: Failed to load resource: the server responded with a status of 500 "
        f"(Internal Server Error) ({live_server_url}/boom/)",
        "console error: something broke ()",
    ]
