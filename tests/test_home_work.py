"""The home page's work blocks (issue 17 item 5): what is due, what waits for me (the other side's
records to confirm, disputes, approvals, unlock requests), my recent imports with their counts and
this year's progress against the agreement targets; each block scoped to the user.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.ledgers_world import make_people
from tests.world import World
from xiezuo.core.models import Job
from xiezuo.engagement import ledgers as engagement
from xiezuo.labour.ledgers import PLACEMENT_TYPE
from xiezuo.ledgers import services
from xiezuo.ledgers.models import LedgerRecord
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import id_number
from xiezuo.talent import ledgers as talent
from xiezuo.web import workbench

pytestmark = pytest.mark.django_db

TODAY = dt.date(2019, 12, 6)  # the test world's county pairs run 2017–2020


def client_for(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def _placement(world: World, person: str, year: int = 2019) -> LedgerRecord:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": year,
        "id_number": person,
        "employer": "天津东丽测试电子有限公司",
        "workplace_region": "120110",
        "start": dt.date(year, 3, 1),
        "end": None,
        "job": "电子装配工",
        "monthly_wage_fen": 420_000,
        "arrangement": "organised",
    }
    record: LedgerRecord = save(PLACEMENT_TYPE, world, "chengdexian", row)
    return record


def save(ltype: Any, world: World, username: str, row: dict[str, Any]) -> Any:
    return services.save_record(ltype, actor=world.user(username), values=row)


def _secondment(world: World) -> Any:
    row = {
        **_secondment_row(world),
        "id_number": id_number("120110", dt.date(1980, 1, 1), 123),
        "post": "支教教师",
    }
    return save(talent.SECONDMENTS_TYPE, world, "dongli", row)


def own(code: int) -> list[Pairing]:
    """Pairings with a side (a region, or an organisation registered there) exactly at ``code``."""
    return list(Pairing.objects.filter(sides__region_code=code).distinct().order_by("-level", "name", "pk"))


def test_own_pairings_are_the_pairs_of_the_users_own_regions(world: World) -> None:
    clerk = workbench.own_pairings(world.user("chengdexian"))
    assert clerk == own(130821000000) and world.pairing("120110", "130821") in clerk
    assert world.provincial not in clerk
    assert workbench.own_pairings(world.user("dongli")) == own(120110000000)
    assert workbench.own_pairings(world.user("chengde")) == [world.provincial]
    assert workbench.own_pairings(world.user("national")) == []  # the whole country: no own pair
    assert workbench.own_pairings(world.user("viewer")) == []  # may not change ledgers


def test_due_lists_the_periods_the_user_files_with_their_deadlines_and_overdue_marked(world: World) -> None:
    clerk = world.user("chengdexian")
    pair = world.pairing("120110", "130821")
    rows = workbench.due_periods(clerk, TODAY, [pair])
    placements = [(r.year, r.period_no, r.deadline, r.overdue) for r in rows if r.ledger.key == "placements"]
    # Quarterly, due on the 15th day after the quarter: all of 2018 and 2019 Q1–Q3 are overdue,
    # 2019 Q4 is due on 2020-01-15 (within two months).
    assert placements == [
        (2018, 1, dt.date(2018, 4, 15), True),
        (2018, 2, dt.date(2018, 7, 15), True),
        (2018, 3, dt.date(2018, 10, 15), True),
        (2018, 4, dt.date(2019, 1, 15), True),
        (2019, 1, dt.date(2019, 4, 15), True),
        (2019, 2, dt.date(2019, 7, 15), True),
        (2019, 3, dt.date(2019, 10, 15), True),
        (2019, 4, dt.date(2020, 1, 15), False),
    ]
    projects = [(r.year, r.period_no, r.deadline, r.overdue) for r in rows if r.ledger.key == "projects"]
    assert projects == [(2018, 0, dt.date(2019, 1, 31), True), (2019, 0, dt.date(2020, 1, 31), False)]
    assert {r.side for r in rows} == {"helped"}
    # Submitted: no longer due for the clerk.
    period = services.get_period("placements", pair, "helped", 2019, 3)
    services.advance_period(period, actor=clerk)
    rows = workbench.due_periods(clerk, TODAY, [pair])
    assert (2019, 3) not in {(r.year, r.period_no) for r in rows if r.ledger.key == "placements"}
    # Not a month earlier: 2019 Q4 is not due yet on 2019-10-01.
    early = workbench.due_periods(clerk, dt.date(2019, 10, 1), [pair])
    assert (2019, 4) not in {(r.year, r.period_no) for r in early if r.ledger.key == "placements"}
    # A pairing's years bound its periods: the 2017–2020 pair has none due in 2026.
    assert workbench.due_periods(clerk, dt.date(2026, 12, 6), [pair]) == []
    # The helper side files its own periods, never the helped side's.
    assert {r.side for r in workbench.due_periods(world.user("dongli"), TODAY, [pair])} == {"helper"}


def test_records_to_confirm_and_disputes_are_counted_for_the_right_side(world: World) -> None:
    make_people()
    _secondment(world)
    second = save(
        talent.SECONDMENTS_TYPE,
        world,
        "dongli",
        {
            **_secondment_row(world),
            "id_number": id_number("120110", dt.date(1982, 2, 2), 124),
            "post": "支医医生",
        },
    )
    assert [(w.ledger.key, w.n) for w in workbench.to_confirm(world.user("chengdexian"))] == [
        ("secondments", 2)
    ]
    assert workbench.to_confirm(world.user("dongli")) == []  # its own records
    assert workbench.to_confirm(world.user("weichang")) == []  # another county
    services.confirm_record(
        talent.SECONDMENTS_TYPE,
        actor=world.user("chengdexian"),
        record=second,
        confirmed=False,
        note="人员未到岗",
    )
    assert [(w.ledger.key, w.n) for w in workbench.to_confirm(world.user("chengdexian"))] == [
        ("secondments", 1)
    ]
    assert [(w.ledger.key, w.n) for w in workbench.disputed(world.user("dongli"))] == [("secondments", 1)]
    assert workbench.disputed(world.user("chengdexian")) == []
    html = client_for(world, "chengdexian").get(reverse("web:home")).content.decode()
    assert re.findall(r'data-to-confirm="(\w+)" data-count="(\d+)"', html) == [("secondments", "1")]
    html = client_for(world, "dongli").get(reverse("web:home")).content.decode()
    assert re.findall(r'data-disputed="(\w+)" data-count="(\d+)"', html) == [("secondments", "1")]


def _secondment_row(world: World) -> dict[str, Any]:
    return {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "person_type": "professional",
        "professional_field": "education",
        "direction": "east_to_west",
        "home_org": "东丽区第一中学",
        "host_org": "承德县第一中学",
        "start_on": dt.date(2019, 3, 1),
        "end_on": dt.date(2020, 2, 29),
    }


def test_periods_waiting_for_the_users_step_and_unlock_requests(world: World) -> None:
    pair = world.pairing("120110", "130821")
    clerk, chengde = world.user("chengdexian"), world.user("chengde")
    period = services.get_period("projects", pair, "helped", 2019)
    assert workbench.periods_to_approve(chengde) == []
    services.advance_period(period, actor=clerk)  # county submits
    rows = workbench.periods_to_approve(chengde)
    assert [(r.period.pk, r.ledger.key, r.step) for r in rows] == [(period.pk, "projects", "县级审核")]
    assert workbench.periods_to_approve(clerk) == []  # the clerk's step is done
    assert workbench.periods_to_approve(world.user("dongli")) == []  # the other side's period
    services.advance_period(period, actor=chengde)  # county reviews (a prefecture grant may)
    services.advance_period(period, actor=world.user("national"))  # four eyes: another approves
    period.refresh_from_db()
    assert period.locked and workbench.periods_to_approve(chengde) == []
    assert workbench.unlock_requests(chengde) == []
    services.request_unlock(period, actor=clerk, reason="补录一个项目")
    assert [r.period.pk for r in workbench.unlock_requests(chengde)] == [period.pk]
    assert workbench.unlock_requests(clerk) == []
    html = client_for(world, "chengde").get(reverse("web:home")).content.decode()
    assert f'data-unlock-request="{period.pk}"' in html and "补录一个项目" in html


def test_recent_imports_show_their_counts_under_the_job_labels(world: World) -> None:
    user = world.user("chengdexian")
    Job.objects.create(
        kind="registry.import",
        created_by=user,
        status="done",
        result={"counts": {"read": 6, "accepted": 5, "rejected": 1}, "households": {"created": 3}},
    )
    Job.objects.create(kind="registry.import", created_by=world.user("weichang"), status="done", result={})
    rows = workbench.recent_imports(user)
    assert [(r.job.created_by_id, r.counts) for r in rows] == [
        (user.pk, [("读取", 6), ("接受", 5), ("拒绝", 1)])
    ]
    html = client_for(world, "chengdexian").get(reverse("web:home")).content.decode()
    assert re.findall(r'data-import="(\d+)"', html) == [str(rows[0].job.pk)]
    assert "读取" in html


def test_progress_against_the_agreement_targets_in_percent(world: World) -> None:
    people = make_people()
    pair = world.pairing("120110", "130821")
    save(
        engagement.AGREEMENTS_TYPE,
        world,
        "dongli",
        {
            "pairing": pair,
            "year": 2019,
            "target_item": "placements",
            "target_count": 8,
            "signed_on": dt.date(2019, 2, 15),
            "document_number": "东承协〔2019〕1号",
        },
    )
    _placement(world, people.poor[0])
    _placement(world, people.poor[1])
    out = workbench.progress([pair], TODAY, zh=True)
    assert out == [
        {
            "pairing": pair.name,
            "id": pair.pk,
            "year": 2019,
            "items": [
                {
                    "label": "帮助建档立卡贫困人口就业",
                    "total": "2",
                    "target": "8",
                    "unit": "人",
                    "percent": 25.0,
                }
            ],
        }
    ]
    # After the pairing's last year (2020) its last year is shown; it has no target then.
    later = [{"pairing": pair.name, "id": pair.pk, "year": 2020, "items": []}]
    assert workbench.progress([pair], dt.date(2026, 12, 6), zh=True) == later
    assert workbench.progress([pair], dt.date(2016, 12, 6), zh=True) == []  # not started


def test_the_home_page_carries_the_chart_data_as_json_and_loads_the_chart_code_from_static(
    world: World,
) -> None:
    people = make_people()
    pair = world.pairing("120110", "130821")
    year = 2020  # the pair's last year, shown on any later day
    save(
        engagement.AGREEMENTS_TYPE,
        world,
        "dongli",
        {
            "pairing": pair,
            "year": year,
            "target_item": "placements",
            "target_count": 4,
            "signed_on": dt.date(year, 2, 15),
            "document_number": "东承协1号",
        },
    )
    _placement(world, people.poor[0], year=year)
    html = client_for(world, "chengdexian").get(reverse("web:home")).content.decode()
    found = re.search(r'<script id="progress-data" type="application/json">(.*?)</script>', html)
    assert found is not None
    data = json.loads(found.group(1))
    assert [(p["id"], [i["percent"] for i in p["items"]]) for p in data] == [(pair.pk, [25.0])]
    assert "xiezuo/progress.js" in html and "vendor/echarts/echarts.min.js" in html
    assert "<script>" not in html  # no inline code
