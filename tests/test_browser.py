"""End-to-end tests in headless Chromium against the shared live site (DESIGN.md D2, D11, D13, D14).

The live site runs in its own process on its own database, loaded by ``xiezuo testworld`` with the
same test world the suite's database holds (``tests/world.py``), so what a user may see is
computed here from the suite's database and compared with what the browser shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from django.conf import settings

from tests.world import World
from xiezuo.pairings.models import Pairing, PairingSide
from xiezuo.pairings.selectors import pairings_for
from xiezuo.regions import selectors as region_selectors
from xiezuo.regions.models import RegionFlag
from xiezuo.synth import foundation

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

pytestmark = pytest.mark.browser

Login = Callable[["Page", str], "Page"]

PAIRING_LINKS = "table[data-pairings] tbody tr td:first-child a"
NAV = "#xz-nav"


class Watch:
    """Collects console errors, CSP refusals, page errors and failed same-site requests of a page."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.base_url = base_url
        self.problems: list[str] = []
        self.expected_404: set[str] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _ignored(self, url: str) -> bool:
        return url.split("?")[0].endswith("/favicon.ico") or url in self.expected_404

    def _console(self, msg: ConsoleMessage) -> None:
        where = msg.location.get("url", "")
        if (msg.type == "error" or msg.text.startswith("Refused to")) and not self._ignored(where):
            self.problems.append(f"console {msg.type}: {msg.text} ({where})")

    def _failed(self, request: Request) -> None:
        if not self._ignored(request.url):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Response) -> None:
        url = response.url
        if url.startswith(f"{self.base_url}/static/") and response.status >= 400 and not self._ignored(url):
            self.problems.append(f"HTTP {response.status}: {url}")


@pytest.fixture
def watch(page: Page, live_server_url: str) -> Iterator[Watch]:
    """Watch the page; the test fails at the end if anything went wrong on it."""
    watcher = Watch(page, live_server_url)
    yield watcher
    assert watcher.problems == []


def open_page(page: Page, path: str, status: int = 200) -> Response:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path}: HTTP {response.status}"
    return response


def listed_pairings(page: Page) -> dict[str, str]:
    """Name → detail link of every pairing in the list, following the pages."""
    open_page(page, "/pairings/")
    total = int(page.locator("[data-total]").get_attribute("data-total") or "")
    found: dict[str, str] = {}
    names: list[str] = []
    number = 1
    while len(names) < total:
        if number > 1:
            open_page(page, f"/pairings/?page={number}")
        links = page.locator(PAIRING_LINKS)
        assert links.count() > 0
        for i in range(links.count()):
            link = links.nth(i)
            name = link.inner_text().strip()
            names.append(name)
            found[name] = link.get_attribute("href") or ""
        number += 1
    assert len(names) == total == len(found), "a pairing listed twice"
    if total == 0:
        assert page.locator("table[data-pairings]").count() == 0
    return found


def visible_names(username: str) -> list[str]:
    from django.contrib.auth.models import User

    return sorted(pairings_for(User.objects.get(username=username)).values_list("name", flat=True))


def pk_free(text: str) -> str:
    """Page text with pairing ids blanked (Django's DEBUG 404 page repeats the requested path)."""
    return re.sub(r"pairings/\d+/", "pairings/<pk>/", text)


def nav_link(page: Page, path: str) -> str:
    return page.locator(f'{NAV} a.nav-link[href="{path}"]').inner_text().strip()


# --- 1. log in ----------------------------------------------------------------------------------


def test_login_page_is_chinese_refuses_a_wrong_password_and_lands_on_home(page: Page, watch: Watch) -> None:
    open_page(page, "/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.title() == "登录 · 东西部协作信息系统"
    form = page.locator("form:has(input[name=username])")
    submit = form.locator("button[type=submit]")
    assert submit.count() == 1
    assert submit.inner_text().strip() == "登录"
    assert page.locator("label[for=id_username]").inner_text().strip() == "用户名"
    form.locator("input[name=username]").fill("chengde")
    form.locator("input[name=password]").fill("wrong-password")
    with page.expect_navigation() as nav:
        submit.click()
    assert nav.value is not None and nav.value.status == 200
    assert page.url.endswith("/login/")
    alert = page.locator(".xz-login-card [role=alert]")
    assert alert.count() == 1
    assert alert.inner_text().strip() == "用户名或密码错误。"
    assert form.locator("input[name=username]").input_value() == "chengde"
    assert form.locator("input[name=password]").input_value() == ""

    form.locator("input[name=password]").fill(foundation.WORLD_PASSWORD)
    with page.expect_navigation():
        submit.click()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", page.url)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator(".xz-user").inner_text().strip() == "chengde"
    assert page.title() == "首页 · 东西部协作信息系统"
    assert page.locator(f'{NAV} a.nav-link.active[aria-current="page"]').get_attribute("href") == "/"


# --- 2. scope of the pairing list -----------------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["national", "tianjin", "chengde", "chengdexian", "weichang", "viewer", "ningbo", "auditor"]
)
def test_pairing_list_shows_exactly_the_pairings_in_scope(
    page: Page, login: Login, world: World, watch: Watch, username: str
) -> None:
    expected = visible_names(username)
    login(page, username)
    assert sorted(listed_pairings(page)) == expected


def test_the_scope_sets_of_the_test_world_are_what_the_accounts_promise(world: World) -> None:
    """Guards the test above against a world in which every account sees the same thing."""
    provincial = world.provincial.name
    county = world.pairing("120110", "130821").name
    other_county = world.pairing("120111", "130881").name
    national = visible_names("national")
    assert len(national) == Pairing.objects.count() > 31
    assert {provincial, county, other_county} <= set(visible_names("chengde"))
    assert county in visible_names("chengdexian") and other_county not in visible_names("chengdexian")
    assert provincial not in visible_names("ningbo") and visible_names("ningbo")
    assert visible_names("viewer") == visible_names("chengde")


def test_a_pairing_out_of_scope_is_the_same_404_as_a_missing_one(
    browser: Browser, page: Page, login: Login, world: World, live_server_url: str
) -> None:
    provincial = world.provincial.name
    other_county = world.pairing("120111", "130881").name
    login(page, "national")
    links = listed_pairings(page)
    missing = max(int(href.strip("/").split("/")[-1]) for href in links.values()) + 1000

    for username, name in [("ningbo", provincial), ("chengdexian", other_county)]:
        context = browser.new_context(locale="zh-CN", base_url=live_server_url)
        try:
            other = login(context.new_page(), username)
            hidden = open_page(other, links[name], status=404)
            hidden_body = pk_free(other.locator("body").inner_text())
            assert name not in other.content()
            absent = open_page(other, f"/pairings/{missing}/", status=404)
            assert hidden.headers.get("content-type") == absent.headers.get("content-type")
            assert hidden_body == pk_free(other.locator("body").inner_text())
        finally:
            context.close()


# --- 3. audit log -------------------------------------------------------------------------------


def test_auditor_sees_the_audit_log_and_a_clerk_does_not(page: Page, login: Login, watch: Watch) -> None:
    login(page, "auditor")
    audit_link = page.locator(f'{NAV} a.nav-link[href="/audit/"]')
    assert audit_link.count() == 1
    assert audit_link.inner_text().strip() == "审计日志"
    with page.expect_navigation():
        audit_link.click()
    assert page.url.endswith("/audit/")
    rows = page.locator("table.xz-audit tbody tr")
    assert rows.count() > 1
    newest = rows.first.locator("td")
    # The newest entry is the auditor's own login (national entries need a whole-country grant).
    assert newest.nth(2).inner_text().strip() == "auditor"
    assert newest.nth(3).inner_text().strip() == "login"
    assert newest.nth(6).inner_text().strip() == "web"

    page.context.clear_cookies()
    login(page, "chengdexian")
    assert page.locator(f'{NAV} a.nav-link[href="/audit/"]').count() == 0
    assert page.locator(f'{NAV} a.nav-link[href="/jobs/"]').count() == 1
    watch.expected_404.add(f"{watch.base_url}/audit/")
    open_page(page, "/audit/", status=404)
    assert page.locator("table.xz-audit").count() == 0
    assert "审计日志" not in page.locator("body").inner_text()


# --- 4. map, and no console errors or CSP refusals on the main pages -----------------------------


def test_pairing_map_draws_with_the_approval_number(
    page: Page, login: Login, world: World, watch: Watch
) -> None:
    count = len(visible_names("national"))
    login(page, "national")
    open_page(page, "/pairings/map/")
    map_el = page.locator("[data-map]")
    assert map_el.count() == 1
    canvas = page.locator('[data-map][data-map-ready="1"] canvas').first
    canvas.wait_for(state="visible")
    assert page.locator("[data-map][data-map-error]").count() == 0
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # Wait until the base map has really been painted (some opaque pixels on the canvas).
    page.wait_for_function(
        """(el) => {
            const ctx = el.getContext("2d");
            const data = ctx.getImageData(0, 0, el.width, el.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 64) { if (data[i] > 0) { painted++; } }
            return painted > 1000;
        }""",
        arg=canvas.element_handle(),
    )
    approval = page.locator("[data-map-approval]")
    assert settings.XIEZUO_MAP_APPROVAL == "演示底图，未经审图（GS 审图号待配置）"
    assert settings.XIEZUO_MAP_APPROVAL in approval.inner_text()
    assert approval.inner_text().startswith(f"审图号：{settings.XIEZUO_MAP_APPROVAL} · ")
    assert page.locator("h1.xz-title").inner_text().strip() == "结对关系地图"
    assert str(count) in page.locator(".xz-lead").first.inner_text()


def test_main_pages_have_no_console_errors_csp_refusals_or_failed_assets(
    page: Page, login: Login, world: World, watch: Watch
) -> None:
    county = world.pairing("120110", "130821").name
    login(page, "chengde")
    links = listed_pairings(page)
    for path in ["/", "/pairings/", links[county], "/pairings/map/", "/regions/", "/regions/130821/"]:
        open_page(page, path)
        page.wait_for_load_state("networkidle")
        if page.locator("[data-map]").count():
            page.locator('[data-map][data-map-ready="1"]').wait_for(state="attached")
        assert watch.problems == [], path
    # The detail page of the county pair draws its own compact map.
    open_page(page, links[county])
    assert page.locator("h1.xz-title").inner_text().strip() == county
    page.locator('[data-map][data-map-ready="1"] canvas').first.wait_for(state="visible")


# --- 5. region browser --------------------------------------------------------------------------


def test_region_search_detail_and_tree(page: Page, login: Login, world: World, watch: Watch) -> None:
    user = world.user("chengdexian")
    visible = region_selectors.regions_for(user)
    by_name = sorted((r.name, r.short_code) for r in region_selectors.search(visible, "承德县"))
    county = region_selectors.region_by_short_code(visible, "130821")
    assert county is not None
    flag = RegionFlag.objects.get(region=county, flag="poverty_county")
    assert flag.value == "2018"
    low, high = county.subtree
    chain = region_selectors.ancestors(county)
    scoped = pairings_for(user)
    within = scoped.filter(
        pk__in=PairingSide.objects.filter(region_code__gte=low, region_code__lt=high).values("pairing_id")
    )
    above = scoped.filter(pk__in=PairingSide.objects.filter(region__in=chain).values("pairing_id"))
    expected_pairings = sorted(
        {*within.values_list("name", flat=True), *above.values_list("name", flat=True)}
    )
    # 承德县's clerk does not see 天津 → 承德: the grant on 130821 does not contain 承德市 (D2).
    assert world.provincial.name not in expected_pairings
    assert world.pairing("120110", "130821").name in expected_pairings
    flags_expected = sorted(RegionFlag.objects.filter(region=county).values_list("flag", flat=True))

    login(page, "chengdexian")
    open_page(page, "/regions/")
    for query, expected in [("承德县", by_name), ("130821", [("承德县", "130821")])]:
        page.locator("#region-q").fill(query)
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        assert page.locator("#region-q").input_value() == query
        rows = page.locator("table[data-results] tbody tr")
        got = sorted(
            (
                rows.nth(i).locator("td").nth(0).inner_text().strip(),
                rows.nth(i).locator("td").nth(1).inner_text().strip(),
            )
            for i in range(rows.count())
        )
        assert got == expected, query

    with page.expect_navigation():
        page.locator("table[data-results] tbody a", has_text="承德县").click()
    assert page.url.endswith("/regions/130821/")
    assert page.locator("h1.xz-title").inner_text().split() == ["承德县", "130821"]
    crumbs = page.locator(".xz-breadcrumb .breadcrumb-item a").all_inner_texts()
    assert crumbs[1:] == ["河北省", "承德市"]
    flag_rows = page.locator("table[data-flags] tbody tr")
    assert sorted(flag_rows.evaluate_all("rows => rows.map(r => r.dataset.flag)")) == flags_expected
    poverty = page.locator('table[data-flags] tr[data-flag="poverty_county"] td')
    assert poverty.nth(0).inner_text().strip() == "国家扶贫开发工作重点县"
    assert poverty.nth(1).inner_text().strip() == "2018"
    assert "摘帽" in poverty.nth(3).inner_text()
    listed = page.locator("table[data-region-pairings] tbody tr td:first-child a").all_inner_texts()
    assert sorted(name.strip() for name in listed) == expected_pairings

    # The tree: opening a province loads its prefectures through the htmx children partial.
    open_page(page, "/regions/")
    hebei = page.locator("details:has(> summary > a[href='/regions/13/'])")
    assert hebei.locator(".xz-tree-children a").count() == 0
    with page.expect_response(lambda r: r.url.endswith("/regions/13/children/")) as partial:
        hebei.locator("> summary .xz-code").click()
    assert partial.value.status == 200
    prefectures = hebei.locator("> .xz-tree-children > ul > li > details > summary > a")
    prefectures.first.wait_for()
    expected_prefectures = [
        r.name
        for r in region_selectors.children_of(visible, region_selectors.region_by_short_code(visible, "13"))
    ]
    assert [t.strip() for t in prefectures.all_inner_texts()] == expected_prefectures
    assert "承德市" in expected_prefectures
    assert page.url.endswith("/regions/")


# --- 6. language switch -------------------------------------------------------------------------


def test_language_switch_to_english_and_back(page: Page, login: Login, watch: Watch) -> None:
    login(page, "chengde")
    chinese = {path: nav_link(page, path) for path in ["/", "/pairings/", "/regions/", "/jobs/"]}
    english_button = page.locator("form.xz-lang button[value=en]")
    assert english_button.inner_text().strip() == "EN"
    with page.expect_navigation():
        english_button.click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert {path: nav_link(page, path) for path in chinese} == {
        "/": "Home",
        "/pairings/": "Pairings",
        "/regions/": "Regions",
        "/jobs/": "Jobs",
    }
    assert page.locator("form.xz-lang button[value=en]").get_attribute("aria-pressed") == "true"
    # The choice sticks on the next page.
    open_page(page, "/pairings/")
    assert page.locator("h1.xz-title").inner_text().strip() == "Pairings"

    with page.expect_navigation():
        page.locator("form.xz-lang button[value=zh-hans]").click()
    assert page.url.endswith("/pairings/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("form.xz-lang button[value=zh-hans]").get_attribute("aria-pressed") == "true"
    assert chinese == {"/": "首页", "/pairings/": "结对关系", "/regions/": "行政区划", "/jobs/": "后台任务"}
    assert {path: nav_link(page, path) for path in chinese} == chinese
    assert page.locator("h1.xz-title").inner_text().strip() == "结对关系"


# --- 7. no demo banner in the test world ----------------------------------------------------------


def test_the_test_world_shows_no_demo_banner(page: Page, login: Login, watch: Watch) -> None:
    login(page, "viewer")
    assert page.locator("[data-demo-banner]").count() == 0
    assert page.locator(".xz-footer-demo").count() == 0


# --- 8. jobs --------------------------------------------------------------------------------------


def test_jobs_page_of_a_user_without_jobs_shows_the_empty_state(
    page: Page, login: Login, watch: Watch
) -> None:
    # A viewer queues nothing; the county clerk's journeys (tests/journeys/) queue imports on the
    # shared live site, so the clerk is no longer "a user without jobs".
    login(page, "viewer")
    open_page(page, "/jobs/")
    assert page.locator("main table").count() == 0
    empty = page.locator("main .xz-card .card-body p.text-muted")
    assert empty.count() == 1
    assert empty.inner_text().strip() == "没有可显示的后台任务。"
    assert page.locator("h1.xz-title").inner_text().strip() == "后台任务"
    assert page.locator(f'{NAV} a.nav-link.active[href="/jobs/"]').count() == 1


# --- 8. cooperation ledgers ---------------------------------------------------------------------


def test_a_clerk_enters_a_placement_by_form_sees_the_check_and_the_pairing_figures(
    page: Page, login: Login, world: World, watch: Watch
) -> None:
    import datetime as dt

    from xiezuo.synth.ledgers import id_number

    county = world.pairing("120110", "130821").name
    nobody = id_number("130821", dt.date(1990, 1, 2), 17)  # valid, but in no registry
    login(page, "chengdexian")
    open_page(page, "/ledgers/")
    page.locator('[data-ledger="placements"] a').click()
    page.get_by_role("link", name="新增记录").click()
    page.select_option("#id_pairing", label=county)
    page.fill("#id_year", "2019")
    page.fill("#id_id_number", nobody)
    page.fill("#id_employer", "天津浏览器测试有限公司")
    page.fill("#id_workplace_region", "120110")
    page.fill("#id_start", "2019-03-01")
    page.select_option("#id_arrangement", value="organised")
    page.fill("#id_monthly_wage_fen", "3500.5")
    page.get_by_role("button", name="保存").click()
    page.locator("[data-people]").wait_for()
    assert page.locator("[data-check]").get_attribute("data-check") == "fail"
    assert "不在建档立卡库中" in page.locator("[data-people]").inner_text()
    assert nobody[:6] + "**********" + nobody[-2:] in page.locator("[data-people]").inner_text()
    assert "3,500.50" in page.locator("[data-fields]").inner_text()
    open_page(page, "/ledgers/placements/?year=2019")
    assert page.locator("[data-record][data-flagged]").count() == 1
    # The pairing's figures for 2019: one placement entered, none verified.
    open_page(page, "/pairings/")
    page.get_by_role("link", name=county).first.click()
    page.locator('[data-map][data-map-ready="1"]').wait_for(state="attached")  # let the map finish loading
    page.locator("[data-rollup]").click()
    page.get_by_role("link", name="2019").click()
    assert page.locator("h1.xz-title").inner_text().startswith(county)
    assert page.locator('[data-metric^="placements."]').count() == 2
    assert watch.problems == []
