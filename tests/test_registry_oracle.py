"""No registry oracle (issue 21 item 3, ADR 0016).

Before: a 承德县 clerk typing an ID number on a placement of her own pairing learnt whether that
person was registered anywhere in the country ("不在受帮扶地区" for a person registered in 平泉市,
"不在建档立卡库中" for one in no registry). Now both read "not verified", identically, through the
service, the page and the API; and a burst of checks raises a security event for the security
administrator.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.ledgers_world import People
from tests.world import World
from xiezuo.accounts.tokens import create_token
from xiezuo.core.models import AuditEntry
from xiezuo.labour.models import Placement
from xiezuo.ledgers import services, types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.pairings.models import Pairing
from xiezuo.registry.models import Dataset

pytestmark = pytest.mark.django_db

NOT_VERIFIED_ZH = "未通过核验（受帮扶地区建档立卡库中无此人）"
PRECISE_ZH = ("不在受帮扶地区", "不在建档立卡库中")


def pair(world: World) -> Pairing:
    return world.pairing("120110", "130821")


def values(pairing: Pairing, number: str, day: int = 1) -> dict[str, Any]:
    return {
        "pairing": pairing.pk,
        "year": 2019,
        "id_number": number,
        "employer": "天津某制造有限公司",
        "workplace_region": "120110",
        "start": dt.date(2019, 3, day),
        "arrangement": "有组织劳务输出",
    }


def latest_dataset() -> int:
    pk = Dataset.objects.order_by("-as_of", "-id").values_list("id", flat=True).first()
    assert pk is not None
    return pk


def test_the_service_tells_elsewhere_and_nowhere_alike(world: World, registry_people: People) -> None:
    clerk, pairing = world.user("chengdexian"), pair(world)
    checks = {}
    for label, number in (("elsewhere", registry_people.outside[0]), ("nowhere", registry_people.unknown[0])):
        rec = services.save_record(
            types.get("placements"), actor=clerk, values=values(pairing, number), via="web"
        )
        checks[label] = PersonCheck.objects.get(ledger="placements", record_id=rec.pk)
    told = {k: (c.ok, c.reason, c.dataset_id) for k, c in checks.items()}
    assert told == {
        "elsewhere": (False, "not_verified", latest_dataset()),
        "nowhere": (False, "not_verified", latest_dataset()),
    }
    # the precise fact stays where no page shows it: the member registered in 平泉市 is linked
    assert checks["elsewhere"].member_id is not None and checks["nowhere"].member_id is None
    # a member of the helped area still gets the helped side's reasons (D2)
    dead = services.save_record(
        types.get("placements"), actor=clerk, values=values(pairing, registry_people.dead[0]), via="web"
    )
    assert PersonCheck.objects.get(ledger="placements", record_id=dead.pk).reason == "dead"


def people_table(html: str) -> str:
    """The record page's table of people, without the masked ID cells (they differ by design)."""
    match = re.search(r"<table[^>]*data-people>.*?</table>", html, re.S)
    assert match is not None
    return re.sub(r'<td class="xz-code">[^<]*</td>', "", match.group(0))


def test_the_page_tells_elsewhere_and_nowhere_alike(world: World, registry_people: People) -> None:
    pairing = pair(world)
    clerk = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    clerk.force_login(world.user("chengdexian"))
    pages = {}
    for label, number in (("elsewhere", registry_people.outside[0]), ("nowhere", registry_people.unknown[0])):
        form = {**values(pairing, number), "arrangement": "organised", "start": "2019-03-01"}
        assert clerk.post("/ledgers/placements/new/", form).status_code == 302
        rec = Placement.objects.order_by("-id").first()
        assert rec is not None
        pages[label] = clerk.get(f"/ledgers/placements/{rec.pk}/").content.decode()
    tables = {k: people_table(v) for k, v in pages.items()}
    assert tables["elsewhere"] == tables["nowhere"]
    assert NOT_VERIFIED_ZH in tables["nowhere"]
    for page in pages.values():
        assert not any(text in page for text in PRECISE_ZH)
    listing = clerk.get("/ledgers/placements/?year=2019").content.decode()
    assert listing.count(NOT_VERIFIED_ZH) == 2 and not any(text in listing for text in PRECISE_ZH)


def api_client(user: User) -> Client:
    _, token = create_token(actor=user, user=user, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")


def api_body(pairing: Pairing, number: str) -> str:
    return json.dumps({**values(pairing, number), "start": "2019-03-01", "arrangement": "organised"})


def test_the_api_tells_elsewhere_and_nowhere_alike(world: World, registry_people: People) -> None:
    pairing, client = pair(world), api_client(world.user("chengdexian"))
    people = {}
    for label, number in (("elsewhere", registry_people.outside[0]), ("nowhere", registry_people.unknown[0])):
        r = client.post("/api/v1/ledgers/placements/records", api_body(pairing, number), "application/json")
        assert r.status_code == 201
        people[label] = [{k: v for k, v in p.items() if k != "id_masked"} for p in r.json()["people"]]
    expected = [
        {
            "field": "id_number",
            "verify": True,
            "ok": False,
            "reason": "not_verified",
            "on_date": "2019-03-01",
            "dataset": latest_dataset(),
        }
    ]
    assert people == {"elsewhere": expected, "nowhere": expected}


def test_a_burst_of_checks_raises_a_security_event(
    world: World, registry_people: People, settings: Any
) -> None:
    settings.LEDGER_CHECK_BURST = 3
    pairing, clerk = pair(world), world.user("chengdexian")
    # an import is bulk by nature: its checks are logged, but they are no burst
    for i in range(4):
        number = registry_people.poor[i]
        services.save_record(
            types.get("placements"), actor=clerk, values=values(pairing, number), via="import"
        )
    assert not AuditEntry.objects.filter(action="security.check_burst").exists()
    client = api_client(clerk)
    numbers = [*registry_people.unknown, registry_people.outside[0], registry_people.dead[0]]
    for number in numbers:
        assert (
            client.post("/api/v1/ledgers/placements/records", api_body(pairing, number), "application/json")
        ).status_code == 201
    events = list(
        AuditEntry.objects.filter(action="security.check_burst").values_list(
            "actor_name", "object_type", "batch", "via"
        )
    )
    # once, when the third interactive check within the minute crossed the threshold
    assert events == [("chengdexian", "security_event", {"people_last_minute": 3, "threshold": 3}, "api")]
    # the security administrator sees it in the audit log; the clerk has no audit log at all
    secadmin = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    secadmin.force_login(world.user("secadmin"))
    page = secadmin.get("/audit/?object_type=security_event").content.decode()
    assert "短时间内大量核验身份（安全事件）" in page and "chengdexian" in page
    clerk_web = Client()
    clerk_web.force_login(clerk)
    assert clerk_web.get("/audit/?object_type=security_event").status_code == 404
