"""The REST API: authentication, scope (out of scope = not found), filters, bad input = 400, writes.

The reference data (code lists, regions to county level, the 2016 pairing list) is loaded once for
the module inside a transaction that is rolled back afterwards; each test runs in a savepoint.
Loading is idempotent, so the module also runs on top of the shared test world.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from xiezuo.accounts import roles
from xiezuo.accounts.models import Grant
from xiezuo.accounts.tokens import create_token
from xiezuo.core.codelists import clear_cache, load_code_lists
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.pairings.loading import load_pairings_2016
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.regions.loading import load_regions
from xiezuo.regions.models import Region, full_code

NOT_FOUND = {"detail": "Not found.", "errors": []}


@pytest.fixture(scope="module", autouse=True)
def reference_data(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock(), transaction.atomic():
        load_code_lists()
        load_regions(level=3)
        load_pairings_2016(actor=SYSTEM)
        yield
        transaction.set_rollback(True)
    clear_cache()


pytestmark = pytest.mark.django_db


def region(code: str) -> Region:
    return Region.objects.get(code=full_code(code), level={2: 1, 4: 2, 6: 3}[len(code)])


def pairing(helper: str, helped: str) -> Pairing:
    return (
        Pairing.objects.filter(programme="east_west_2016", sides__side="helper", sides__region=region(helper))
        .filter(sides__side="helped", sides__region=region(helped))
        .get()
    )


class Api:
    """A client that speaks English and carries a bearer token of one user."""

    def __init__(self, username: str, role: str | None = None, area: str | None = None) -> None:
        self.user = User.objects.create_user(username)
        if role is not None:
            self.grant = Grant.objects.create(
                user=self.user, role=role, region=region(area) if area else None
            )
        _, raw = create_token(actor=SYSTEM, user=self.user, name="test")
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/{path}", params)

    def send(self, method: str, path: str, body: Any) -> Any:
        data = body if isinstance(body, str) else json.dumps(body)
        return getattr(self.client, method)(f"/api/v1/{path}", data, content_type="application/json")


@pytest.fixture
def ningbo() -> Api:
    """Helper coordinator of 宁波市 (3302)."""
    return Api("api_ningbo", roles.HELPER, "3302")


@pytest.fixture
def national() -> Api:
    return Api("api_national", roles.NATIONAL)


@pytest.fixture
def nobody() -> Api:
    """Signed in, with no grant at all."""
    return Api("api_nobody")


# --- authentication and the schema ---------------------------------------------------------------


def test_without_credentials_every_endpoint_is_401() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for path in ["regions", "regions/52", "organisations", "pairings", "pairings/1", "codelists/programme"]:
        assert client.get(f"/api/v1/{path}").status_code == 401, path
    assert client.post("/api/v1/pairings", "{}", content_type="application/json").status_code == 401


def test_a_session_works_too_and_needs_csrf_for_writes(ningbo: Api) -> None:
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(ningbo.user)
    assert browser.get("/api/v1/regions/3302").status_code == 200
    before = Organisation.objects.count()
    body = {"kind": "enterprise", "name": "宁波测试公司", "region": "330212"}
    response = browser.post("/api/v1/organisations", body, content_type="application/json")
    assert response.status_code == 403
    assert Organisation.objects.count() == before


def test_the_openapi_document_is_served_and_no_docs_page() -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/pairings/{id}" in response.json()["paths"]
    assert Client().get("/api/docs").status_code == 404


def test_the_committed_openapi_document_is_current() -> None:
    from pathlib import Path

    from xiezuo.api.management.commands.openapi import openapi_text

    committed = Path(__file__).resolve().parent.parent / "openapi.json"
    assert committed.read_text(encoding="utf-8") == openapi_text(), "run: xiezuo openapi --out openapi.json"


# --- regions -------------------------------------------------------------------------------------


def test_regions_page_by_keyset(nobody: Api) -> None:
    first = nobody.get("regions", level="province", limit=5).json()
    assert [r["code"] for r in first["items"]] == ["11", "12", "13", "14", "15"]
    assert first["next"] == "15"
    second = nobody.get("regions", level="1", limit=5, after=first["next"]).json()
    assert [r["code"] for r in second["items"]] == ["21", "22", "23", "31", "32"]
    last = nobody.get("regions", level=1, limit=500, after="63").json()
    assert ([r["code"] for r in last["items"]], last["next"]) == (["64", "65"], None)


def test_regions_filters(nobody: Api) -> None:
    children = nobody.get("regions", parent="52").json()["items"]
    assert [r["code"] for r in children] == [
        "5201", "5202", "5203", "5204", "5205", "5206", "5223", "5226", "5227",
    ]  # fmt: skip
    assert nobody.get("regions", parent="520000000000").json()["items"] == children
    by_name = nobody.get("regions", q="黔西南").json()["items"]
    assert [(r["code"], r["code12"], r["level_name"], r["parent"]) for r in by_name] == [
        ("5223", "522300000000", "prefecture", "52")
    ]
    by_prefix = nobody.get("regions", q="5223", level="county").json()["items"]
    assert [r["code"] for r in by_prefix] == [
        "522301",
        "522302",
        "522323",
        "522324",
        "522325",
        "522326",
        "522327",
        "522328",
    ]
    three_zones = nobody.get("regions", flag="deep_3q3z", level=2).json()["items"]
    assert [r["code"] for r in three_zones] == [
        "5132", "5133", "5134", "5333", "5334", "6229", "6230", "6322", "6323",
        "6325", "6326", "6327", "6328", "6529", "6530", "6531", "6532",
    ]  # fmt: skip


def test_region_detail_shows_only_the_pairings_the_user_may_see(ningbo: Api, nobody: Api) -> None:
    body = ningbo.get("regions/5223").json()
    assert (body["name"], body["level"], body["kind"]) == ("黔西南布依族苗族自治州", 2, "admin")
    assert [a["code"] for a in body["ancestors"]] == ["52"]
    assert [(f["flag"], f["origin"]) for f in body["flags"]] == [("ethnic_autonomous", "derived")]
    assert [(p["name"], p["side"]) for p in body["pairings"]] == [
        ("宁波市 → 黔西南布依族苗族自治州", "helped")
    ]
    assert nobody.get("regions/522300000000").json()["pairings"] == []
    assert [h["name"] for h in ningbo.get("regions/522301").json()["code_history"]] == ["兴义市"]
    assert [p["name"] for p in ningbo.get("regions/15").json()["pairings"]] == []


def test_region_children_and_missing_regions(nobody: Api) -> None:
    assert [r["code"] for r in nobody.get("regions/5223/children").json()][:3] == [
        "522301",
        "522302",
        "522323",
    ]
    assert len(nobody.get("regions/5223/children").json()) == 8
    assert nobody.get("regions/529999").status_code == 404
    assert nobody.get("regions/529999").json() == NOT_FOUND
    assert nobody.get("regions/52x").status_code == 400


def test_code_lists(nobody: Api) -> None:
    body = nobody.get("codelists/programme").json()
    assert (body["key"], body["name_en"], len(body["codes"])) == ("programme", "programme", 6)
    assert body["codes"][0] == {
        "code": "east_west_2016", "zh": "东西部扶贫协作", "en": "East–West poverty alleviation cooperation",
        "aliases": ["东西部协作扶贫"], "valid_from": 1996, "valid_to": 2020,
    }  # fmt: skip
    assert nobody.get("codelists/nope").json() == NOT_FOUND


# --- bad input is 400, never 500 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("regions", {"level": "abc"}, "level"),
        ("regions", {"level": "6"}, "level"),
        ("regions", {"limit": "100000"}, "query.limit"),
        ("regions", {"limit": "0"}, "query.limit"),
        ("regions", {"limit": "x"}, "query.limit"),
        ("regions", {"parent": "12x"}, "parent"),
        ("regions", {"parent": "529999"}, "parent"),
        ("regions", {"flag": "nope"}, "flag"),
        ("regions", {"after": "abc"}, "after"),
        ("regions", {"q": "1234567890123"}, "q"),
        ("organisations", {"kind": "nope"}, "kind"),
        ("organisations", {"after": "99999999999999999999999"}, "query.after"),
        ("pairings", {"year": "abc"}, "query.year"),
        ("pairings", {"side": "helper"}, "side"),
        ("pairings", {"side": "both", "region": "52"}, "side"),
        ("pairings", {"programme": "nope"}, "programme"),
        ("pairings", {"level": "nope"}, "level"),
        ("pairings", {"region": "5"}, "region"),
    ],
)
def test_a_bad_filter_is_400_with_the_field(
    national: Api, path: str, params: dict[str, str], field: str
) -> None:
    response = national.get(path, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request is not valid."
    assert [e["field"] for e in body["errors"]] == [field]


def test_bad_ids_in_the_path_are_400_or_404(national: Api) -> None:
    assert national.get("pairings/abc").status_code == 400
    assert national.get("pairings/99999999999999999999999").status_code == 400
    assert national.get("pairings/0").status_code == 400
    assert national.get("pairings/999999999").json() == NOT_FOUND


def test_a_malformed_body_is_400(national: Api) -> None:
    before = Pairing.objects.count()
    response = national.send("post", "pairings", '{"programme": ')
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid JSON.", "errors": []}
    missing = national.send("post", "pairings", {"programme": "hand_in_hand"})
    assert missing.status_code == 400
    assert sorted(e["field"] for e in missing.json()["errors"]) == [
        "body.helped", "body.helper", "body.level", "body.start_year",
    ]  # fmt: skip
    assert national.send("post", "pairings", "[1, 2]").status_code == 400
    assert Pairing.objects.count() == before


# --- pairings ------------------------------------------------------------------------------------


def test_a_helper_coordinator_sees_its_own_pairings_only(ningbo: Api) -> None:
    names = [p["name"] for p in ningbo.get("pairings").json()["items"]]
    assert names == ["宁波市 → 延边朝鲜族自治州", "宁波市 → 黔西南布依族苗族自治州"]
    qxn = pairing("3302", "5223")
    detail = ningbo.get(f"pairings/{qxn.pk}").json()
    assert [s["region"] for s in detail["helper"]] == ["3302"]
    assert [s["region"] for s in detail["helped"]] == ["5223"]
    assert (detail["programme"], detail["level"], detail["start_year"]) == (
        "east_west_2016", "prefecture-prefecture", qxn.start_year,
    )  # fmt: skip
    beijing = pairing("11", "15")
    hidden = ningbo.get(f"pairings/{beijing.pk}")
    assert (hidden.status_code, hidden.json()) == (404, NOT_FOUND)


def test_pairing_filters(national: Api, ningbo: Api) -> None:
    helped_in_guizhou = national.get("pairings", region="52", side="helped", limit=500).json()["items"]
    assert sorted(p["helped"][0]["region"] for p in helped_in_guizhou) == [
        "5202", "5203", "5204", "5205", "5206", "5223", "5226", "5227",
    ]  # fmt: skip
    assert national.get("pairings", region="52", side="helper").json()["items"] == []
    assert [p["name"] for p in ningbo.get("pairings", region="5223").json()["items"]] == [
        "宁波市 → 黔西南布依族苗族自治州"
    ]
    assert ningbo.get("pairings", year=2021).json()["items"] == []
    assert len(ningbo.get("pairings", year=2020, programme="东西部扶贫协作").json()["items"]) == 2
    page = ningbo.get("pairings", limit=1).json()
    assert page["next"] == page["items"][0]["id"]
    rest = ningbo.get("pairings", limit=1, after=page["next"]).json()
    assert ([p["name"] for p in rest["items"]], rest["next"]) == (["宁波市 → 黔西南布依族苗族自治州"], None)


def test_an_expired_grant_ends_what_the_token_sees(ningbo: Api) -> None:
    qxn = pairing("3302", "5223")
    assert ningbo.get(f"pairings/{qxn.pk}").status_code == 200
    Grant.objects.filter(pk=ningbo.grant.pk).update(expires_on=dt.date.today() - dt.timedelta(days=1))
    response = ningbo.get(f"pairings/{qxn.pk}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert ningbo.get("pairings").json()["items"] == []


def county_pair(parent: int | None, helper: str = "330212", helped: str = "522301") -> dict[str, Any]:
    return {
        "programme": "hand_in_hand", "level": "county-county", "start_year": 2017, "end_year": 2020,
        "helper": [{"region": helper}], "helped": [{"region": helped}], "parent": parent,
    }  # fmt: skip


def test_creating_a_pairing_in_scope(ningbo: Api) -> None:
    parent = pairing("3302", "5223")
    response = ningbo.send("post", "pairings", county_pair(parent.pk))
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["parent"]) == ("鄞州区 → 兴义市", parent.pk)
    entry = AuditEntry.objects.get(object_type="pairing", object_id=str(body["id"]))
    assert (entry.action, entry.actor_name, entry.via) == ("create", "api_ningbo", "api")
    children = ningbo.get(f"pairings/{parent.pk}").json()["children"]
    assert [c["id"] for c in children] == [body["id"]]


def test_creating_a_pairing_out_of_scope_is_404_and_changes_nothing(ningbo: Api) -> None:
    before = (Pairing.objects.count(), AuditEntry.objects.count())
    response = ningbo.send("post", "pairings", county_pair(None, helper="110101", helped="150102"))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert (Pairing.objects.count(), AuditEntry.objects.count()) == before


def test_an_invalid_pairing_is_400_with_the_message(ningbo: Api) -> None:
    before = Pairing.objects.count()
    response = ningbo.send("post", "pairings", county_pair(None, helper="330212", helped="330212"))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request is not valid.",
        "errors": [
            {"field": "", "message": "A side cannot help itself: the helper and helped sides overlap."}
        ],
    }
    assert Pairing.objects.count() == before


def test_bad_side_members_are_400(ningbo: Api) -> None:
    body = county_pair(None)
    body["helper"] = [
        {"region": "330212", "organisation": 1},
        {"region": "339999"},
        {"organisation": 999999999},
    ]
    body["parent"] = pairing("11", "15").pk  # exists, but not visible: as unknown as a missing one
    errors = ningbo.send("post", "pairings", body).json()["errors"]
    assert errors == [
        {"field": "helper", "message": "Member 1: give either a region or an organisation."},
        {"field": "helper", "message": "Unknown region code: 339999"},
        {"field": "helper", "message": "Unknown organisation: 999999999"},
        {"field": "parent", "message": f"Unknown pairing: {body['parent']}"},
    ]


def test_updating_a_pairing(ningbo: Api) -> None:
    created = ningbo.send("post", "pairings", county_pair(None)).json()
    changed = {**county_pair(None), "end_year": 2019}
    response = ningbo.send("put", f"pairings/{created['id']}", changed)
    assert (response.status_code, response.json()["end_year"]) == (200, 2019)
    entry = AuditEntry.objects.get(object_type="pairing", object_id=str(created["id"]), action="update")
    assert entry.changes == {"end_year": [2020, 2019]}
    beijing = pairing("11", "15")
    hidden = ningbo.send("put", f"pairings/{beijing.pk}", county_pair(None))
    assert (hidden.status_code, hidden.json()) == (404, NOT_FOUND)
    assert Pairing.objects.get(pk=beijing.pk).name == "北京市 → 内蒙古自治区"


# --- organisations -------------------------------------------------------------------------------


def test_organisations_are_scoped_and_created_through_the_service(ningbo: Api, national: Api) -> None:
    made = ningbo.send(
        "post", "organisations", {"kind": "公司", "name": " 宁波帮扶公司 ", "region": "330212"}
    )
    assert made.status_code == 201
    org = made.json()
    assert (org["kind"], org["name"], org["region"], org["uscc"]) == (
        "enterprise",
        "宁波帮扶公司",
        "330212",
        None,
    )
    elsewhere = national.send(
        "post", "organisations", {"kind": "school", "name": "北京测试学校", "region": "110101"}
    )
    assert elsewhere.status_code == 201
    mine = ningbo.get("organisations", region="3302").json()["items"]
    assert [o["name"] for o in mine] == ["宁波帮扶公司"]
    assert ningbo.get(f"organisations/{elsewhere.json()['id']}").json() == NOT_FOUND
    assert ningbo.get(f"organisations/{org['id']}").json() == org
    assert [o["id"] for o in national.get("organisations", q="北京测试").json()["items"]] == [
        elsewhere.json()["id"]
    ]
    out_of_scope = ningbo.send("post", "organisations", {"kind": "school", "name": "x", "region": "110101"})
    assert (out_of_scope.status_code, out_of_scope.json()) == (404, NOT_FOUND)
    bad = ningbo.send(
        "post", "organisations", {"kind": "school", "name": "x", "region": "330212", "uscc": "123"}
    )
    assert bad.json()["errors"] == [
        {"field": "uscc", "message": "The unified social credit code is not valid."}
    ]
    assert (
        AuditEntry.objects.filter(object_type="organisation", object_id=str(org["id"]), via="api").count()
        == 1
    )


def test_a_user_without_grants_sees_no_organisations_or_pairings(nobody: Api) -> None:
    assert nobody.get("organisations").json() == {"items": [], "next": None}
    assert nobody.get("pairings").json() == {"items": [], "next": None}
    assert nobody.get(f"pairings/{pairing('3302', '5223').pk}").json() == NOT_FOUND
