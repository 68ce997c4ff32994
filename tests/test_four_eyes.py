"""Four eyes on the period workflow and 三员分立 on grants (issue 21 item 2, ADR 0016).

The world's 承德县 office gets one official, 小王 (``xiaowang``), who holds both the county clerk
and the county coordinator grant: the very person who could otherwise submit and review alone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from tests.world import World
from xiezuo.accounts import roles
from xiezuo.accounts.models import Grant
from xiezuo.accounts.services import grant_role
from xiezuo.accounts.tokens import create_token
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.ledgers import flows, periods, services, types
from xiezuo.ledgers.models import Period, PeriodAction
from xiezuo.pairings.models import Pairing
from xiezuo.synth.foundation import region

pytestmark = pytest.mark.django_db

SESSIONS = "training_sessions"  # helped side, the default flow: county submits, reviews; prefecture approves
PLACEMENTS = "placements"  # helped side: county submits, prefecture approves
EARLIER_ZH = "双人复核：您已办理本期间的前一步，本步须由另一名工作人员办理。"
ENTERED_ZH = "双人复核：您录入了本期间的台账记录，须由另一名工作人员审核、审定。"


@pytest.fixture
def xiaowang(world: World) -> User:
    user = User.objects.create_user(username="xiaowang", password="x-long-password-1")
    for role in (roles.CLERK, roles.HELPED):
        grant_role(actor=SYSTEM, user=user, role=role, region=region("130821"), via="cli")
    return user


def pair(world: World) -> Pairing:
    return world.pairing("120110", "130821")


def take(action: str, user: Any, pairing: Pairing, ledger: str = SESSIONS, note: str = "") -> Period:
    return periods.take_action(
        action,
        actor=user,
        ltype=types.get(ledger),
        pairing=pairing,
        side="helped",
        year=2019,
        period_no=1 if ledger == PLACEMENTS else 0,
        note=note,
    )


def state(pairing: Pairing, ledger: str = SESSIONS) -> tuple[Any, ...]:
    p = Period.objects.get(ledger=ledger, pairing=pairing, side="helped", year=2019)
    actions = list(PeriodAction.objects.filter(period=p).values_list("action", "actor__username"))
    return (p.state, p.step, p.locked, actions)


# --- the service --------------------------------------------------------------------------------


def test_one_official_cannot_submit_review_and_approve_alone(world: World, xiaowang: User) -> None:
    pairing = pair(world)
    take("advance", xiaowang, pairing)
    assert periods.may_advance(xiaowang, Period.objects.get(ledger=SESSIONS, pairing=pairing))  # by role
    with pytest.raises(periods.Refused) as exc:
        take("advance", xiaowang, pairing)
    assert exc.value.code == "four_eyes_earlier_step"
    assert state(pairing) == ("submitted", 1, False, [("submit", "xiaowang")])
    chengde = world.user("chengde")
    take("advance", chengde, pairing)  # reviews
    with pytest.raises(periods.Refused) as exc:  # one coordinator both reviews and approves: no
        take("advance", chengde, pairing)
    assert exc.value.code == "four_eyes_earlier_step"
    take("advance", world.user("national"), pairing)
    assert state(pairing) == (
        "approved",
        3,
        True,
        [("submit", "xiaowang"), ("review", "chengde"), ("approve", "national")],
    )


def test_the_submitter_does_not_approve_after_another_reviewed(world: World) -> None:
    # national coordinators may take any step: A submits, B reviews, A approves is still refused
    pairing, national = pair(world), world.user("national")
    take("advance", national, pairing)
    take("advance", world.user("chengde"), pairing)
    with pytest.raises(periods.Refused) as exc:
        take("advance", national, pairing)
    assert exc.value.code == "four_eyes_earlier_step"


def test_a_return_opens_a_new_round(world: World, xiaowang: User) -> None:
    pairing = pair(world)
    take("advance", xiaowang, pairing)
    take("return", world.user("chengde"), pairing, note="补充材料")
    # the earlier round no longer counts: 小王 submits again, and 承德市 may review again
    take("advance", xiaowang, pairing)
    take("advance", world.user("chengde"), pairing)
    assert state(pairing)[:3] == ("submitted", 2, False)


def placement(pairing: Pairing, number: str) -> dict[str, Any]:
    return {
        "pairing": pairing.pk,
        "year": 2019,
        "id_number": number,
        "employer": "天津某制造有限公司",
        "workplace_region": "120110",
        "start": dt.date(2019, 2, 1),
        "arrangement": "有组织劳务输出",
    }


def test_who_entered_records_does_not_approve_them(world: World, registry_people: Any) -> None:
    pairing = pair(world)
    chengde = world.user("chengde")
    services.save_record(
        types.get(PLACEMENTS), actor=chengde, values=placement(pairing, registry_people.poor[0]), via="web"
    )
    take("advance", world.user("chengdexian"), pairing, PLACEMENTS)  # entering and submitting: fine
    with pytest.raises(periods.Refused) as exc:
        take("advance", chengde, pairing, PLACEMENTS)
    assert exc.value.code == "four_eyes_entered_records"
    with translation.override("en"):
        assert (
            exc.value.message == "Four eyes: you entered records of this period, "
            "so another official must review and approve it."
        )
    take("advance", world.user("national"), pairing, PLACEMENTS)
    assert state(pairing, PLACEMENTS)[:3] == ("approved", 2, True)


def test_who_asked_for_an_unlock_does_not_grant_it(world: World) -> None:
    pairing = pair(world)
    national, chengde = world.user("national"), world.user("chengde")
    take("advance", world.user("chengdexian"), pairing, PLACEMENTS)
    take("advance", chengde, pairing, PLACEMENTS)
    take("request_unlock", national, pairing, PLACEMENTS, note="补录")
    with pytest.raises(periods.Refused) as exc:
        take("unlock", national, pairing, PLACEMENTS)
    assert exc.value.code == "four_eyes_unlock_requester"
    assert state(pairing, PLACEMENTS)[:3] == ("approved", 2, True)
    take("unlock", chengde, pairing, PLACEMENTS)
    assert state(pairing, PLACEMENTS)[:3] == ("open", 0, False)


def test_a_flow_may_turn_four_eyes_off(
    world: World, xiaowang: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = flows.FILE.read_text(encoding="utf-8").replace(
        "  helped:\n    period: year\n", "  helped:\n    four_eyes: false\n    period: year\n", 1
    )
    (tmp_path / "flows.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(flows, "FILE", tmp_path / "flows.yaml")
    flows._data.cache_clear()
    try:
        assert flows.flow_for(SESSIONS, "helped").four_eyes is False
        assert flows.flow_for(SESSIONS, "helper").four_eyes is True
        pairing = pair(world)
        take("advance", xiaowang, pairing)
        take("advance", xiaowang, pairing)
        assert state(pairing)[:2] == ("submitted", 2)
    finally:
        flows._data.cache_clear()


# --- the page and the API -----------------------------------------------------------------------


def test_the_page_refuses_with_a_chinese_message(world: World, xiaowang: User) -> None:
    pairing = pair(world)
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(xiaowang)
    body = {"ledger": SESSIONS, "side": "helped", "pairing": pairing.pk, "year": 2019, "period_no": 0}
    assert web.post("/ledgers/periods/advance/", body).status_code == 302
    response = web.post("/ledgers/periods/advance/", body)
    page = response.content.decode()
    assert response.status_code == 403
    assert EARLIER_ZH in page and 'data-code="four_eyes_earlier_step"' in page
    assert state(pairing) == ("submitted", 1, False, [("submit", "xiaowang")])
    # the periods page still offers her the step her role allows; the refusal explains itself
    listing = web.get(f"/ledgers/periods/?pairing={pairing.pk}&year=2019").content.decode()
    assert "县级审核" in listing


def test_the_page_refuses_who_entered_records(world: World, registry_people: Any) -> None:
    pairing = pair(world)
    chengde = world.user("chengde")
    services.save_record(
        types.get(PLACEMENTS), actor=chengde, values=placement(pairing, registry_people.poor[1]), via="web"
    )
    take("advance", world.user("chengdexian"), pairing, PLACEMENTS)
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(chengde)
    body = {"ledger": PLACEMENTS, "side": "helped", "pairing": pairing.pk, "year": 2019, "period_no": 1}
    response = web.post("/ledgers/periods/advance/", body)
    assert response.status_code == 403 and ENTERED_ZH in response.content.decode()
    assert state(pairing, PLACEMENTS)[:2] == ("submitted", 1)


def api(user: User) -> Client:
    _, token = create_token(actor=user, user=user, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en")


def test_the_api_refuses_with_403_and_a_code(world: World, xiaowang: User) -> None:
    pairing = pair(world)
    client = api(xiaowang)
    body = json.dumps({"ledger": SESSIONS, "side": "helped", "pairing": pairing.pk, "year": 2019})
    first = client.post("/api/v1/periods/advance", body, content_type="application/json")
    assert (first.status_code, first.json()["step"]) == (200, 1)
    second = client.post("/api/v1/periods/advance", body, content_type="application/json")
    assert second.status_code == 403
    assert second.json() == {
        "detail": "Four eyes: you already took an earlier step of this period; "
        "another official must take this one.",
        "code": "four_eyes_earlier_step",
        "errors": [],
    }
    assert state(pairing)[:2] == ("submitted", 1)
    national = api(world.user("national"))
    national.post("/api/v1/periods/advance", body, content_type="application/json")
    unlock_body = json.dumps(
        {"ledger": SESSIONS, "side": "helped", "pairing": pairing.pk, "year": 2019, "note": "x"}
    )
    approve = api(world.user("chengde")).post(
        "/api/v1/periods/advance", body, content_type="application/json"
    )
    assert (approve.status_code, approve.json()["locked"]) == (200, True)
    asked = national.post("/api/v1/periods/request_unlock", unlock_body, content_type="application/json")
    assert asked.status_code == 200
    refused = national.post("/api/v1/periods/unlock", unlock_body, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "four_eyes_unlock_requester")


# --- 三员分立 -------------------------------------------------------------------------------------


def test_no_one_holds_two_of_the_three_administration_roles(world: World) -> None:
    auditor = world.user("auditor")
    before = sorted(Grant.objects.filter(user=auditor).values_list("role", flat=True))
    for role in (roles.SYSADMIN, roles.SECADMIN):
        with pytest.raises(ValidationError) as exc, translation.override("en"):
            grant_role(actor=world.user("secadmin"), user=auditor, role=role, region=None)
        assert exc.value.message_dict["role"] == [
            "auditor already holds the role auditor: the system administrator, the security "
            "administrator and the auditor must be three different people."
        ]
    assert sorted(Grant.objects.filter(user=auditor).values_list("role", flat=True)) == before == ["auditor"]
    # a business role beside one administration role is not the rule's business
    grant_role(actor=world.user("secadmin"), user=auditor, role=roles.VIEWER, region=region("1308"))
    # an expired administration grant no longer counts
    Grant.objects.filter(user=auditor, role=roles.AUDITOR).update(expires_on=dt.date(2020, 1, 1))
    grant_role(actor=world.user("secadmin"), user=auditor, role=roles.SECADMIN, region=None)
    # … and renewing it is a new grant, checked the same way
    with pytest.raises(ValidationError):
        grant_role(actor=world.user("secadmin"), user=auditor, role=roles.AUDITOR, region=None)


def test_the_grants_page_refuses_a_second_administration_role(world: World) -> None:
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(world.user("secadmin"))
    sysadmin = world.user("sysadmin")
    response = web.post("/users/grants/", {"user": sysadmin.pk, "role": "auditor", "region": ""}, follow=True)
    assert (
        "sysadmin 已担任系统管理员：系统管理员、安全管理员和审计员须由三名不同人员分别担任（三员分立）。"
        in response.content.decode()
    )
    assert list(Grant.objects.filter(user=sysadmin).values_list("role", flat=True)) == ["system_admin"]
    assert not AuditEntry.objects.filter(action="grant", object_repr="sysadmin:auditor").exists()


def test_the_cli_refuses_a_second_administration_role(world: World) -> None:
    with pytest.raises(CommandError) as exc:
        call_command("users_create", "secadmin", "--role", "system_admin")
    assert "三员分立" in str(exc.value)
    assert list(Grant.objects.filter(user__username="secadmin").values_list("role", flat=True)) == [
        "security_admin"
    ]
