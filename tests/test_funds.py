"""Funds ledgers (issue #4): fiscal aid transfers through their stages, allocations, donations."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import IntegrityError, transaction

from tests.world import World
from xiezuo.core.scope import ScopeError
from xiezuo.funds import ledgers as funds_ledgers
from xiezuo.funds import synth as funds_synth
from xiezuo.funds.models import Donation, FiscalFund, FundAllocation
from xiezuo.ledgers import rollup, types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import LedgerRecord
from xiezuo.ledgers.services import RecordInvalid, confirm_record, save_record
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.synth.ledgers import SynthContext

pytestmark = pytest.mark.django_db

WAN = 1_000_000  # fen in 万元
CHENGDEXIAN = 130821000000
DONGLI = 120110000000


def funds_type() -> types.LedgerType:
    return types.get("fiscal_funds")


def transfer(pairing: Pairing, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pairing": pairing,
        "year": 2019,
        "transfer_number": "津协〔2019〕1号",
        "title": "第一批",
        "source_level": "province",
        "target_region_code": "130821",
        "agreed_fen": 500 * WAN,
        "agreed_on": dt.date(2019, 2, 20),
        "allocated_fen": 500 * WAN,
        "allocated_on": dt.date(2019, 3, 15),
        "arrived_fen": 500 * WAN,
        "arrived_on": dt.date(2019, 4, 2),
        "receipt_number": "DZ2019001",
        "spent_fen": 420 * WAN,
        "spent_on": dt.date(2019, 12, 31),
    }
    values.update(overrides)
    return values


def errors_of(ltype: types.LedgerType, actor: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RecordInvalid) as exc:
        save_record(ltype, actor=actor, values=values)
    return [(k, zh) for k, zh, _en in exc.value.errors]


# --- fiscal aid --------------------------------------------------------------------------------


def test_a_transfer_is_saved_by_the_helper_and_confirmed_by_the_helped_finance_office(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    record = save_record(funds_type(), actor=world.user("dongli"), values=transfer(pairing))
    assert record.outcome == "created"
    fund = FiscalFund.objects.get(pk=record.pk)
    assert (fund.side, fund.region_code, fund.target_region_code) == ("helper", DONGLI, CHENGDEXIAN)
    assert (fund.allocated_fen, fund.arrived_fen, fund.spent_fen) == (500 * WAN, 500 * WAN, 420 * WAN)
    assert fund.confirmation == LedgerRecord.PENDING

    with pytest.raises(ScopeError):
        confirm_record(funds_type(), actor=world.user("dongli"), record=fund, confirmed=True)
    confirm_record(funds_type(), actor=world.user("chengdexian"), record=fund, confirmed=True, note="已到账")
    fund.refresh_from_db()
    assert (fund.confirmation, fund.confirmed_by.username, fund.confirm_note) == (
        "confirmed",
        "chengdexian",
        "已到账",
    )


def test_the_helped_finance_office_attaches_the_receipt_scan(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xiezuo.ledgers.models import Attachment
    from xiezuo.ledgers.services import add_attachment

    pairing = world.pairing("120110", "130821")
    record = save_record(funds_type(), actor=world.user("dongli"), values=transfer(pairing))
    scan = SimpleUploadedFile("到账凭证.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")
    add_attachment(funds_type(), actor=world.user("chengdexian"), record=record, kind="到账凭证", upload=scan)
    assert list(
        Attachment.objects.filter(ledger="fiscal_funds", record_id=record.pk).values_list("kind", "title")
    ) == [("receipt", "到账凭证.pdf")]
    with pytest.raises(ScopeError):
        add_attachment(
            funds_type(),
            actor=world.user("weichang"),
            record=record,
            kind="receipt",
            upload=SimpleUploadedFile("x.pdf", b"%PDF"),
        )


def test_the_same_transfer_number_twice_is_a_duplicate_and_upsert_updates_it(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    first = save_record(funds_type(), actor=world.user("dongli"), values=transfer(pairing))
    assert errors_of(funds_type(), world.user("dongli"), transfer(pairing)) == [
        ("", f"已存在相同记录（记录号 {first.pk}）")
    ]
    again = save_record(
        funds_type(), actor=world.user("dongli"), values=transfer(pairing, spent_fen=480 * WAN), upsert=True
    )
    assert (again.pk, again.outcome, FiscalFund.objects.get(pk=first.pk).spent_fen) == (
        first.pk,
        "updated",
        480 * WAN,
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {
                "agreed_fen": None,
                "agreed_on": None,
                "allocated_fen": None,
                "allocated_on": None,
                "arrived_fen": None,
                "arrived_on": None,
                "receipt_number": None,
                "spent_fen": None,
                "spent_on": None,
            },
            [("agreed_fen", "请至少填写协议、拨付、到位或支出金额之一")],
        ),
        ({"allocated_on": None}, [("allocated_on", "已填写拨付金额，请填写拨付日期")]),
        ({"arrived_on": None}, [("arrived_on", "已填写到位金额，请填写到位日期")]),
        ({"agreed_fen": None}, [("agreed_fen", "已填写协议日期，请填写协议金额")]),
        (
            {"allocated_fen": None, "allocated_on": None},
            [("allocated_fen", "已填写到位金额，请填写拨付金额")],
        ),
        ({"arrived_fen": 501 * WAN}, [("arrived_fen", "到位金额（501万元）大于拨付金额（500万元）")]),
        ({"receipt_number": "  "}, [("receipt_number", "资金到位须填写到账凭证号")]),
        (
            {"arrived_fen": None, "arrived_on": None, "receipt_number": None},
            [("arrived_fen", "已填写支出金额，请填写到位金额")],
        ),
        ({"spent_fen": 500 * WAN + 1}, [("spent_fen", "支出金额（500.000001万元）大于到位金额（500万元）")]),
        ({"arrived_on": dt.date(2019, 3, 1)}, [("arrived_on", "到位日期早于拨付日期，请核对")]),
        ({"spent_on": dt.date(2019, 4, 1)}, [("spent_on", "支出截止日期早于到位日期，请核对")]),
        ({"source_level": None}, [("source_level", "必填，不能为空")]),
        ({"target_region_code": "火星"}, [("target_region_code", "「火星」不是有效的行政区划代码或名称")]),
    ],
)
def test_transfer_rules(world: World, overrides: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    pairing = world.pairing("120110", "130821")
    assert errors_of(funds_type(), world.user("dongli"), transfer(pairing, **overrides)) == expected
    assert not FiscalFund.objects.exists()


def test_a_transfer_not_yet_arrived_is_valid(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    values = transfer(
        pairing, arrived_fen=None, arrived_on=None, receipt_number=None, spent_fen=None, spent_on=None
    )
    record = save_record(funds_type(), actor=world.user("dongli"), values=values)
    assert (record.arrived_fen, record.receipt_number) == (None, "")


def raw_fund(pairing: Pairing, key: str, **fields: Any) -> FiscalFund:
    base: dict[str, Any] = {
        "pairing": pairing,
        "year": 2019,
        "region_code": DONGLI,
        "side": "helper",
        "key": key,
        "transfer_number": key,
        "source_level": "province",
        "target_region_code": CHENGDEXIAN,
    }
    return FiscalFund(**{**base, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"allocated_fen": -1},
        {"agreed_fen": -5},
        {"allocated_fen": 100, "arrived_fen": 101},
        {"allocated_fen": 100, "arrived_fen": 100, "spent_fen": 101},
        {"allocated_on": dt.date(2019, 5, 1), "arrived_on": dt.date(2019, 4, 30)},
        {"arrived_on": dt.date(2019, 5, 1), "spent_on": dt.date(2019, 4, 30)},
    ],
)
def test_fiscal_fund_database_constraints(world: World, fields: dict[str, Any]) -> None:
    pairing = world.pairing("120110", "130821")
    raw_fund(pairing, "ok", allocated_fen=100, arrived_fen=100, spent_fen=100).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_fund(pairing, "bad", **fields).save()


# --- import ------------------------------------------------------------------------------------

HEADER = [
    "序号",
    "归属年度",
    "资金文号",
    "资金名称",
    "资金来源",
    "受援地区",
    "协议资金（万元）",
    "拨付金额（万元）",
    "拨付日期",
    "到位金额（万元）",
    "到位日期",
    "到账凭证号",
    "支出金额（万元）",
    "支出截止日期",
]


def write_funds_sheet(path: Path, header: list[str] = HEADER) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "资金台账"
    sheet.append(["东丽区—承德县 2019年东西部扶贫协作财政援助资金台账"])
    sheet.append(["填报单位：东丽区合作交流办"])
    sheet.append(header)
    rows = [
        [
            1,
            2019,
            "津协〔2019〕1号",
            "第一批",
            "省级财政",
            "承德县",
            500,
            500,
            "2019-03-15",
            500,
            "2019/4/2",
            "DZ001",
            420.5,
            "2019-12-31",
        ],
        [
            2,
            2019,
            "津协〔2019〕2号",
            "第二批",
            "市",
            "130821",
            300,
            300,
            "2019年5月10日",
            300,
            "2019-05-30",
            "DZ002",
            300,
            "2019-12-31",
        ],
        [
            3,
            2019,
            "津协〔2019〕3号",
            "第三批",
            "区县级",
            "承德县",
            None,
            200,
            "2019-06-01",
            None,
            None,
            None,
            None,
            None,
        ],
        [
            4,
            2019,
            "津协〔2019〕4号",
            "第四批",
            "省级",
            "承德县",
            100,
            100,
            "2019-07-01",
            120,
            "2019-07-20",
            "DZ004",
            None,
            None,
        ],
        [
            5,
            2019,
            "津协〔2019〕5号",
            "第五批",
            "中央",
            "承德县",
            None,
            100,
            "2019-08-01",
            None,
            None,
            None,
            None,
            None,
        ],
        [
            6,
            2019,
            "津协〔2019〕6号",
            "第六批",
            "县级",
            "承德县",
            None,
            50,
            "2019-09-01",
            50,
            "2019-09-10",
            None,
            None,
            None,
        ],
        ["合  计", None, None, None, None, None, 900, 1250, None, 970, None, None, 720.5, None],
    ]
    for row in rows:
        sheet.append(row)
    sheet.append([])
    sheet.append(["填报人：张三", None, None, "日期：2020年1月10日"])
    book.save(path)
    return path


def read_errors(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return [(r["原行号"], r["错误列"], r["错误原因"]) for r in csv.DictReader(fh)]


def test_import_of_a_messy_funds_sheet(world: World, tmp_path: Path) -> None:
    pairing = world.pairing("120110", "130821")
    path = write_funds_sheet(tmp_path / "funds.xlsx")
    errors = tmp_path / "errors.csv"
    result = import_ledger(
        "fiscal_funds", path, actor=world.user("dongli"), pairing=pairing, errors_out=errors
    )
    assert result.counts() == {
        "read": 6,
        "accepted": 3,
        "rejected": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == [
        f"funds.xlsx!资金台账：「{header}」按万元读取（来自表头）"
        for header in ("协议资金（万元）", "拨付金额（万元）", "到位金额（万元）", "支出金额（万元）")
    ]
    assert read_errors(errors) == [
        ("7", "到位金额（万元）", "到位金额（万元）：到位金额（120万元）大于拨付金额（100万元）"),
        (
            "8",
            "资金来源",
            "资金来源：「中央」不是有效的资金来源层级，"
            "可填：省级、市级、县级（或代码 province、prefecture、county）",
        ),
        ("9", "到账凭证号", "到账凭证号：资金到位须填写到账凭证号"),
    ]
    rows = {
        f.transfer_number: (
            f.source_level,
            f.target_region_code,
            f.agreed_fen,
            f.allocated_fen,
            f.arrived_fen,
            f.spent_fen,
        )
        for f in FiscalFund.objects.all()
    }
    assert rows == {
        "津协〔2019〕1号": ("province", CHENGDEXIAN, 500 * WAN, 500 * WAN, 500 * WAN, 420_500_000),
        "津协〔2019〕2号": ("prefecture", CHENGDEXIAN, 300 * WAN, 300 * WAN, 300 * WAN, 300 * WAN),
        "津协〔2019〕3号": ("county", CHENGDEXIAN, None, 200 * WAN, None, None),
    }
    assert FiscalFund.objects.get(transfer_number="津协〔2019〕2号").allocated_on == dt.date(2019, 5, 10)

    again = import_ledger("fiscal_funds", path, actor=world.user("dongli"), pairing=pairing)
    assert again.counts() == {
        "read": 6,
        "accepted": 3,
        "rejected": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 3,
    }


@pytest.mark.parametrize(("unit", "fen"), [("元", 50_000), ("万元", 500 * WAN), ("亿元", 500 * 10_000 * WAN)])
def test_money_headers_in_yuan_wan_and_yi(world: World, tmp_path: Path, unit: str, fen: int) -> None:
    pairing = world.pairing("120110", "130821")
    header = [
        "年度",
        "资金文号",
        "资金来源层级",
        "受援地区",
        f"拨付金额（{unit}）",
        "拨付日期",
        f"到位资金（{unit}）",
        "到位日期",
        "到账凭证号",
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    sheet.append([2019, "津协〔2019〕9号", "省级", "承德县", 500, "2019-03-01", 500, "2019-03-20", "DZ9"])
    path = tmp_path / "unit.xlsx"
    book.save(path)
    result = import_ledger("fiscal_funds", path, actor=world.user("dongli"), pairing=pairing, unit=None)
    assert result.counts()["created"] == 1
    fund = FiscalFund.objects.get()
    assert (fund.allocated_fen, fund.arrived_fen) == (fen, fen)
    assert result.notes == [
        f"unit.xlsx!Sheet：「拨付金额（{unit}）」按{unit}读取（来自表头）",
        f"unit.xlsx!Sheet：「到位资金（{unit}）」按{unit}读取（来自表头）",
    ]


def test_a_bare_money_header_reads_the_unit_row_or_the_import_argument(world: World, tmp_path: Path) -> None:
    pairing = world.pairing("120110", "130821")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["单位：元"])
    sheet.append(["归属年度", "资金文号", "资金来源层级", "受援地区", "拨付金额", "拨付日期"])
    sheet.append(["2019年", "津协〔2019〕7号", "province", "130821", "1,234.56", "2019-03-01"])
    path = tmp_path / "bare.xlsx"
    book.save(path)
    result = import_ledger("fiscal_funds", path, actor=world.user("dongli"), pairing=pairing, unit="万元")
    assert result.notes == ["bare.xlsx!Sheet：「拨付金额」按元读取（来自单位行）"]
    assert FiscalFund.objects.get().allocated_fen == 123_456


# --- allocations and donations -----------------------------------------------------------------


def test_allocation_rules_and_constraint(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    ltype = types.get("fund_allocations")
    clerk = world.user("chengdexian")
    base = {"pairing": pairing, "year": 2019, "transfer_number": "津协〔2019〕1号", "amount_fen": 100 * WAN}
    assert errors_of(ltype, clerk, {**base, "pooled": False}) == [
        ("project_number", "未纳入统筹整合涉农资金的，须填写项目编号")
    ]
    pooled = save_record(ltype, actor=clerk, values={**base, "pooled": True})
    named = save_record(
        ltype, actor=clerk, values={**base, "project_number": "130821-2019-001", "pooled": False}
    )
    assert [(a.project_number, a.pooled, a.side) for a in FundAllocation.objects.order_by("id")] == [
        ("", True, "helped"),
        ("130821-2019-001", False, "helped"),
    ]
    assert pooled.pk != named.pk
    # The helper side may not write the helped side's ledger.
    assert errors_of(ltype, world.user("dongli"), {**base, "pooled": True, "region_code": "120110"}) == [
        ("region_code", "行政区划不在该结对关系的受帮扶方范围内")
    ]
    bad = FundAllocation(
        pairing=pairing,
        year=2019,
        region_code=CHENGDEXIAN,
        side="helped",
        key="x",
        transfer_number="t",
        project_number="",
        amount_fen=1,
        pooled=False,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()


def test_donations_register_the_donor_and_goods_need_a_description(world: World) -> None:
    pairing = world.pairing("120110", "130821")
    ltype = types.get("donations")
    actor = world.user("dongli")
    base = {
        "pairing": pairing,
        "year": 2019,
        "donor": "津东食品集团有限公司（测试）",
        "value_fen": 5 * WAN,
        "donated_on": dt.date(2019, 6, 1),
        "target_region_code": "130821",
    }
    assert errors_of(ltype, actor, {**base, "kind": "goods"}) == [("goods", "捐物须填写物资名称")]
    money = save_record(ltype, actor=actor, values={**base, "kind": "money"})
    goods = save_record(
        ltype, actor=actor, values={**base, "kind": "goods", "goods": "大米", "value_fen": 3 * WAN}
    )
    donor = Organisation.objects.get(name="津东食品集团有限公司（测试）")
    assert (donor.kind, donor.region_code) == ("enterprise", DONGLI)
    assert [(d.donor_id, d.kind, d.value_fen) for d in Donation.objects.order_by("id")] == [
        (donor.pk, "money", 5 * WAN),
        (donor.pk, "goods", 3 * WAN),
    ]
    assert money.pk != goods.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Donation.objects.filter(pk=money.pk).update(value_fen=-1)


def test_donations_import_with_kind_aliases(world: World, tmp_path: Path) -> None:
    pairing = world.pairing("120110", "130821")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["归属年度", "捐赠单位", "捐款或捐物", "捐赠物资", "捐赠价值（元）", "捐赠时间"])
    sheet.append([2019, "滨海慈善基金会（测试）", "捐款", None, "50,000", "2019-05-01"])
    sheet.append([2019, "滨海慈善基金会（测试）", "物资", "冬季棉衣", 32000, "2019-11-20"])
    sheet.append([2019, "滨海慈善基金会（测试）", "实物", None, 1000, "2019-11-21"])
    sheet.append(["合计", None, None, None, 83000, None])
    path = tmp_path / "donations.xlsx"
    book.save(path)
    errors = tmp_path / "errors.csv"
    result = import_ledger("donations", path, actor=world.user("dongli"), pairing=pairing, errors_out=errors)
    assert result.counts() == {
        "read": 3,
        "accepted": 2,
        "rejected": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == ["donations.xlsx!Sheet：「捐赠价值（元）」按元读取（来自表头）"]
    assert read_errors(errors) == [("4", "物资名称", "物资名称：捐物须填写物资名称")]
    assert sorted(Donation.objects.values_list("kind", "value_fen")) == [
        ("goods", 3_200_000),
        ("money", 5_000_000),
    ]


# --- roll-up -----------------------------------------------------------------------------------


def test_rollup_of_funds_split_by_source_level(world: World) -> None:
    county = world.pairing("120110", "130821")
    provincial = world.provincial
    actor = world.user("tianjin")
    ltype = funds_type()
    save_record(ltype, actor=actor, values=transfer(county))
    save_record(
        ltype,
        actor=actor,
        values=transfer(
            county,
            transfer_number="2",
            source_level="county",
            allocated_fen=80 * WAN,
            arrived_fen=80 * WAN,
            spent_fen=None,
            spent_on=None,
        ),
    )
    save_record(
        ltype,
        actor=actor,
        values=transfer(
            provincial,
            transfer_number="3",
            target_region_code="1308",
            allocated_fen=200 * WAN,
            arrived_fen=None,
            arrived_on=None,
            receipt_number=None,
            spent_fen=None,
            spent_on=None,
        ),
    )
    save_record(
        types.get("donations"),
        actor=actor,
        values={
            "pairing": county,
            "year": 2019,
            "donor": "测试捐赠企业",
            "kind": "money",
            "value_fen": 7 * WAN,
            "donated_on": dt.date(2019, 3, 3),
        },
    )
    lines = {(line.ledger.key, line.metric.key): line for line in rollup.rollup(provincial, 2019).lines}
    arrived = lines[("fiscal_funds", "arrived")]
    assert (arrived.total, arrived.own, arrived.split) == (
        580 * WAN,
        0,
        {"county": 80 * WAN, "province": 500 * WAN},
    )
    allocated = lines[("fiscal_funds", "allocated")]
    assert (allocated.total, allocated.own) == (780 * WAN, 200 * WAN)
    assert [(c.pk, v) for c, v in allocated.children if v] == [(county.pk, 580 * WAN)]
    assert lines[("fiscal_funds", "spent")].total == 420 * WAN
    donated = lines[("donations", "donated")]
    assert (donated.total, donated.split, donated.metric.target, donated.metric.unit) == (
        7 * WAN,
        {"money": 7 * WAN},
        "social_funds",
        "money",
    )
    assert arrived.metric.target == "fiscal_funds"


# --- synthetic data ----------------------------------------------------------------------------


def test_synthetic_funds_are_deterministic_consistent_and_of_the_right_order(world: World) -> None:
    pairings = [world.pairing("120110", "130821"), world.pairing("120111", "130881"), world.provincial]

    def rows() -> dict[str, list[dict[str, Any]]]:
        return funds_synth.generate(SynthContext(rng=random.Random(7), year=2019, pairings=pairings))

    first, second = rows(), rows()
    assert first == second
    county_pairs = pairings[:2]
    for p in county_pairs:
        allocated = sum(r["allocated_fen"] for r in first["fiscal_funds"] if r["pairing"] == p)
        assert 500 * WAN <= allocated <= 3000 * WAN
        assert len([r for r in first["donations"] if r["pairing"] == p]) >= 10
    for key, rows_of in first.items():
        ltype = types.get(key)
        for values in rows_of:
            assert ltype.check is not None
            assert ltype.check(values) == [], (key, values)
    for values in first["fiscal_funds"]:
        save_record(funds_type(), actor=world.user("national"), values=values, via="demo")
    assert FiscalFund.objects.count() == len(first["fiscal_funds"])
    arrived = {
        t["transfer_number"]: t["arrived_fen"] for t in first["fiscal_funds"] if t["pairing"] in county_pairs
    }
    for a in first["fund_allocations"]:
        assert a["transfer_number"] in arrived
    for t, total in arrived.items():
        assert sum(a["amount_fen"] for a in first["fund_allocations"] if a["transfer_number"] == t) == (
            total or 0
        )


def test_check_functions_are_registered() -> None:
    assert funds_type().check is funds_ledgers.check_fiscal_fund
    assert (funds_type().side, funds_type().confirm_side) == ("helper", "helped")


def write_allocations(path: Path, pooled: tuple[Any, Any]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["单位：万元"])
    sheet.append(["年度", "资金文号", "项目编号", "安排资金", "是否纳入统筹整合涉农资金", "分配日期"])
    sheet.append([2019, "津协〔2019〕1号", "130821-2019-001", 120, "否", "2019-04-10"])
    sheet.append([2019, "津协〔2019〕1号", None, 80, "是", "2019-04-10"])
    sheet.append([2019, "津协〔2019〕2号", "130821-2019-002", 50, pooled[0], "2019-06-01"])
    sheet.append([2019, "津协〔2019〕2号", None, 30, pooled[1], "2019-06-01"])
    book.save(path)
    return path


@pytest.mark.parametrize(
    "pooled",
    [
        ("否", "否"),
        (None, None),
    ],
)
def test_allocations_import_pooled_lines_with_and_without_a_project(
    world: World, tmp_path: Path, pooled: tuple[Any, Any]
) -> None:
    pairing = world.pairing("120110", "130821")
    path = write_allocations(tmp_path / "allocations.xlsx", pooled)
    errors = tmp_path / "errors.csv"
    result = import_ledger(
        "fund_allocations", path, actor=world.user("chengdexian"), pairing=pairing, errors_out=errors
    )
    assert result.counts() == {
        "read": 4,
        "accepted": 3,
        "rejected": 1,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == ["allocations.xlsx!Sheet：「安排资金」按万元读取（来自单位行）"]
    assert read_errors(errors) == [("6", "项目编号", "项目编号：未纳入统筹整合涉农资金的，须填写项目编号")]
    assert sorted(
        FundAllocation.objects.values_list("transfer_number", "project_number", "amount_fen", "pooled")
    ) == [
        ("津协〔2019〕1号", "", 80 * WAN, True),
        ("津协〔2019〕1号", "130821-2019-001", 120 * WAN, False),
        ("津协〔2019〕2号", "130821-2019-002", 50 * WAN, False),
    ]
