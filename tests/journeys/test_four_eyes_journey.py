"""Four eyes on a reporting period (issue 21 item 2): 小王 of 承德县 holds both the clerk's and the
county coordinator's grant. She submits the 2018 training-session period, tries to review it herself
and is refused in Chinese; 承德市's coordinator reviews; the national coordinator approves. Through
the UI only, in zh-Hans; the live site's database is then read for who took which step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import TEST_PASSWORD
from tests.journeys.conftest import Journey, Live, Login

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ROW = 'tr[data-period="training_sessions-0"]'
REFUSED_ZH = "双人复核：您已办理本期间的前一步，本步须由另一名工作人员办理。"


@pytest.fixture
def another(browser: Browser, live_server_url: str) -> Iterator[list[Journey]]:
    """Pages of other officials, in their own browser contexts, watched like the journey's page."""
    opened: list[Journey] = []
    contexts = []

    def _open() -> Journey:
        context = browser.new_context(locale="zh-CN", base_url=live_server_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        j = Journey(page=context.new_page(), base_url=live_server_url)
        j.watch()
        opened.append(j)
        return j

    yield [_open(), _open()]
    for context in contexts:
        context.close()
    assert [p for j in opened for p in j.problems] == []


def _periods(page: Page, pairing: int) -> None:
    page.goto(f"/ledgers/periods/?pairing={pairing}&year=2018")


def _step(page: Page, label: str) -> None:
    row = page.locator(ROW)
    button = row.locator('button[formaction$="/advance/"]')
    assert button.inner_text().strip() == label
    with page.expect_navigation():
        button.click()


def test_one_official_submits_another_reviews_a_third_approves(
    journey: Journey, login: Login, live: Live, another: list[Journey]
) -> None:
    live.run(
        "users",
        "create",
        "xiaowang",
        "--role",
        "county_clerk",
        "--region",
        "130821",
        "--password-stdin",
        stdin=TEST_PASSWORD + "\n",
    )
    live.run("users", "create", "xiaowang", "--role", "helped_coordinator", "--region", "130821")
    pairing: int = live.query(
        "from xiezuo.pairings.models import Pairing\n"
        "out = Pairing.objects.get(level='county-county', sides__side='helped', "
        "sides__region_code=130821000000).pk"
    )

    page = login(journey.page, "xiaowang")
    _periods(page, pairing)
    assert page.locator(ROW).get_attribute("data-state") == "open"
    _step(page, "县级填报提交")
    assert page.locator(ROW).get_attribute("data-state") == "submitted"
    # her county coordinator grant offers her the review; four eyes refuses it (a 403 page, which
    # the browser reports on its console: expected here, and only here)
    journey.allowed_404.add(f"{journey.base_url}/ledgers/periods/advance/")
    _step(page, "县级审核")
    refusal = page.locator("[data-refused]")
    assert refusal.inner_text().strip() == REFUSED_ZH
    assert refusal.get_attribute("data-code") == "four_eyes_earlier_step"
    with page.expect_navigation():
        page.get_by_role("link", name="返回").click()
    assert page.locator(ROW).get_attribute("data-state") == "submitted"
    assert "1/3" in page.locator(ROW).inner_text()

    reviewer = login(another[0].page, "chengde")
    _periods(reviewer, pairing)
    _step(reviewer, "县级审核")
    assert "2/3" in reviewer.locator(ROW).inner_text()

    approver = login(another[1].page, "national")
    _periods(approver, pairing)
    _step(approver, "市（州）审定")
    assert approver.locator(ROW).get_attribute("data-locked") is not None

    steps = live.query(
        "from xiezuo.ledgers.models import Period, PeriodAction\n"
        f"p = Period.objects.get(ledger='training_sessions', pairing_id={pairing}, year=2018)\n"
        "out = [p.state, p.step, p.locked, "
        "list(PeriodAction.objects.filter(period=p).values_list('action', 'actor__username'))]"
    )
    assert steps == [
        "approved",
        3,
        True,
        [["submit", "xiaowang"], ["review", "chengde"], ["approve", "national"]],
    ]
