"""Registry API: households (scope, filters, keyset pages, masked detail), imports (upload, job
status and counts); out of scope is the same 404 as missing, bad input 400."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests import test_registry_pages as pages
from tests.test_registry_pages import dataset, make_household, registry_csv, villages
from tests.world import World
from xiezuo.accounts.tokens import create_token
from xiezuo.core.jobs import claim_next, run
from xiezuo.core.models import Job
from xiezuo.core.scope import SYSTEM
from xiezuo.registry.models import Household

pytestmark = pytest.mark.django_db
# The households, family and media folder of the page tests, as fixtures here too.
few, family, media = pages.few, pages.family, pages.media
NOT_FOUND = {"detail": "Not found.", "errors": []}


def api(world: World, username: str) -> Client:
    _, raw = create_token(actor=SYSTEM, user=world.user(username), name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_list_is_scoped(world: World, few: dict[str, Household]) -> None:
    cdx = {few["poor"].pk, few["exited"].pk, few["monitored"].pk}
    assert ids(api(world, "chengdexian").get("/api/v1/registry/households")) == cdx
    assert ids(api(world, "chengde").get("/api/v1/registry/households")) == cdx | {few["pingquan"].pk}
    assert ids(api(world, "national").get("/api/v1/registry/households", {"region": "1308"})) == cdx | {
        few["pingquan"].pk
    }
    for username in ("weichang", "tianjin", "auditor"):
        assert ids(api(world, username).get("/api/v1/registry/households")) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "exited"}, {"exited", "monitored"}),
        ({"status": "已脱贫"}, {"exited", "monitored"}),  # labels and aliases resolve to codes
        ({"attribute": "低保户"}, {"exited"}),
        ({"main_cause": "1"}, {"poor", "monitored"}),
        ({"monitored": "true"}, {"monitored"}),
        ({"monitored": "false"}, {"poor", "exited"}),
        ({"exit_year": "2019"}, {"monitored"}),
        ({"region": "130881"}, set()),
    ],
)
def test_filters(world: World, few: dict[str, Household], query: dict[str, str], expected: set[str]) -> None:
    got = ids(api(world, "chengdexian").get("/api/v1/registry/households", query))
    assert got == {few[k].pk for k in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "rich"}, "status"),
        ({"region": "13082"}, "region"),
        ({"region": "999999"}, "region"),
        ({"after": "abc"}, "after"),
        ({"limit": "0"}, "query.limit"),
        ({"exit_year": "1900"}, "query.exit_year"),
    ],
)
def test_bad_filters_are_400(world: World, query: dict[str, str], field: str) -> None:
    response = api(world, "chengdexian").get("/api/v1/registry/households", query)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request is not valid."
    assert [e["field"] for e in body["errors"]] == [field]


def test_keyset_pages(world: World) -> None:
    ds = dataset()
    cdx = villages("130821")
    made = {make_household(f"K-{i:03d}", cdx[i % 5], ds).pk for i in range(120)}
    client = api(world, "chengdexian")
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 50}
    pages = 0
    while True:
        body = client.get("/api/v1/registry/households", params).json()
        pages += 1
        seen.extend(item["id"] for item in body["items"])
        if body["next"] is None:
            break
        params = {"limit": 50, "after": body["next"]}
    assert pages == 3 and len(seen) == 120 and set(seen) == made


def test_detail_is_masked(world: World, family: dict[str, Any]) -> None:
    h = family["household"]
    response = api(world, "chengdexian").get(f"/api/v1/registry/households/{h.pk}")
    assert response.status_code == 200
    body = response.json()
    text = response.content.decode()
    for secret in (family["head_id"], family["child_id"], "王建国", "1975-03-09"):
        assert secret not in text
    assert [m["id_masked"] for m in body["members"]] == [
        family["head_id"][:6] + "*" * 10 + family["head_id"][-2:],
        family["child_id"][:6] + "*" * 10 + family["child_id"][-2:],
    ]
    assert "birth_date" not in body["members"][0] and isinstance(body["members"][0]["age"], int)
    assert [s["status"] for s in body["statuses"]] == ["poor", "exited"]
    assert body["incomes"][0]["net_per_capita_fen"] == 512300
    assert body["monitorings"][0]["measures"] == [
        {"channel": "employment", "started_on": "2020-07-01", "ended_on": None}
    ]


def test_detail_out_of_scope_is_the_same_404(world: World, family: dict[str, Any]) -> None:
    h = family["household"]
    for username in ("weichang", "tianjin"):
        response = api(world, username).get(f"/api/v1/registry/households/{h.pk}")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    missing = api(world, "chengdexian").get("/api/v1/registry/households/999999999")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)


def post_file(client: Client, path: Path, **data: Any) -> Any:
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/registry/imports", {"file": fh, "data_year": 2019, "as_of": "2019-12-31", **data}
        )


def test_import_through_the_api(world: World, media: Path, tmp_path: Path) -> None:
    client = api(world, "chengdexian")
    response = post_file(client, registry_csv(tmp_path / "r.csv"))
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued" and response.json()["counts"] == {}
    job = Job.objects.get(pk=job_id)
    assert job.kind == "registry.import" and job.created_by == world.user("chengdexian")
    claimed = claim_next("t")
    assert claimed is not None and claimed.pk == job_id
    assert run(claimed).status == "done"
    body = client.get(f"/api/v1/registry/imports/{job_id}").json()
    assert body["status"] == "done"
    assert body["counts"] == {
        "read": 6,
        "accepted": 5,
        "rejected": 1,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    assert body["errors_file"] == "errors.xlsx"
    # Another user's view of the job: not found.
    other = api(world, "chengde").get(f"/api/v1/registry/imports/{job_id}")
    assert (other.status_code, other.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("username", ["viewer", "tianjin", "national", "auditor"])
def test_import_without_the_right_is_404(world: World, media: Path, tmp_path: Path, username: str) -> None:
    response = post_file(api(world, username), registry_csv(tmp_path / "r.csv"))
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert not Job.objects.filter(kind="registry.import").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"data_year": "abc"}, "form.data_year"),
        ({"data_year": 1999}, "data_year"),
        ({"as_of": "2019-13-01"}, "form.as_of"),
    ],
)
def test_bad_import_input_is_400(
    world: World, media: Path, tmp_path: Path, data: dict[str, Any], field: str
) -> None:
    response = post_file(api(world, "chengdexian"), registry_csv(tmp_path / "r.csv"), **data)
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Job.objects.filter(kind="registry.import").exists()


def test_wrong_file_type_is_400(world: World, media: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    response = post_file(api(world, "chengdexian"), bad)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


def test_without_credentials_401() -> None:
    client = Client()
    assert client.get("/api/v1/registry/households").status_code == 401
    assert client.get("/api/v1/registry/households/1").status_code == 401
    assert client.get("/api/v1/registry/imports/1").status_code == 401
    assert client.post("/api/v1/registry/imports", {}).status_code == 401


def test_dates_are_unchanged_by_age(world: World) -> None:
    """The birth date never leaves the database: the age field is computed from it."""
    ds = dataset()
    h = make_household(
        "AGE-1",
        villages("130821")[0],
        ds,
        people=[("130821200001010017", "刘一", dt.date(2000, 1, 1))],
    )
    body = api(world, "chengdexian").get(f"/api/v1/registry/households/{h.pk}").json()
    today = dt.date.today()
    assert body["members"][0]["age"] == today.year - 2000 - ((today.month, today.day) < (1, 1))
