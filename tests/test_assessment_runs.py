"""Assessment runs on the test world (issue 18): facts from the database, the snapshot, the run's
results written back, ``xiezuo assess --json`` and recomputing from the snapshot.

The test world's county pair 东丽区 → 承德县 (under 天津 → 承德) gets placements of the registry
people of tests/ledgers_world.py, entered through the ledger service as a clerk would.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from tests.ledgers_world import People, make_people
from tests.world import World
from xiezuo.accounts.tokens import create_token
from xiezuo.assessment import facts
from xiezuo.assessment import snapshot as snapshots
from xiezuo.assessment.engine.facts import SCHEMAS
from xiezuo.assessment.models import Finding, IndicatorResult, Run, Score
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.engagement.models import AgreementTarget
from xiezuo.labour.ledgers import PLACEMENT_TYPE
from xiezuo.labour.models import Placement
from xiezuo.ledgers.services import save_record
from xiezuo.pairings.models import Pairing
from xiezuo.registry.models import HelpMeasure, Household, Member, Monitoring


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    # the command line speaks the default language; an earlier test may have left English active
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def placed(world: World) -> tuple[People, Pairing, dict[str, int]]:
    people = make_people()
    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    ids: dict[str, int] = {}

    def place(name: str, person: str, start: dt.date, end: dt.date | None = None) -> None:
        values = {
            "pairing": pair,
            "year": 2019,
            "id_number": person,
            "employer": "天津东丽测试电子有限公司",
            "workplace_region": "120110",
            "start": start,
            "end": end,
            "arrangement": "organised",
        }
        ids[name] = save_record(PLACEMENT_TYPE, actor=clerk, values=values).pk

    place("poor", people.poor[0], dt.date(2019, 3, 1))
    place("poor_again", people.poor[0], dt.date(2019, 6, 1))
    place("short", people.poor[1], dt.date(2019, 11, 1))
    place("exited", people.exited[0], dt.date(2019, 3, 1))
    place("dead", people.dead[0], dt.date(2019, 7, 1))
    place("outside", people.outside[0], dt.date(2019, 3, 1))
    place("unknown", people.unknown[0], dt.date(2019, 3, 1))
    AgreementTarget.objects.create(
        pairing=pair,
        year=2019,
        side="helper",
        region_code=120110000000,
        key="assessment-test-target",
        target_item="placements",
        target_count=4,
        signed_on=dt.date(2019, 1, 15),
    )
    return people, pair, ids


def _assess(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("assess", "--year", "2019", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def _indicator(result: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in result["indicators"] if i["code"] == code)


def test_facts_carry_keys_not_personal_data(placed: tuple[People, Pairing, dict[str, int]]) -> None:
    _people, pair, ids = placed
    tables = facts.take()
    for name, table in tables.items():
        assert table.schema.equals(SCHEMAS[name]), name
    members = {m.id_hmac: m.pk for m in Member.objects.all()}
    top = max(members.values())
    on_placements = [r for r in tables["record_people"].to_pylist() if r["ledger"] == "placements"]
    keys = {r["record"]: r["person"] for r in on_placements}
    # registry members by their id; the one stranger keyed just above every member
    assert keys[ids["poor"]] == keys[ids["poor_again"]]
    assert keys[ids["unknown"]] == top + 1
    assert {keys[ids[n]] for n in ("poor", "short", "exited", "dead", "outside")} <= set(members.values())
    strings = {
        v for t in tables.values() for c in t.columns if str(c.type) == "string" for v in c.to_pylist()
    }
    assert not strings & set(members)  # no keyed hash left the database
    placements = {r["record"]: r for r in tables["placements"].to_pylist()}
    assert placements[ids["short"]]["start"] == dt.date(2019, 11, 1)
    assert placements[ids["short"]]["pairing"] == pair.pk


def test_assess_a_year_writes_the_run_and_answers_json(
    world: World, placed: tuple[People, Pairing, dict[str, int]]
) -> None:
    _people, pair, ids = placed
    provincial = world.provincial
    data = _assess("--scope", "1308")
    run = Run.objects.get()
    assert data["run"] == {
        "id": run.pk,
        "year": 2019,
        "frameworks": [
            {"code": "ew-2017-east", "version": "2017.2"},
            {"code": "ew-2017-west", "version": "2017.2"},
        ],
        "snapshot": run.snapshot,
    }
    by_key = {(r["pairing"], r["side"]): r for r in data["results"]}
    county = by_key[(pair.pk, "helper")]
    assert (county["level"], _indicator(county, "E17")) == (
        "county-county",
        {"code": "E17", "value": 2, "target": 4, "points": 4.0},
    )
    # the provincial pair includes its county pairs, and has no agreement of its own: the county's 4
    assert _indicator(by_key[(provincial.pk, "helper")], "E17") == {
        "code": "E17",
        "value": 2,
        "target": 4,
        "points": 4.0,
    }
    assert _indicator(by_key[(pair.pk, "helped")], "W17") == {
        "code": "W17",
        "value": 2,
        "target": 4,
        "points": 3.5,
    }
    assert _indicator(by_key[(pair.pk, "helped")], "W19") == {
        "code": "W19",
        "value": 1,
        "target": 0.8,
        "points": 6.0,
    }
    # 承德县 is a national poverty county paired by this very pair: full coverage (E20)
    assert _indicator(county, "E20") == {"code": "E20", "value": 1, "target": 1, "points": 5.0}
    assert county["total"] == 13.0 and county["areas"]["labour"] == 4.0 and county["grade"] == "较差"
    levels = {(r["side"], r["level"]) for r in data["results"]}
    assert ("helper", "province-prefecture") in levels and ("helped", "county-county") in levels
    # written back: one score per result, 22 indicators each, the refusals as findings
    assert Score.objects.filter(run=run).count() == len(data["results"])
    assert IndicatorResult.objects.filter(run=run).count() == 22 * len(data["results"])
    score = Score.objects.get(run=run, pairing_id=pair.pk, side="helper")
    assert (score.total, score.grade, score.areas["labour"]) == (Decimal("13.00"), "较差", "4.00")
    refused = sorted(
        (f.reason, f.records)
        for f in Finding.objects.filter(run=run, indicator="E17", pairing_id=pair.pk, side="helper")
    )
    assert refused == [
        ("counted_already", [ids["poor_again"]]),
        ("not_poor_on_date", [ids["dead"]]),
        ("not_registered", [ids["unknown"]]),
        ("outside_area", [ids["outside"]]),
        ("too_short", [ids["short"]]),
    ]
    missing = Finding.objects.get(run=run, indicator="E5", pairing_id=pair.pk, reason="missing_target")
    assert missing.severity == "error"
    evidence = pq.read_table(settings.DATA_DIR / run.evidence_path).to_pylist()
    counted = sorted(
        r["record"]
        for r in evidence
        if r["indicator"] == "E17" and r["pairing"] == pair.pk and r["reason"] is None
    )
    assert counted == sorted([ids["poor"], ids["exited"]])
    entry = AuditEntry.objects.get(action="assess")
    assert (entry.object_id, entry.batch["snapshot"]) == (str(run.pk), run.snapshot)


def test_recomputing_from_the_snapshot_gives_the_same_results(
    placed: tuple[People, Pairing, dict[str, int]],
) -> None:
    _people, pair, ids = placed
    first = _assess("--scope", "1308")
    Placement.objects.filter(pk=ids["exited"]).delete()  # the database changes after the run
    again = _assess("--scope", "1308", "--snapshot", first["run"]["snapshot"])
    assert json.dumps(again["results"], sort_keys=True) == json.dumps(first["results"], sort_keys=True)
    assert again["run"]["snapshot"] == first["run"]["snapshot"] and again["run"]["id"] != first["run"]["id"]
    fresh = _assess("--scope", "1308")
    assert fresh["run"]["snapshot"] != first["run"]["snapshot"]
    county = next(r for r in fresh["results"] if r["pairing"] == pair.pk and r["side"] == "helper")
    assert _indicator(county, "E17")["value"] == 1
    # the same database content gives the same snapshot, file for file
    assert snapshots.write(facts.take()) == fresh["run"]["snapshot"]


def test_clear_errors_for_bad_runs(placed: tuple[People, Pairing, dict[str, int]]) -> None:
    with pytest.raises(
        CommandError, match=re.escape("未知的考核框架 ew-1999（已有：ew-2017-east, ew-2017-west, ew-2021）。")
    ):
        _assess("--framework", "ew-1999")
    with pytest.raises(CommandError, match=re.escape(f"考核快照 {'0' * 64} 不存在或已被改动。")):
        _assess("--snapshot", "0" * 64)
    with pytest.raises(CommandError, match=re.escape("不是行政区划代码：13x")):
        _assess("--scope", "13x")
    out = io.StringIO()
    with pytest.raises(CommandError, match=re.escape("没有适用于 1999 年的考核框架。")):
        call_command("assess", "--year", "1999", stdout=out)
    assert Run.objects.count() == 0


def test_results_to_a_workbook(placed: tuple[People, Pairing, dict[str, int]], tmp_path: Path) -> None:
    _people, pair, ids = placed
    out = io.StringIO()
    path = tmp_path / "results.xlsx"
    call_command("assess", "--year", "2019", "--scope", "130821", "--out", str(path), stdout=out)
    run = Run.objects.get()
    # the county pair and the township and village pairs below it, both sides
    assert out.getvalue().startswith(f"考核运行 {run.pk}：6 项结果，")
    book = load_workbook(path)
    assert book.sheetnames == ["考核结果", "核查发现"]
    rows = list(book["考核结果"].iter_rows(values_only=True))
    assert rows[0][:7] == ("考核框架", "结对关系", "结对方", "层级", "合计", "等次", "排名")
    assert rows[0][7:10] == ("E1", "E2", "E3") and len(rows) == 7
    assert sorted({r[3] for r in rows[1:]}) == ["county-county", "township-township", "village-village"]
    helper = next(r for r in rows[1:] if r[2] == "helper")
    assert helper[:7] == ("ew-2017-east", pair.pk, "helper", "county-county", 13, "较差", 1)
    assert helper[7 + 16] == 4.0  # E17
    findings = list(book["核查发现"].iter_rows(values_only=True))
    assert ("E17", pair.pk, "helper", "outside_area", "warning", str(ids["outside"])) in findings


def _api(world: World, username: str, run_id: int) -> tuple[int, dict[str, Any]]:
    _, raw = create_token(actor=SYSTEM, user=world.user(username), name="test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get(f"/api/v1/assessment/runs/{run_id}")
    return response.status_code, response.json()


def test_the_api_serves_the_same_json_scoped(
    world: World, placed: tuple[People, Pairing, dict[str, int]]
) -> None:
    _people, pair, _ids = placed
    cli = _assess("--scope", "1308")
    run_id = cli["run"]["id"]
    status, national = _api(world, "national", run_id)
    assert status == 200
    assert json.dumps(national, sort_keys=True) == json.dumps(cli, sort_keys=True)
    # 东丽区's coordinator sees the pairs with a side in 东丽区, not 天津 → 承德 above them
    status, dongli = _api(world, "dongli", run_id)
    assert status == 200 and dongli["run"] == cli["run"]
    seen = {r["pairing"] for r in dongli["results"]}
    assert pair.pk in seen and world.provincial.pk not in seen
    assert [r for r in cli["results"] if r["pairing"] in seen] == dongli["results"]
    # 宁波 helps elsewhere: the run does not exist for it, exactly like a missing one
    assert _api(world, "ningbo", run_id) == (404, {"detail": "未找到。", "errors": []})
    assert _api(world, "national", run_id + 1000) == (404, {"detail": "未找到。", "errors": []})


def test_help_measures_of_monitored_households_give_w22(
    placed: tuple[People, Pairing, dict[str, int]],
) -> None:
    _people, pair, _ids = placed
    # two households of 承德县 (the county pair's helped side) identified for monitoring in 2019
    first, second = Household.objects.filter(
        region_code__gte=130821000000, region_code__lt=130822000000
    ).order_by("pk")[:2]
    quick = Monitoring.objects.create(household=first, kind="edge", identified_on=dt.date(2019, 4, 1))
    slow = Monitoring.objects.create(household=second, kind="edge", identified_on=dt.date(2019, 4, 1))
    HelpMeasure.objects.create(monitoring=quick, channel="employment", started_on=dt.date(2019, 4, 20))
    HelpMeasure.objects.create(monitoring=slow, channel="industry", started_on=dt.date(2019, 6, 1))
    assert facts.help_measures().to_pylist() == sorted(
        [
            {"household": first.pk, "identified_on": dt.date(2019, 4, 1), "started_on": dt.date(2019, 4, 20)},
            {"household": second.pk, "identified_on": dt.date(2019, 4, 1), "started_on": dt.date(2019, 6, 1)},
        ],
        key=lambda r: r["household"],
    )
    result = next(r for r in _assess()["results"] if r["pairing"] == pair.pk and r["side"] == "helped")
    # one of the two was helped within 30 days (19 days), the other after 61
    assert _indicator(result, "W22") == {"code": "W22", "value": 0.5, "target": 1, "points": 3.0}
