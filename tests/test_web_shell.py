"""The web shell: login and its throttling, logout, CSP, the demo banner, jobs, audit and public pages.

Personas: Alice is a county clerk in 都匀市, Bob a clerk in 遵义, Ada the national auditor, Nora a
national coordinator.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from xiezuo.accounts.models import Grant, LoginFailure
from xiezuo.core import demo
from xiezuo.core.models import AuditEntry, Job
from xiezuo.regions.models import Region
from xiezuo.web.public import COMPLEMENTARY, suppress, suppress_table

PASSWORD = "correct-horse-battery"
TOO_MANY = "Too many failed attempts. Try again later."


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def english_and_fresh_demo_flag(settings):
    """Pages in English (the msgids) so assertions read the source strings; demo flag not cached."""
    settings.LANGUAGE_CODE = "en"
    demo.forget()
    yield
    demo.forget()


@pytest.fixture
def regions(db):
    """Regions of Guizhou (the session's test world may have loaded them already)."""

    def node(code: int, level: int, name: str, parent: Region | None) -> Region:
        found, _ = Region.objects.get_or_create(
            code=code, level=level, defaults={"name": name, "parent": parent}
        )
        return found

    guizhou = node(520000000000, 1, "贵州省", None)
    qiannan = node(522700000000, 2, "黔南布依族苗族自治州", guizhou)
    duyun = node(522701000000, 3, "都匀市", qiannan)
    zunyi = node(520300000000, 2, "遵义市", guizhou)
    return {"guizhou": guizhou, "qiannan": qiannan, "duyun": duyun, "zunyi": zunyi}


def make_user(username: str, *grants: tuple[str, Region | None]) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    for role, region in grants:
        Grant.objects.create(user=user, role=role, region=region, expires_on=dt.date(2099, 12, 31))
    return user


@pytest.fixture
def alice(regions):
    return make_user("alice", ("county_clerk", regions["duyun"]))


@pytest.fixture
def bob(regions):
    return make_user("bob", ("county_clerk", regions["zunyi"]))


@pytest.fixture
def ada(regions):
    return make_user("ada", ("auditor", None))


@pytest.fixture
def nora(regions):
    return make_user("nora", ("national_coordinator", None))


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


# ---------------------------------------------------------------------------------------------
# Login, throttling, logout


@pytest.mark.django_db
def test_alice_logs_in_with_the_right_password_and_it_is_audited(alice):
    client = Client()
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200
    entry = AuditEntry.objects.get(action="login")
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.via) == (
        alice.pk,
        "user",
        str(alice.pk),
        "web",
    )


@pytest.mark.django_db
def test_a_wrong_password_is_refused_and_recorded(alice):
    client = Client()
    response = attempt(client, "alice", "wrong-password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert list(LoginFailure.objects.values_list("username", "ip")) == [("alice", "10.0.0.1")]
    assert client.get(reverse("web:home")).status_code == 302


@pytest.mark.django_db
def test_the_login_page_is_open_and_links_to_the_public_page(db):
    response = Client().get(reverse("web:login"))
    assert response.status_code == 200
    assert reverse("web:public") in response.content.decode()


@pytest.mark.django_db
def test_next_is_followed_only_within_the_site(alice):
    client = Client()
    response = client.post(
        reverse("web:login"), {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("web:home")
    client = Client()
    response = client.post(
        reverse("web:login"), {"username": "alice", "password": PASSWORD, "next": reverse("web:jobs")}
    )
    assert response["Location"] == reverse("web:jobs")


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_FAILURE_WINDOW=900)
def test_after_five_failures_for_a_username_the_sixth_attempt_is_refused_even_with_the_right_password(alice):
    client = Client()
    for n in range(5):
        response = attempt(client, "alice", f"wrong-{n}", ip=f"10.0.0.{n + 1}")
        assert TOO_MANY not in response.content.decode()
    response = attempt(client, "alice", PASSWORD, ip="10.0.0.99")
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login").count() == 0
    lockout = AuditEntry.objects.get(action="lockout")
    assert (lockout.object_type, lockout.object_id, lockout.batch["by"]) == (
        "user",
        str(alice.pk),
        ["username"],
    )


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_FAILURE_WINDOW=900)
def test_four_failures_still_let_the_fifth_attempt_in_and_success_clears_them(alice):
    client = Client()
    for n in range(4):
        attempt(client, "alice", f"wrong-{n}")
    assert attempt(client, "alice", PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(username="alice").count() == 0


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_FAILURE_WINDOW=900)
def test_after_five_failures_from_one_address_the_sixth_attempt_is_refused_for_any_user(alice, bob):
    client = Client()
    for n in range(5):
        attempt(client, f"nobody{n}", "wrong", ip="192.0.2.7")
    response = attempt(client, "bob", PASSWORD, ip="192.0.2.7")
    assert response.status_code == 429
    assert TOO_MANY in response.content.decode()
    # Bob from another address is not held back by that address's failures.
    assert attempt(Client(), "bob", PASSWORD, ip="192.0.2.8").status_code == 302


@pytest.mark.django_db
@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_FAILURE_WINDOW=900)
def test_failures_older_than_the_window_do_not_count(alice):
    for _ in range(5):
        LoginFailure.objects.create(username="alice", ip="10.0.0.1")
    LoginFailure.objects.update(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert attempt(Client(), "alice", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(alice):
    client = client_for(alice)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


@pytest.mark.django_db
def test_pages_other_than_login_and_public_require_login(db):
    client = Client()
    for name in ("web:home", "web:jobs", "web:audit"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("web:login"))
    assert client.get(reverse("web:public")).status_code == 200


# ---------------------------------------------------------------------------------------------
# CSP and the page frame


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.style_attrs: list[str] = []
        self.style_blocks = 0
        self.scripts_with_src: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            if named.get("src"):
                self.scripts_with_src.append(named["src"] or "")
            else:
                self.inline_scripts += 1
        if tag == "style":
            self.style_blocks += 1
        if "style" in named:
            self.style_attrs.append(tag)
        if tag == "meta" and named.get("name"):
            self.meta[named["name"] or ""] = named.get("content") or ""
        for name, _ in attrs:
            assert not name.startswith("on"), f"inline handler {name} on <{tag}>"


def parse(html: str) -> _InlineFinder:
    finder = _InlineFinder()
    finder.feed(html)
    return finder


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(alice, nora, ada):
    job = Job.objects.create(kind="import_registry", created_by=alice, status="running", progress_total=10)
    pages = [
        (Client(), reverse("web:login")),
        (Client(), reverse("web:public")),
        (client_for(alice), reverse("web:home")),
        (client_for(alice), reverse("web:jobs")),
        (client_for(ada), reverse("web:audit")),
        (client_for(nora), reverse("web:job", args=[job.pk])),
        (client_for(alice), "/no-such-page/"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        found = parse(response.content.decode())
        assert (found.inline_scripts, found.style_blocks, found.style_attrs) == (0, 0, []), url
        assert found.meta["htmx-config"] == '{"includeIndicatorStyles": false}', url
        assert any(src.endswith("vendor/htmx/htmx.min.js") for src in found.scripts_with_src), url


@pytest.mark.django_db
def test_the_frame_shows_nav_user_menu_and_language_switch(alice):
    html = client_for(alice).get(reverse("web:home")).content.decode()
    for text in (
        "Home",
        "Jobs",
        "Registry",
        "Ledgers",
        "Assessment",
        "Checks",
        "Reports",
        "Log out",
        "都匀市",
    ):
        assert text in html, text
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html
    assert reverse("web:audit") not in html  # a clerk has no audit entry in the menu


@pytest.mark.django_db
def test_pages_render_chinese_by_default(settings, alice):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client_for(alice).get(reverse("web:home"))
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.django_db
def test_demo_banner_shows_only_on_a_demo_database(alice):
    client = client_for(alice)
    for url in (reverse("web:home"), reverse("web:login"), reverse("web:public")):
        assert "data-demo-banner" not in client.get(url).content.decode()
    demo.mark_demo_database()
    for url in (reverse("web:home"), reverse("web:public")):
        html = client.get(url).content.decode()
        assert "data-demo-banner" in html and "Demo data" in html
    assert "data-demo-banner" in Client().get(reverse("web:login")).content.decode()


# ---------------------------------------------------------------------------------------------
# Home


@pytest.mark.django_db
def test_home_shows_grants_and_own_latest_jobs(alice, bob):
    Job.objects.create(kind="registry.import", created_by=alice, status="done")
    Job.objects.create(kind="ledger.import", created_by=bob, status="done")
    html = client_for(alice).get(reverse("web:home")).content.decode()
    assert "county clerk" in html and "都匀市" in html and "2099-12-31" in html
    assert "Registry import" in html and "registry.import" not in html  # the kind's label
    assert "Ledger import" not in html


# ---------------------------------------------------------------------------------------------
# Jobs


@pytest.mark.django_db
def test_jobs_page_shows_a_clerk_only_her_own_jobs(alice, bob):
    mine = Job.objects.create(
        kind="registry.import", created_by=alice, status="running", progress_done=3, progress_total=10
    )
    Job.objects.create(kind="ledger.import", created_by=bob, status="queued", region_code=520300000000)
    html = client_for(alice).get(reverse("web:jobs")).content.decode()
    assert "Registry import" in html
    assert "Ledger import" not in html
    assert f'hx-get="{reverse("web:job_row", args=[mine.pk])}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert '<progress class="xz-progress" value="3" max="10"' in html


@pytest.mark.django_db
def test_someone_elses_job_is_not_found(alice, bob):
    theirs = Job.objects.create(kind="import_bob", created_by=bob, status="running")
    client = client_for(alice)
    assert client.get(reverse("web:job", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("web:job_row", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("web:job", args=[theirs.pk + 1000])).status_code == 404


@pytest.mark.django_db
def test_a_national_coordinator_sees_all_jobs(alice, bob, nora):
    Job.objects.create(kind="registry.import", created_by=alice)
    Job.objects.create(kind="ledger.import", created_by=bob)
    html = client_for(nora).get(reverse("web:jobs")).content.decode()
    assert "Registry import" in html and "Ledger import" in html


@pytest.mark.django_db
def test_a_finished_job_row_stops_polling_and_the_detail_shows_the_message_not_the_error(alice):
    traceback = 'Traceback (most recent call last):\n  File "/srv/xiezuo/x.py"\nValueError: boom at row 7'
    job = Job.objects.create(
        kind="registry.import",
        created_by=alice,
        status="failed",
        result={"rows": 12},
        error=traceback,
        error_code="internal",
    )
    client = client_for(alice)
    row = client.get(reverse("web:job_row", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert row.lstrip().startswith("<tr") and "hx-trigger" not in row
    detail = client.get(reverse("web:job", args=[job.pk])).content.decode()
    for text in (row, detail):
        assert "boom" not in text and "Traceback" not in text and "/srv/" not in text
        assert f"ask the system administrator to look up job {job.pk} in the server log" in text
    # An unknown result key is shown as text under "Details", never as JSON.
    assert "&quot;rows&quot;" not in detail and "<li>12</li>" in detail


# ---------------------------------------------------------------------------------------------
# Audit


def _entry(code: int | None, object_id: str) -> AuditEntry:
    return AuditEntry.objects.create(
        actor_name="clerk", action="update", object_type="household", object_id=object_id, region_code=code
    )


@pytest.mark.django_db
def test_audit_page_is_not_found_for_a_clerk_and_open_to_an_auditor(alice, ada):
    assert client_for(alice).get(reverse("web:audit")).status_code == 404
    assert client_for(ada).get(reverse("web:audit")).status_code == 200


@pytest.mark.django_db
def test_a_provincial_auditor_sees_entries_of_her_province_but_not_national_ones(regions):
    zhao = make_user("zhao", ("auditor", regions["guizhou"]))
    _entry(522701000000, "in-duyun")
    _entry(330100000000, "in-hangzhou")
    _entry(None, "national-only")
    html = client_for(zhao).get(reverse("web:audit")).content.decode()
    assert "in-duyun" in html
    assert "in-hangzhou" not in html and "national-only" not in html


@pytest.mark.django_db
def test_audit_filters_by_region_subtree_user_and_object(ada):
    _entry(522701000000, "in-duyun")
    _entry(520300000000, "in-zunyi")
    _entry(None, "national-only")
    client = client_for(ada)
    html = client.get(reverse("web:audit"), {"region": "5227"}).content.decode()
    assert "in-duyun" in html and "in-zunyi" not in html and "national-only" not in html
    html = client.get(reverse("web:audit"), {"object_id": "national-only"}).content.decode()
    assert "national-only" in html and "in-duyun" not in html
    html = client.get(reverse("web:audit"), {"region": "5x"}).content.decode()
    assert "in-duyun" not in html and "is-invalid" in html


@pytest.mark.django_db
def test_audit_pages_50_entries_by_id(ada):
    for n in range(120):
        _entry(None, f"e{n:03d}")
    client = client_for(ada)
    first = client.get(reverse("web:audit")).context
    ids = [row["entry"].pk for row in first["rows"]]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    second = client.get(reverse("web:audit"), {"before": first["older"]}).context
    assert second["rows"][0]["entry"].pk == ids[-1] - 1
    assert len(second["rows"]) == 50
    back = client.get(reverse("web:audit"), {"after": second["newer"]}).context
    assert [row["entry"].pk for row in back["rows"]] == ids


# ---------------------------------------------------------------------------------------------
# Public page


@pytest.mark.parametrize(
    ("count", "min_cell", "shown"),
    [(0, 5, "<5"), (1, 5, "<5"), (4, 5, "<5"), (5, 5, "5"), (6, 5, "6"), (832, 5, "832"), (9, 10, "<10")],
)
def test_suppress(count, min_cell, shown):
    assert suppress(count, min_cell=min_cell) == shown


def test_suppress_refuses_negative_counts():
    with pytest.raises(ValueError):
        suppress(-1, min_cell=5)


X = COMPLEMENTARY


@pytest.mark.parametrize(
    ("counts", "cells", "row_totals", "col_totals", "total"),
    [
        # Nothing small: everything shown.
        (
            {("a", 1): 10, ("a", 2): 20, ("b", 1): 30, ("b", 2): 40},
            (("10", "20"), ("30", "40")),
            ("30", "70"),
            ("40", "60"),
            "100",
        ),
        # One small cell: its row and column each get a complementary hidden cell, closing the rectangle.
        (
            {("a", 1): 10, ("a", 2): 3, ("b", 1): 8, ("b", 2): 9},
            ((X, "<5"), (X, X)),
            ("13", "17"),
            ("18", "12"),
            "30",
        ),
        # Two small cells in one row hide each other; their column partners hide next, and so does
        # the other row total, or 113 - 110 would give the small row's total.
        (
            {("a", 1): 1, ("a", 2): 2, ("b", 1): 50, ("b", 2): 60},
            (("<5", "<5"), (X, X)),
            ("<5", X),
            ("51", "62"),
            "113",
        ),
        # A missing cell counts 0 and is suppressed like any small count.
        ({("a", 1): 7, ("b", 1): 6, ("b", 2): 9}, ((X, "<5"), (X, X)), ("7", "15"), ("13", "9"), "22"),
    ],
)
def test_suppress_table(counts, cells, row_totals, col_totals, total):
    table = suppress_table(counts, rows=["a", "b"], cols=[1, 2], min_cell=5)
    assert (table.cells, table.row_totals, table.col_totals, table.total) == (
        cells,
        row_totals,
        col_totals,
        total,
    )


@pytest.mark.django_db
def test_public_page_shows_published_tables_without_login(regions):
    from xiezuo.regions.models import RegionFlag

    poverty_counties = RegionFlag.objects.filter(flag="poverty_county", region__level=3).count()
    if poverty_counties < 5:  # an empty database: give Guizhou a few poverty counties
        for n, year in enumerate(["2019"] * 5 + ["2020"] * 2):
            county, _ = Region.objects.get_or_create(
                code=522702000000 + n * 10**6,
                level=3,
                defaults={"name": f"县{n}", "parent": regions["qiannan"]},
            )
            RegionFlag.objects.get_or_create(
                region=county, flag="poverty_county", defaults={"value": year, "origin": "loaded"}
            )
        poverty_counties = RegionFlag.objects.filter(flag="poverty_county", region__level=3).count()
    response = Client().get(reverse("web:public"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "贵州省" in html and "&lt;5" in html
    assert response.context["counties"].total == str(poverty_counties)
