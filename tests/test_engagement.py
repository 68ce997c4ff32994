"""The engagement ledgers (组织领导): agreement targets, leaders' visits, meetings (issue #4)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from openpyxl import Workbook, load_workbook

from tests.world import World
from xiezuo.core import codelists
from xiezuo.core.scope import SYSTEM, ScopeError
from xiezuo.core.tabular.spec import write_template
from xiezuo.engagement import ledgers as engagement
from xiezuo.engagement.models import MONEY_ITEMS, AgreementTarget, LeaderVisit, Meeting
from xiezuo.engagement.synth import generate
from xiezuo.ledgers import rollup, types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.services import RecordInvalid, save_record
from xiezuo.synth.ledgers import SynthContext, write_files

pytestmark = pytest.mark.django_db

DONGLI, CHENGDEXIAN = 120110000000, 130821000000
WAN = 10_000 * 100  # fen in one 万元


def _target(world: World, item: str, **values: Any) -> AgreementTarget:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "target_item": item,
        "signed_on": dt.date(2019, 2, 15),
        "document_number": "东承协〔2019〕1号",
        **values,
    }
    record: AgreementTarget = save_record(engagement.AGREEMENTS_TYPE, actor=world.user("dongli"), values=row)
    return record


def _visit(world: World, **values: Any) -> LeaderVisit:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "leader_level": "county_top",
        "direction": "east_to_west",
        "from_region": "120110",
        "to_region": "承德县",
        "visited_on": dt.date(2019, 4, 10),
        "returned_on": dt.date(2019, 4, 12),
        "purpose": "调研对接东西部扶贫协作工作",
        "delegation_size": 8,
        **values,
    }
    record: LeaderVisit = save_record(engagement.VISITS_TYPE, actor=world.user("dongli"), values=row)
    return record


def _meeting(world: World, **values: Any) -> Meeting:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "kind": "joint",
        "held_on": dt.date(2019, 3, 20),
        "place": "承德县",
        "chair_level": "county_top",
        "minutes_number": "东承纪〔2019〕1号",
        **values,
    }
    record: Meeting = save_record(engagement.MEETINGS_TYPE, actor=world.user("dongli"), values=row)
    return record


def _errors(fn: Any, *args: Any, **kwargs: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(RecordInvalid) as info:
        fn(*args, **kwargs)
    return info.value.errors


# --- agreement targets ------------------------------------------------------------------------


def test_money_items_are_the_items_counted_in_wan_yuan() -> None:
    in_wan = {e.code for e in codelists.entries("target_item") if "万元" in e.zh}
    assert MONEY_ITEMS == in_wan


def test_a_money_target_is_kept_in_fen_and_a_count_target_as_a_count(world: World) -> None:
    funds = _target(world, "fiscal_funds", target_fen=2500 * WAN)
    cadres = _target(world, "cadres", target_count=3)
    assert (funds.target_fen, funds.target_count, funds.value) == (2500 * WAN, None, 2500 * WAN)
    assert (cadres.target_fen, cadres.target_count, cadres.value) == (None, 3, 3)
    assert (funds.side, funds.region_code, funds.outcome) == ("helper", DONGLI, "created")


def test_agreement_target_rules(world: World) -> None:
    assert _errors(_target, world, "fiscal_funds", target_count=5) == [
        (
            "target_fen",
            "「财政援助资金（万元）」是金额目标，请填写目标金额",
            "fiscal_funds is a money target: give the amount",
        ),
        (
            "target_count",
            "「财政援助资金（万元）」是金额目标，目标数量应为空",
            "fiscal_funds is a money target: leave the count empty",
        ),
    ]
    assert _errors(_target, world, "enterprises", target_fen=100 * WAN) == [
        (
            "target_count",
            "「引导企业落地（个）」是数量目标，请填写目标数量",
            "enterprises is a count target: give the count",
        ),
        (
            "target_fen",
            "「引导企业落地（个）」是数量目标，目标金额应为空",
            "enterprises is a count target: leave the amount empty",
        ),
    ]
    assert _errors(_target, world, "visits", target_count=2, signed_on=dt.date(2020, 1, 5)) == [
        ("signed_on", "签订日期晚于归属年度（2019年）", "signed after the year 2019")
    ]
    _target(world, "visits", target_count=2)
    assert _errors(_target, world, "visits", target_count=3)[0][1].startswith("已存在相同记录")


def test_the_assessments_agreement_items_are_entered_as_counts(world: World) -> None:
    assert _errors(_target, world, "exit_rate", target_count=120) == [
        (
            "target_count",
            "「贫困人口脱贫率（%）」是百分比，目标数量应在0到100之间",
            "exit_rate is a percentage: give 0 to 100",
        )
    ]
    saved = [
        _target(world, item, target_count=n).value
        for item, n in (
            ("exit_rate", 25),
            ("exits", 300),
            ("industry_beneficiaries", 150),
            ("placements_to_partner", 120),
            ("workshop_employees", 60),
        )
    ]
    assert saved == [25, 300, 150, 120, 60]
    assert codelists.lookup("target_item", "脱贫率").code == "exit_rate"
    assert codelists.lookup("target_item", "车间吸纳就业").code == "workshop_employees"


def test_the_helped_side_does_not_enter_agreements(world: World) -> None:
    with pytest.raises(ScopeError):
        save_record(
            engagement.AGREEMENTS_TYPE,
            actor=world.user("chengdexian"),
            values={
                "pairing": world.pairing("120110", "130821"),
                "year": 2019,
                "target_item": "cadres",
                "target_count": 3,
                "signed_on": dt.date(2019, 2, 1),
            },
        )


def _raw(model: Any, world: World, **fields: Any) -> None:
    base = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "region_code": DONGLI,
        "side": "helper",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(key=str(random.random()), **base, **fields)


def test_database_constraints(world: World) -> None:
    signed = dt.date(2019, 2, 1)
    _raw(AgreementTarget, world, target_item="cadres", target_count=3, target_fen=100, signed_on=signed)
    _raw(AgreementTarget, world, target_item="cadres", signed_on=signed)
    _raw(AgreementTarget, world, target_item="fiscal_funds", target_fen=-1, signed_on=signed)
    _raw(AgreementTarget, world, target_item="cadres", target_count=-1, signed_on=signed)
    visit = {
        "leader_level": "county_top",
        "direction": "east_to_west",
        "from_region": DONGLI,
        "to_region": CHENGDEXIAN,
    }
    _raw(LeaderVisit, world, **visit, visited_on=dt.date(2019, 4, 10), returned_on=dt.date(2019, 4, 9))
    _raw(LeaderVisit, world, **{**visit, "to_region": DONGLI}, visited_on=dt.date(2019, 4, 10))
    _raw(LeaderVisit, world, **visit, visited_on=dt.date(2019, 4, 10), delegation_size=0)
    _raw(Meeting, world, kind="joint", held_on=dt.date(2019, 3, 1), attendance=0)


# --- visits and meetings ------------------------------------------------------------------------


def test_a_visit_names_its_regions_by_code_or_name(world: World) -> None:
    visit = _visit(world)
    assert (visit.from_region, visit.to_region, visit.direction) == (DONGLI, CHENGDEXIAN, "east_to_west")
    back = _visit(
        world, direction="west_to_east", from_region="130821", to_region="东丽区", leader_level="county_other"
    )
    assert (back.from_region, back.to_region) == (CHENGDEXIAN, DONGLI)


def test_visit_rules(world: World) -> None:
    assert _errors(_visit, world, visited_on=dt.date(2018, 12, 30), returned_on=dt.date(2018, 12, 28)) == [
        ("visited_on", "到访日期不在归属年度（2019年）内", "visited_on is not in the year 2019"),
        ("returned_on", "结束日期早于到访日期", "returned before the visit began"),
    ]
    assert _errors(_visit, world, to_region="东丽区") == [
        ("to_region", "出发地与到访地相同", "the visit goes from and to the same region")
    ]
    assert _errors(_visit, world, direction="west_to_east") == [
        (
            "from_region",
            "出发地不在受帮扶方地区（互访方向为西部到东部）",
            "the origin is not on the side the direction (west_to_east) says",
        ),
        (
            "to_region",
            "到访地不在帮扶方地区（互访方向为西部到东部）",
            "the destination is not on the side the direction (west_to_east) says",
        ),
    ]
    assert _errors(_visit, world, to_region="北京市") == [
        (
            "to_region",
            "到访地不在受帮扶方地区（互访方向为东部到西部）",
            "the destination is not on the side the direction (east_to_west) says",
        ),
    ]
    # a Tianjin city leader's visit may be kept on the county pair it concerns
    assert _visit(world, from_region="12", leader_level="province_top").from_region == 120000000000


def test_meeting_rules(world: World) -> None:
    assert _errors(_meeting, world, held_on=dt.date(2020, 1, 8)) == [
        ("held_on", "召开日期不在归属年度（2019年）内", "held_on is not in the year 2019")
    ]
    meeting = _meeting(world)
    assert (meeting.kind, meeting.chair_level, meeting.side) == ("joint", "county_top", "helper")


# --- import -------------------------------------------------------------------------------------


def _sheet(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:I1")
    book.save(path)
    return path


def _report(path: Path) -> list[tuple[int, str]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    at, why = header.index("原行号"), header.index("错误原因")
    return [(int(r[at]), str(r[why])) for r in rows[1:]]  # type: ignore[arg-type]


def test_import_a_messy_agreement_sheet(world: World, tmp_path: Path) -> None:
    pk = world.pairing("120110", "130821").pk
    path = _sheet(
        tmp_path / "targets.xlsx",
        [
            ["东丽区—承德县2019年携手奔小康协议目标任务表"],
            [
                "序号",
                "结对关系",
                "年度",
                "协议目标项",
                "目标金额\n（万元）",
                "目标数量",
                "协议文号",
                "签订日期",
                "备注",
            ],
            [1, pk, 2019, "财政帮扶资金", 2500, None, "东承协〔2019〕1号", "2019-02-15", None],
            [2, pk, 2019, "选派党政干部（人）", None, "3", "东承协〔2019〕1号", "2019年2月15日", None],
            [3, pk, 2019, "专业技术人才", None, 8, "东承协〔2019〕1号", dt.date(2019, 2, 15), None],
            [4, pk, 2019, "purchases", "5,000.5", None, "东承协〔2019〕1号", "2019.2.15", "含工会采购"],
            [5, pk, 2019, "引进企业", 300, None, "东承协〔2019〕1号", "2019-02-15", None],
            [6, pk, 2019, "植树造林", None, 100, "东承协〔2019〕1号", "2019-02-15", None],
            ["合计", None, None, None, "7800.5", 111, None, None, None],
        ],
    )
    errors = tmp_path / "errors.xlsx"
    result = import_ledger("agreement_targets", path, actor=world.user("dongli"), errors_out=errors)
    assert result.counts() == {
        "read": 6,
        "accepted": 4,
        "rejected": 2,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == ["targets.xlsx!Sheet：「目标金额（万元）」按万元读取（来自表头）"]
    values = dict(
        AgreementTarget.objects.filter(pairing_id=pk, year=2019).values_list("target_item", "target_fen")
    )
    counts = dict(
        AgreementTarget.objects.filter(pairing_id=pk, year=2019).values_list("target_item", "target_count")
    )
    assert values == {
        "fiscal_funds": 2500 * WAN,
        "cadres": None,
        "professionals": None,
        "purchases": 5_000_500_000,  # 5,000.5 万元
    }
    assert counts == {"fiscal_funds": None, "cadres": 3, "professionals": 8, "purchases": None}
    report = _report(errors)
    assert [n for n, _ in report] == [7, 8]
    assert report[0][1] == (
        "目标数量：「引导企业落地（个）」是数量目标，请填写目标数量；"
        "目标金额（万元）：「引导企业落地（个）」是数量目标，目标金额应为空"
    )
    assert report[1][1].startswith("协议目标项：「植树造林」不是有效的目标项目，可填：财政援助资金（万元）、")

    again = import_ledger("agreement_targets", path, actor=world.user("dongli"))
    assert again.counts() == {
        "read": 6,
        "accepted": 4,
        "rejected": 2,
        "created": 0,
        "updated": 0,
        "unchanged": 4,
    }


def test_import_visits_with_region_names(world: World, tmp_path: Path) -> None:
    pk = world.pairing("120110", "130821").pk
    path = _sheet(
        tmp_path / "visits.xlsx",
        [
            ["2019年领导互访台账"],
            [
                "结对关系",
                "归属年度",
                "领导级别",
                "互访方向",
                "出发地",
                "到访地",
                "考察日期",
                "结束日期",
                "随行人数",
            ],
            [pk, 2019, "区委书记", "东→西", "东丽区", "承德县", "2019-05-06", "2019-05-08", 12],
            [pk, 2019, "县长", "西部到东部", "承德县", "120110", "2019-09-10", "2019-09-12", 9],
            [pk, 2019, "副县长", "西→东", "承德县", "火星", "2019-10-10", None, 5],
        ],
    )
    errors = tmp_path / "errors.xlsx"
    result = import_ledger("visits", path, actor=world.user("dongli"), errors_out=errors)
    assert result.counts() == {
        "read": 3,
        "accepted": 2,
        "rejected": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert list(
        LeaderVisit.objects.filter(pairing_id=pk)
        .order_by("visited_on")
        .values_list("leader_level", "direction")
    ) == [
        ("county_top", "east_to_west"),
        ("county_top", "west_to_east"),
    ]
    assert _report(errors) == [(5, "到访地：「火星」不是有效的行政区划代码或名称")]


def test_the_template_has_the_common_columns_then_the_visit_columns(tmp_path: Path) -> None:
    path = write_template(types.get("visits").full_spec, tmp_path / "visits.xlsx")
    sheet = load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "结对关系", "归属年度", "行政区划代码", "带队领导级别", "带队领导", "互访方向", "出发地", "到访地",
        "到访日期", "结束日期", "考察内容", "代表团人数",
    ]  # fmt: skip


# --- roll-up and targets ------------------------------------------------------------------------


def test_rollup_counts_visits_and_meetings_against_the_agreement(world: World) -> None:
    county = world.pairing("120110", "130821")
    _target(world, "visits", target_count=2)
    _target(world, "meetings", target_count=1)
    _target(world, "fiscal_funds", target_fen=2500 * WAN)
    _visit(world)
    _visit(world, leader_level="department", visited_on=dt.date(2019, 6, 1), returned_on=None)
    _visit(
        world,
        direction="west_to_east",
        from_region="130821",
        to_region="120110",
        visited_on=dt.date(2019, 8, 1),
        returned_on=None,
    )
    _meeting(world)
    _meeting(world, kind="leadership", held_on=dt.date(2019, 5, 1))
    _meeting(world, kind="joint", held_on=dt.date(2020, 3, 1), year=2020)

    assert engagement.agreement_targets([county.pk], 2019) == {
        "fiscal_funds": 2500 * WAN,
        "meetings": 1,
        "visits": 2,
    }
    assert engagement.agreement_targets in rollup._providers
    up = rollup.rollup(world.provincial, 2019)
    lines = {line.metric.key: line for line in up.lines if line.ledger.area == "engagement"}
    assert (lines["visits"].total, lines["visits"].split, lines["visits"].target) == (
        3,
        {"east_to_west": 2, "west_to_east": 1},
        None,
    )
    assert (lines["top_visits"].total, lines["top_visits"].own, lines["top_visits"].target) == (2, 0, 2)
    xiqing = world.pairing("120111", "130881")
    assert {p.pk: v for p, v in lines["top_visits"].children} == {county.pk: 2, xiqing.pk: 0}
    assert (lines["joint_meetings"].total, lines["joint_meetings"].target) == (1, 1)
    assert (lines["meetings"].total, lines["meetings"].split) == (2, {"joint": 1, "leadership": 1})
    assert up.targets["fiscal_funds"] == 2500 * WAN


# --- synthetic data -----------------------------------------------------------------------------


def test_synthetic_engagement_is_reproducible_and_saves(world: World, tmp_path: Path) -> None:
    county = world.pairing("120110", "130821")
    pairings = [world.provincial, county, world.pairing("120111", "130881")]
    rows = generate(SynthContext(rng=random.Random(7), year=2019, pairings=pairings))
    again = generate(SynthContext(rng=random.Random(7), year=2019, pairings=pairings))
    assert rows == again
    assert {k: len(v) for k, v in rows.items()} == {"agreement_targets": 54, "visits": 11, "meetings": 12}
    for key, values in rows.items():
        for row in values:
            save_record(types.get(key), actor=SYSTEM, values=row, via="demo", upsert=True)
    assert AgreementTarget.objects.filter(year=2019).count() == 54
    per_pair = {p.pk: engagement.agreement_targets([p.pk], 2019) for p in pairings}
    assert all(set(t) == {e.code for e in codelists.entries("target_item")} for t in per_pair.values())
    assert [Meeting.objects.filter(pairing=p, kind="joint").count() for p in pairings] == [1, 2, 2]
    assert [LeaderVisit.objects.filter(pairing=p).count() for p in pairings] == [3, 5, 3]
    # the same rows written as import sheets import back as they are
    for path in write_files(rows, tmp_path):
        result = import_ledger(path.stem, path, actor=SYSTEM)
        assert (result.read, result.unchanged) == (len(rows[path.stem]), len(rows[path.stem]))
