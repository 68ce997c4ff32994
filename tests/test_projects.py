"""Projects ledgers (issue #4): projects through their stages, beneficiaries checked against the registry."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import IntegrityError, transaction

from tests.ledgers_world import People, registry_people  # noqa: F401
from tests.world import World
from xiezuo.funds import synth as funds_synth
from xiezuo.ledgers import rollup, types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.services import RecordInvalid, save_record
from xiezuo.pairings.models import Pairing
from xiezuo.projects import rules
from xiezuo.projects import synth as projects_synth
from xiezuo.projects.models import Beneficiary, Project
from xiezuo.synth.ledgers import SynthContext

pytestmark = pytest.mark.django_db

WAN = 1_000_000  # fen in 万元
CHENGDEXIAN = 130821000000


def projects_type() -> types.LedgerType:
    return types.get("projects")


def beneficiaries_type() -> types.LedgerType:
    return types.get("project_beneficiaries")


def project(pairing: Pairing, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pairing": pairing,
        "year": 2019,
        "region_code": "130821",
        "project_number": "130821-2019-001",
        "name": "食用菌种植基地",
        "project_type": "industry",
        "stage": "completed",
        "budget_fen": 300 * WAN,
        "east_west_fen": 200 * WAN,
        "other_fen": 100 * WAN,
        "banked_on": dt.date(2018, 12, 1),
        "approved_on": dt.date(2019, 2, 1),
        "plan_notice_on": dt.date(2019, 2, 20),
        "started_on": dt.date(2019, 3, 1),
        "completed_on": dt.date(2019, 9, 1),
        "completion_notice_on": dt.date(2019, 9, 10),
        "benefit_mechanism": "dividend",
        "benefit_households": 120,
    }
    values.update(overrides)
    return values


def errors_of(ltype: types.LedgerType, actor: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RecordInvalid) as exc:
        save_record(ltype, actor=actor, values=values)
    return [(k, zh) for k, zh, _en in exc.value.errors]


# --- projects ----------------------------------------------------------------------------------


def test_a_project_is_saved_by_the_helped_side_at_its_place(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    record = save_record(projects_type(), actor=world.user("chengdexian"), values=project(pairing))
    p = Project.objects.get(pk=record.pk)
    assert (p.side, p.region_code, p.stage, p.budget_fen, p.east_west_fen, p.confirmation) == (
        "helped",
        CHENGDEXIAN,
        "completed",
        300 * WAN,
        200 * WAN,
        "none",
    )
    # The project number identifies it within the pairing: a second save is a duplicate.
    assert errors_of(projects_type(), world.user("chengdexian"), project(pairing, name="另一个名称")) == [
        ("", f"已存在相同记录（记录号 {p.pk}）")
    ]
    # A helper-side user may not write it.
    assert errors_of(projects_type(), world.user("dongli"), project(pairing, region_code="120110")) == [
        ("region_code", "行政区划不在该结对关系的受帮扶方范围内")
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"completed_on": None, "completion_notice_on": None},
            [("completed_on", "项目处于「完工」阶段，请填写完工日期")],
        ),
        (
            {"stage": "approved", "completion_notice_on": None, "completed_on": None},
            [("stage", "已填写开工日期，项目阶段不应为「批复」，请更新项目阶段")],
        ),
        ({"stage": "accepted"}, [("accepted_on", "项目处于「验收」阶段，请填写验收日期")]),
        (
            {"approved_on": dt.date(2018, 11, 1)},
            [("approved_on", "批复日期（2018-11-01）早于入库日期（2018-12-01），请核对")],
        ),
        (
            {"completed_on": dt.date(2019, 2, 1), "completion_notice_on": None, "plan_notice_on": None},
            [("completed_on", "完工日期（2019-02-01）早于开工日期（2019-03-01），请核对")],
        ),
        (
            {"plan_notice_on": dt.date(2019, 3, 2)},
            [("plan_notice_on", "计划公示应在项目开工前进行：计划公示日期晚于开工日期")],
        ),
        (
            {"completion_notice_on": dt.date(2019, 8, 31)},
            [("completion_notice_on", "完成公示日期早于完工日期，请核对")],
        ),
        (
            {"stage": "started", "completed_on": None},
            [("completion_notice_on", "已填写完成公示日期，请填写完工日期")],
        ),
        ({"east_west_fen": 301 * WAN}, [("east_west_fen", "东西部协作资金超过项目总投资")]),
        ({"other_fen": 99 * WAN}, [("other_fen", "东西部协作资金与其他资金之和应等于项目总投资，请核对")]),
        ({"project_type": None}, [("project_type", "必填，不能为空")]),
    ],
)
def test_project_rules(world: World, overrides: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    pairing = world.pairing("120110", "130821")
    assert errors_of(projects_type(), world.user("chengdexian"), project(pairing, **overrides)) == expected
    assert not Project.objects.exists()


def test_rules_doctests() -> None:
    import doctest

    assert doctest.testmod(rules).failed == 0


def test_a_skipped_stage_date_is_allowed_and_the_order_is_checked_across_the_gap() -> None:
    values = {"stage": "started", "banked_on": dt.date(2019, 5, 1), "started_on": dt.date(2019, 4, 1)}
    assert [e[1] for e in rules.stage_errors(values)] == [
        "开工日期（2019-04-01）早于入库日期（2019-05-01），请核对"
    ]
    assert rules.stage_errors({"stage": "started", "started_on": dt.date(2019, 4, 1)}) == []
    assert rules.stage_errors({"stage": "reserve"}) == []


def raw_project(pairing: Pairing, key: str, **fields: Any) -> Project:
    base: dict[str, Any] = {
        "pairing": pairing,
        "year": 2019,
        "region_code": CHENGDEXIAN,
        "side": "helped",
        "key": key,
        "project_number": key,
        "name": "x",
        "project_type": "industry",
        "stage": "started",
        "budget_fen": 100,
        "east_west_fen": 60,
        "other_fen": 40,
    }
    return Project(**{**base, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"budget_fen": -1, "east_west_fen": 0, "other_fen": None},
        {"east_west_fen": 101, "other_fen": None},
        {"other_fen": 41},
        {"other_fen": -1},
        {"approved_on": dt.date(2019, 5, 1), "started_on": dt.date(2019, 4, 30)},
        {"accepted_on": dt.date(2019, 5, 1), "reimbursed_on": dt.date(2019, 4, 30)},
        {"completed_on": dt.date(2019, 5, 1), "completion_notice_on": dt.date(2019, 4, 30)},
    ],
)
def test_project_database_constraints(world: World, fields: dict[str, Any]) -> None:
    pairing = world.pairing("120110", "130821")
    raw_project(pairing, "ok", started_on=dt.date(2019, 4, 1), completed_on=dt.date(2019, 4, 1)).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_project(pairing, "bad", **fields).save()


def read_errors(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return [(r["原行号"], r["错误列"], r["错误原因"]) for r in csv.DictReader(fh)]


def write_projects_sheet(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "项目台账"
    sheet.append(["承德县2019年东西部扶贫协作项目实施情况表"])
    sheet.append(
        [
            "序号",
            "年度",
            "项目编号",
            "项目名称",
            "项目类别",
            "所在地区划代码",
            "项目进度",
            "总投资（万元）",
            "协作资金（万元）",
            "其他资金（万元）",
            "入库日期",
            "批复日期",
            "开工日期",
            "竣工日期",
            "计划公示日期",
            "完成公示日期",
            "带贫方式",
            "受益户数",
        ]
    )
    rows = [
        [
            1,
            2019,
            "CDX-2019-01",
            "肉牛养殖场",
            "产业扶贫",
            "130821",
            "已开工",
            300,
            200,
            100,
            "2018-12-01",
            "2019-02-01",
            "2019-03-01",
            None,
            "2019-02-20",
            None,
            "入股分红",
            80,
        ],
        [
            2,
            2019,
            "CDX-2019-02",
            "产业路硬化工程",
            "基础设施建设",
            "承德县",
            "竣工",
            150.5,
            150.5,
            0,
            None,
            "2019-03-01",
            "2019-04-01",
            "2019-08-01",
            "2019-03-15",
            "2019-08-10",
            "务工",
            40,
        ],
        [
            3,
            2019,
            "CDX-2019-03",
            "村卫生室建设",
            "卫生",
            "130821",
            "开工",
            50,
            50,
            None,
            None,
            "2019-05-01",
            "2019-04-01",
            None,
            None,
            None,
            None,
            None,
        ],
        [
            4,
            2019,
            "CDX-2019-04",
            "危房改造",
            "危房改造",
            "130821",
            "动工",
            20,
            20,
            0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        [
            "合计",
            None,
            None,
            None,
            None,
            None,
            None,
            520.5,
            420.5,
            100,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            120,
        ],
    ]
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_of_a_messy_projects_sheet(world: World, tmp_path: Path) -> None:
    pairing = world.pairing("120110", "130821")
    path = write_projects_sheet(tmp_path / "projects.xlsx")
    errors = tmp_path / "errors.csv"
    result = import_ledger(
        "projects", path, actor=world.user("chengdexian"), pairing=pairing, errors_out=errors
    )
    assert result.counts() == {
        "read": 4,
        "accepted": 2,
        "rejected": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == [
        f"projects.xlsx!项目台账：「{h}」按万元读取（来自表头）"
        for h in ("总投资（万元）", "协作资金（万元）", "其他资金（万元）")
    ]
    assert read_errors(errors) == [
        ("5", "开工日期", "开工日期：开工日期（2019-04-01）早于批复日期（2019-05-01），请核对"),
        (
            "6",
            "项目进度",
            "项目进度：「动工」不是有效的项目阶段，可填：储备、入库、批复、开工、完工、验收、县级报账、资产确权移交"
            "（或代码 reserve、banked、approved、started、completed、accepted、reimbursed、handed_over）",
        ),
    ]
    got = {
        p.project_number: (
            p.project_type,
            p.stage,
            p.budget_fen,
            p.east_west_fen,
            p.other_fen,
            p.benefit_mechanism,
            p.region_code,
        )
        for p in Project.objects.all()
    }
    assert got == {
        "CDX-2019-01": ("industry", "started", 300 * WAN, 200 * WAN, 100 * WAN, "dividend", CHENGDEXIAN),
        "CDX-2019-02": (
            "infrastructure",
            "completed",
            150_500_000,
            150_500_000,
            0,
            "employment",
            CHENGDEXIAN,
        ),
    }
    again = import_ledger("projects", path, actor=world.user("chengdexian"), pairing=pairing)
    assert again.counts() == {
        "read": 4,
        "accepted": 2,
        "rejected": 2,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
    }


# --- beneficiaries -----------------------------------------------------------------------------


def test_beneficiaries_are_checked_against_the_registry_on_the_project_start(
    world: World,
    registry_people: People,  # noqa: F811
) -> None:
    pairing = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    save_record(projects_type(), actor=clerk, values=project(pairing))
    started = dt.date(2019, 3, 1)
    people = {
        "poor": registry_people.poor[0],
        "exited": registry_people.exited[0],
        "dead": registry_people.dead[0],
        "outside": registry_people.outside[0],
        "unknown": registry_people.unknown[0],
    }
    records = {}
    for label, number in people.items():
        values = {
            "pairing": pairing,
            "year": 2019,
            "project_number": "130821-2019-001",
            "id_number": number,
            "started_on": started,
        }
        records[label] = save_record(beneficiaries_type(), actor=clerk, values=values)
    checks = {
        label: PersonCheck.objects.filter(ledger="project_beneficiaries", record_id=r.pk)
        .values_list("ok", "reason", "on_date")
        .get()
        for label, r in records.items()
    }
    assert checks == {
        "poor": (True, "match", started),
        "exited": (True, "match_exited", started),
        "dead": (False, "dead", started),
        "outside": (False, "not_verified", started),
        "unknown": (False, "not_verified", started),
    }
    assert {label: Beneficiary.objects.get(pk=r.pk).flagged for label, r in records.items()} == {
        "poor": False,
        "exited": False,
        "dead": True,
        "outside": True,
        "unknown": True,
    }
    lines = {(line.ledger.key, line.metric.key): line for line in rollup.rollup(world.provincial, 2019).lines}
    assert lines[("project_beneficiaries", "beneficiaries")].total == 2
    assert lines[("projects", "projects")].total == 1
    assert lines[("projects", "projects")].split == {"industry": 1}
    assert lines[("projects", "projects")].metric.target == "projects"
    assert (lines[("projects", "budget")].total, lines[("projects", "east_west")].total) == (
        300 * WAN,
        200 * WAN,
    )


def test_beneficiary_rules(world: World, registry_people: People) -> None:  # noqa: F811
    pairing = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    save_record(projects_type(), actor=clerk, values=project(pairing))
    base = {
        "pairing": pairing,
        "year": 2019,
        "project_number": "130821-2019-001",
        "id_number": registry_people.poor[1],
    }
    assert errors_of(beneficiaries_type(), clerk, {**base, "project_number": "X-1"}) == [
        ("project_number", "项目编号「X-1」未在本结对关系的帮扶项目台账中登记，请先登记项目")
    ]
    assert errors_of(beneficiaries_type(), clerk, {**base, "started_on": dt.date(2019, 3, 2)}) == [
        ("started_on", "项目开工日期与项目台账不一致（项目台账为 2019-03-01）")
    ]
    assert errors_of(beneficiaries_type(), clerk, {**base, "id_number": None}) == [
        ("id_number", "必填，不能为空")
    ]
    record = save_record(beneficiaries_type(), actor=clerk, values=base)
    again = save_record(beneficiaries_type(), actor=clerk, values=base, upsert=True)
    assert (again.pk, again.outcome) == (record.pk, "unchanged")


# --- synthetic data ----------------------------------------------------------------------------


def test_synthetic_projects_follow_the_funds_and_pass_the_rules(
    world: World,
    registry_people: People,  # noqa: F811
) -> None:
    pairing = world.pairing("120110", "130821")

    def rows() -> dict[str, list[dict[str, Any]]]:
        ctx = SynthContext(rng=random.Random(11), year=2019, pairings=[pairing, world.provincial])
        out = funds_synth.generate(ctx)
        out.update(projects_synth.generate(ctx))
        return out

    first = rows()
    assert first == rows()
    funded: dict[str, int] = {}
    for a in first["fund_allocations"]:
        if a["project_number"]:
            funded[a["project_number"]] = funded.get(a["project_number"], 0) + a["amount_fen"]
    assert {p["project_number"]: p["east_west_fen"] for p in first["projects"]} == funded
    assert 10 <= len(first["projects"]) <= 60
    national = world.user("national")
    for key in ("projects", "project_beneficiaries"):
        for values in first[key]:
            save_record(types.get(key), actor=national, values=values, via="demo")
    assert Project.objects.count() == len(first["projects"])
    assert Beneficiary.objects.count() == len(first["project_beneficiaries"])
    reasons = set(PersonCheck.objects.filter(ledger="project_beneficiaries").values_list("reason", flat=True))
    assert reasons <= {"match", "match_exited", "match_monitored", "not_verified", "not_poor_on_date"}


def test_projects_alone_make_their_own_numbers(world: World) -> None:
    pairing = world.pairing("120111", "130881")
    ctx = SynthContext(rng=random.Random(3), year=2019, pairings=[pairing])
    out = projects_synth.generate(ctx)
    assert [p["project_number"] for p in out["projects"]][:2] == ["130881-2019-001", "130881-2019-002"]
    for p in out["projects"]:
        assert rules.project_errors(p) == []
