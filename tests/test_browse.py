"""Region and pairing browser: search, region page, subtree query, scope of pairing pages, the
flag service and the pairing form (DESIGN.md D2, D5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client

from xiezuo.accounts.models import Grant
from xiezuo.core import codelists
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM, ScopeError
from xiezuo.pairings.loading import load_pairings_2016
from xiezuo.pairings.models import Pairing
from xiezuo.regions import selectors
from xiezuo.regions.loading import load_regions
from xiezuo.regions.models import Region, RegionFlag
from xiezuo.regions.services import set_region_flag

NINGBO_PAIRINGS = ["宁波市 → 延边朝鲜族自治州", "宁波市 → 黔西南布依族苗族自治州"]


@pytest.fixture(scope="module", autouse=True)
def browse_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """On top of the session's test world (tests/world.py): code lists, regions to county level,
    the townships and villages of 普安县 and the 2016 pairings (idempotent loaders), once for the
    module inside a transaction that is rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        codelists.load_code_lists()
        load_regions(level=3)
        load_regions(level=5, counties=["522323"])
        load_pairings_2016(actor=SYSTEM)
        yield
        transaction.set_rollback(True)
    codelists.clear_cache()


def region(code: str) -> Region:
    found = selectors.region_by_short_code(Region.objects.all(), code)
    assert found is not None
    return found


def person(name: str, role: str | None = None, region_code: str | None = None) -> User:
    user = User.objects.create_user(name, password="a-long-password-1")
    if role is not None:
        Grant.objects.create(user=user, role=role, region=region(region_code) if region_code else None)
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def beijing_inner_mongolia() -> Pairing:
    return Pairing.objects.get(name="北京市 → 内蒙古自治区")


# Regions ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_by_short_code_finds_the_county() -> None:
    response = client_for(person("alice", "viewer", "52")).get("/regions/", {"q": "522323"})
    assert response.status_code == 200
    assert [r.name for r in response.context["results"]] == ["普安县"]


@pytest.mark.django_db
def test_search_by_twelve_digit_code_finds_both_nodes_of_dongguan() -> None:
    response = client_for(person("alice", "viewer", "52")).get("/regions/", {"q": "441900000000"})
    assert [(r.short_code, r.name) for r in response.context["results"]] == [
        ("4419", "东莞市"),
        ("441900", "东莞市"),
    ]


@pytest.mark.django_db
def test_search_by_name_contains() -> None:
    response = client_for(person("alice", "viewer", "52")).get("/regions/", {"q": "普安"})
    assert [(r.short_code, r.name) for r in response.context["results"]] == [("522323", "普安县")]
    response = client_for(person("bob", "viewer", "52")).get("/regions/", {"q": "盘水"})
    assert [(r.short_code, r.name) for r in response.context["results"]] == [
        ("5202", "六盘水市"),
        ("522323001", "盘水街道"),
    ]


@pytest.mark.django_db
def test_short_code_decides_between_prefecture_and_county_of_dongguan() -> None:
    client = client_for(person("alice", "viewer", "52"))
    assert client.get("/regions/4419/").context["region"].level == 2
    assert client.get("/regions/441900/").context["region"].level == 3


@pytest.mark.django_db
def test_region_page_shows_the_poverty_county_flag_with_exit_year() -> None:
    response = client_for(person("alice", "viewer", "52")).get("/regions/522323/")
    assert response.status_code == 200
    flags = [(row["flag"].flag, row["value"], row["flag"].origin) for row in response.context["flags"]]
    assert flags == [("poverty_county", "2019", "loaded")]
    assert [r.name for r in response.context["chain"]] == ["贵州省", "黔西南布依族苗族自治州"]
    assert response.context["counts"] == [("乡级", 14), ("村级", 96)]
    html = response.content.decode()
    assert 'data-flag="poverty_county"' in html
    assert "<script>" not in html and "style=" not in html


@pytest.mark.django_db
def test_region_page_lists_older_codes_that_lead_to_it() -> None:
    response = client_for(person("alice", "viewer", "52")).get("/regions/520281/")
    assert [h.code for h in response.context["own_history"]] == [520281]
    assert [(h.code, h.name) for h in response.context["older_history"]] == [
        (520202, "盘县特区"),
        (520222, "盘县"),
    ]


@pytest.mark.django_db
def test_regions_are_reference_data_for_every_signed_in_user() -> None:
    no_grants = client_for(person("grace"))
    assert no_grants.get("/regions/522323/").status_code == 200
    assert no_grants.get("/pairings/").context["page"].paginator.count == 0
    assert no_grants.get("/regions/522323/").context["pairings_above"].count() == 0


@pytest.mark.django_db
def test_region_page_is_404_for_an_unknown_code_and_needs_a_login() -> None:
    assert client_for(person("alice", "viewer", "52")).get("/regions/529999/").status_code == 404
    assert Client().get("/regions/52/").status_code == 302


@pytest.mark.django_db
def test_tree_children_partial_lists_prefectures_of_guizhou() -> None:
    response = client_for(person("alice", "viewer", "52")).get(
        "/regions/52/children/", HTTP_HX_REQUEST="true"
    )
    assert [c.short_code for c in response.context["children"]] == [
        "5201", "5202", "5203", "5204", "5205", "5206", "5223", "5226", "5227",
    ]  # fmt: skip


@pytest.mark.django_db
def test_subtree_is_one_range_query_with_the_exact_county_count_of_guizhou() -> None:
    guizhou = region("52")
    counties = selectors.subtree(guizhou).filter(level=3)
    sql = str(counties.query)
    assert "520000000000" in sql and "530000000000" in sql and "LIKE" not in sql
    assert counties.count() == 88
    assert selectors.subtree_counts(guizhou) == {2: 9, 3: 88, 4: 14, 5: 96}


# Flags -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_set_region_flag_refuses_out_of_scope_and_changes_nothing() -> None:
    ningbo = person("bob", "helper_coordinator", "3302")
    with pytest.raises(ScopeError):
        set_region_flag(
            actor=ningbo, region=region("522323"), flag="deep_county", value="", source="黔府发〔2017〕"
        )
    assert not RegionFlag.objects.filter(flag="deep_county").exists()
    assert not AuditEntry.objects.filter(object_type="region_flag").exists()


@pytest.mark.django_db
def test_set_region_flag_in_scope_writes_the_flag_and_an_audit_entry() -> None:
    guizhou_office = person("carol", "helped_coordinator", "52")
    flag = set_region_flag(
        actor=guizhou_office,
        region=region("522323"),
        flag="deep_county",
        value="2017",
        source="黔党发〔2017〕",
    )
    assert flag is not None
    assert (flag.flag, flag.value, flag.origin, flag.source) == (
        "deep_county",
        "2017",
        "maintained",
        "黔党发〔2017〕",
    )
    entry = AuditEntry.objects.get(object_type="region_flag")
    assert (entry.actor, entry.action, entry.region_code) == (guizhou_office, "create", 522323000000)
    assert entry.changes["value"] == [None, "2017"]


@pytest.mark.django_db
def test_set_region_flag_refuses_a_loaded_flag_and_a_wrong_level() -> None:
    guizhou_office = person("carol", "helped_coordinator", "52")
    with pytest.raises(ValidationError):
        set_region_flag(
            actor=guizhou_office, region=region("522323"), flag="poverty_county", value="", source="x"
        )
    with pytest.raises(ValidationError):
        set_region_flag(
            actor=guizhou_office, region=region("522323"), flag="poor_village", value="", source="x"
        )
    assert RegionFlag.objects.get(region=region("522323"), flag="poverty_county").value == "2019"


@pytest.mark.django_db
def test_flag_form_posts_through_the_service_and_outsiders_get_404() -> None:
    village = Region.objects.filter(level=5, code__gte=522323000000, code__lt=522324000000).first()
    assert village is not None
    data = {"flag": "poor_village", "value": "", "source": "普安县建档立卡贫困村名单（2014）"}
    outsider = client_for(person("bob", "helper_coordinator", "3302"))
    assert outsider.post(f"/regions/{village.short_code}/flags/", data).status_code == 404
    assert not RegionFlag.objects.filter(region=village).exists()
    response = client_for(person("carol", "helped_coordinator", "52")).post(
        f"/regions/{village.short_code}/flags/", data
    )
    assert response.status_code == 302
    assert RegionFlag.objects.get(region=village).flag == "poor_village"


# Pairings --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ningbo_helper_coordinator_sees_exactly_the_ningbo_pairings() -> None:
    client = client_for(person("dave", "helper_coordinator", "3302"))
    response = client.get("/pairings/")
    assert response.status_code == 200
    assert [p.name for p in response.context["page"].object_list] == NINGBO_PAIRINGS
    assert client.get(f"/pairings/{beijing_inner_mongolia().pk}/").status_code == 404
    assert client.get("/pairings/999999/").status_code == 404


@pytest.mark.django_db
def test_ningbo_map_carries_only_ningbo_flows() -> None:
    response = client_for(person("dave", "helper_coordinator", "3302")).get("/pairings/map/")
    flows = response.context["map_data"]["flows"]
    assert sorted((f["from"], f["to"]) for f in flows) == [
        ("宁波市", "延边朝鲜族自治州"),
        ("宁波市", "黔西南布依族苗族自治州"),
    ]
    html = response.content.decode()
    assert 'id="pairing-flows" type="application/json"' in html
    assert "data-map-approval" in html


@pytest.mark.django_db
def test_pairing_list_filters() -> None:
    client = client_for(person("erin", "national_coordinator"))
    # 31 pairings of the 2016 list and 5 county, township and village pairings of the test world
    assert client.get("/pairings/").context["page"].paginator.count == 36
    by_region = client.get("/pairings/", {"region": "52"}).context["page"].object_list
    assert len(by_region) == 8  # 贵州's eight prefectures helped by eastern cities, none on the helper side
    assert client.get("/pairings/", {"region": "52", "side": "helped"}).context["page"].paginator.count == 8
    assert client.get("/pairings/", {"region": "52", "side": "helper"}).context["page"].paginator.count == 0
    by_text = client.get("/pairings/", {"q": "昭通"}).context["page"].object_list
    assert [p.name for p in by_text] == ["中山市+东莞市 → 昭通市"]
    assert client.get("/pairings/", {"year": 2021}).context["page"].paginator.count == 0
    assert client.get("/pairings/", {"level": "province-province"}).context["page"].paginator.count == 8


@pytest.mark.django_db
def test_pairing_detail_for_a_national_coordinator() -> None:
    pairing = beijing_inner_mongolia()
    response = client_for(person("erin", "national_coordinator")).get(f"/pairings/{pairing.pk}/")
    assert response.status_code == 200
    assert [s.region.name for s in response.context["sides"]["helper"]] == ["北京市"]
    assert [s.region.name for s in response.context["sides"]["helped"]] == ["内蒙古自治区"]
    assert response.context["map_data"]["flows"][0]["coords"] == [
        [116.405285, 39.904989],
        [111.670801, 41.818311],
    ]


PAIRING_POST = {
    "programme": "hand_in_hand",
    "level": "county-county",
    "start_year": "2017",
    "end_year": "2020",
    "helper": "330212",
    "helped": "222406",
    "source": "宁波 鄞州–和龙",
}


@pytest.mark.django_db
def test_national_coordinator_creates_a_pairing_by_post() -> None:
    client = client_for(person("erin", "national_coordinator"))
    before = Pairing.objects.count()
    response = client.post("/pairings/new/", PAIRING_POST)
    assert response.status_code == 302
    created = Pairing.objects.get(name="鄞州区 → 和龙市")
    assert response["Location"] == f"/pairings/{created.pk}/"
    assert Pairing.objects.count() == before + 1
    assert (
        AuditEntry.objects.filter(object_type="pairing", object_id=str(created.pk), action="create").count()
        == 1
    )


@pytest.mark.django_db
def test_pairing_form_shows_validation_errors() -> None:
    client = client_for(person("erin", "national_coordinator"))
    response = client.post("/pairings/new/", {**PAIRING_POST, "helped": "330212"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["不能自己帮扶自己：帮扶方与受帮扶方有重叠。"]
    response = client.post("/pairings/new/", {**PAIRING_POST, "helper": "999999"})
    assert response.context["form"].errors["helper"] == ["未知的行政区划代码或单位：999999"]


@pytest.mark.django_db
def test_viewer_cannot_create_a_pairing() -> None:
    client = client_for(person("frank", "viewer", "33"))
    before = Pairing.objects.count()
    assert client.get("/pairings/new/").status_code == 404
    assert client.post("/pairings/new/", PAIRING_POST).status_code == 404
    assert Pairing.objects.count() == before


@pytest.mark.django_db
def test_helper_coordinator_cannot_create_a_pairing_outside_their_scope() -> None:
    client = client_for(person("dave", "helper_coordinator", "3302"))
    before = Pairing.objects.count()
    response = client.post("/pairings/new/", {**PAIRING_POST, "helper": "320505", "helped": "520602"})
    assert response.status_code == 404
    assert Pairing.objects.count() == before


@pytest.mark.django_db
def test_edit_is_404_for_a_pairing_out_of_scope() -> None:
    client = client_for(person("dave", "helper_coordinator", "3302"))
    assert client.get(f"/pairings/{beijing_inner_mongolia().pk}/edit/").status_code == 404


@pytest.mark.django_db
def test_agreement_documents_are_uploaded_and_downloaded_in_scope() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiezuo.core.models import AuditEntry
    from xiezuo.pairings.models import Pairing, PairingDocument

    pairing = Pairing.objects.filter(sides__region_code=130821000000, level="county-county").get()
    chengde = client_for(User.objects.get(username="chengde"))
    upload = SimpleUploadedFile("帮扶协议2019.pdf", b"%PDF-1.4 agreement", content_type="application/pdf")
    response = chengde.post(
        f"/pairings/{pairing.pk}/documents/", {"title": "2019年帮扶协议", "year": "2019", "file": upload}
    )
    assert response.status_code == 302
    doc = PairingDocument.objects.get(pairing=pairing)
    assert (doc.title, doc.year) == ("2019年帮扶协议", 2019)
    assert doc.sha256 == hashlib.sha256(b"%PDF-1.4 agreement").hexdigest()
    download = client_for(User.objects.get(username="dongli")).get(
        f"/pairings/{pairing.pk}/documents/{doc.pk}/"
    )
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 agreement"
    assert (
        AuditEntry.objects.filter(object_type="pairing_document", action__in=["create", "download"]).count()
        == 2
    )
    # Not a type the office keeps agreements in: refused, nothing stored.
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    chengde.post(f"/pairings/{pairing.pk}/documents/", {"title": "x", "file": bad})
    assert PairingDocument.objects.filter(pairing=pairing).count() == 1
    ningbo = client_for(User.objects.get(username="ningbo"))
    assert ningbo.get(f"/pairings/{pairing.pk}/documents/{doc.pk}/").status_code == 404
