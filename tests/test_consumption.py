"""Consumption assistance ledger (issue #4): purchases of products from helped areas — rules,
database constraint, confirmation by the helped side, import, roll-up and synthetic data."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import IntegrityError, transaction

from tests.world import World
from xiezuo.consumption import rules
from xiezuo.consumption.models import Purchase
from xiezuo.consumption.synth import generate
from xiezuo.core.scope import SYSTEM, ScopeError
from xiezuo.ledgers import types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import LedgerRecord
from xiezuo.ledgers.rollup import metric_value
from xiezuo.ledgers.services import RecordInvalid, confirm_record, save_record
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.regions.models import Region
from xiezuo.synth.ledgers import SynthContext, write_files

pytestmark = pytest.mark.django_db

CHENGDEXIAN = 130821000000


def ledger() -> types.LedgerType:
    types.autodiscover()
    return types.get("purchases")


def metric(name: str, pairing: Pairing, year: int) -> dict[str, int]:
    m = next(m for m in ledger().metrics if m.key == name)
    return metric_value(ledger(), m, [pairing.pk], year)


def purchase(pair: Pairing, **extra: Any) -> dict[str, Any]:
    return {
        "pairing": pair,
        "year": 2020,
        "product": "承德县小米",
        "category": "grain_oil",
        "origin_code": "130821",
        "buyer": "东丽区机关事务管理局机关食堂（演示）",
        "channel": "canteen_union",
        "amount_fen": 1_234_56,
        "purchased_on": dt.date(2020, 5, 6),
        "evidence_by": "buyer",
        "evidence_ref": "No.00012345",
        **extra,
    }


RULES = [
    (
        {
            "year": 2020,
            "purchased_on": dt.date(2020, 1, 1),
            "amount_fen": 1,
            "channel": "platform_832",
            "evidence_by": "platform",
        },
        [],
    ),
    (
        {"year": 2020, "purchased_on": dt.date(2019, 12, 31), "amount_fen": 0},
        [("purchased_on", "采购日期不在归属年度（2020年）内"), ("amount_fen", "采购金额应大于0")],
    ),
    (
        {"year": 2019, "purchased_on": dt.date(2019, 12, 31), "amount_fen": 5, "channel": "platform_832"},
        [("channel", "该采购渠道2020年起才有，2019-12-31的采购不能选此渠道")],
    ),
    (
        {
            "year": 2019,
            "purchased_on": dt.date(2019, 3, 1),
            "amount_fen": 5,
            "channel": "canteen_union",
            "evidence_by": "platform",
        },
        [("evidence_by", "凭证由平台提供的，采购渠道应为电商或832平台")],
    ),
    (
        {
            "year": 2019,
            "purchased_on": dt.date(2019, 3, 1),
            "amount_fen": 5,
            "channel": "ecommerce",
            "evidence_by": "platform",
        },
        [],
    ),
]


@pytest.mark.parametrize(("values", "expected"), RULES)
def test_rules(values: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(k, zh) for k, zh, _en in rules.purchase_errors(values)] == expected


def test_purchase_entered_by_the_helper_may_be_confirmed_by_the_helped_side(world: World) -> None:
    pair = world.pairing("120110", "130821")
    record = save_record(
        ledger(), actor=world.user("dongli"), values=purchase(pair, certificate_no="FP2020-0001")
    )
    record.refresh_from_db()
    assert (
        record.side,
        record.region_code,
        record.origin_code,
        record.confirmation,
        record.certificate_no,
    ) == (
        "helper",
        120110000000,
        CHENGDEXIAN,
        LedgerRecord.PENDING,
        "FP2020-0001",
    )
    assert (record.buyer.kind, record.buyer.region_code) == ("enterprise", 120110000000)
    with pytest.raises(ScopeError):
        confirm_record(ledger(), actor=world.user("dongli"), record=record, confirmed=True)
    confirm_record(ledger(), actor=world.user("chengdexian"), record=record, confirmed=True)
    record.refresh_from_db()
    assert record.confirmation == LedgerRecord.CONFIRMED
    # a pending or disputed purchase counts all the same (confirmation is optional)
    save_record(
        ledger(), actor=world.user("dongli"), values=purchase(pair, evidence_ref="No.2", amount_fen=100_00)
    )
    assert metric("purchases", pair, 2020) == {"": 1_334_56, "canteen_union": 1_334_56}


def test_origin_must_lie_in_the_helped_area(world: World) -> None:
    pair = world.pairing("120110", "130821")
    with pytest.raises(RecordInvalid) as exc:
        save_record(ledger(), actor=world.user("dongli"), values=purchase(pair, origin_code="130881"))
    assert [(k, zh) for k, zh, _en in exc.value.errors] == [
        ("origin_code", "产地不在该结对关系的受帮扶地区范围内")
    ]


def test_database_refuses_a_negative_amount(world: World) -> None:
    pair = world.pairing("120110", "130821")
    org = Organisation.objects.create(
        kind="enterprise",
        name="约束测试",
        region=Region.objects.get(code=120110000000, level=3),
        region_code=120110000000,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.create(
            pairing=pair,
            year=2020,
            region_code=120110000000,
            side="helper",
            key="raw",
            product="x",
            category="other",
            origin_code=CHENGDEXIAN,
            buyer=org,
            channel="other",
            amount_fen=-1,
            purchased_on=dt.date(2020, 1, 1),
            evidence_by="buyer",
            evidence_ref="x",
        )


def purchase_sheet(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "采购台账"
    ws.append(["东丽区消费帮扶采购台账（2020年）"])
    ws.append(
        [
            "序号",
            "归属年度",
            "商品名称",
            "类别",
            "扶贫产品认定编号",
            "产地",
            "采购单位",
            "销售渠道",
            "金额（万元）",
            "采购日期",
            "凭证来源",
            "发票号码",
        ]
    )
    rows: list[list[Any]] = [
        [
            1,
            2020,
            "承德县小米",
            "杂粮",
            "FP130821-001",
            "130821",
            "东丽区总工会（演示）",
            "工会",
            12.5,
            "2020-03-01",
            "采购方",
            "No.1001",
        ],
        [
            2,
            2020,
            "承德县香菇",
            "菌菇",
            None,
            "承德县",
            "东丽区人民法院（演示）",
            "832",
            "0.8",
            "2020年6月",
            "平台",
            "8322020060001",
        ],
        [
            3,
            2020,
            "承德县国光苹果",
            "水果",
            None,
            "130821",
            "天津菜篮子商贸有限公司（演示）",
            "商超",
            40,
            "2020-10-12",
            "供应商",
            "No.1002",
        ],
        [
            4,
            2020,
            "承德县板栗",
            "fruit_vegetable",
            "",
            "130821",
            "天津某电商公司（演示）",
            "ecommerce",
            3.25,
            "2020-11-11",
            "电商平台",
            "DD1003",
        ],
        [
            5,
            2020,
            "承德县山楂糕",
            "休闲食品",
            None,
            "130821",
            "东丽区消费扶贫专馆（演示）",
            "扶贫专柜",
            1,
            "2020-12-01",
            "销售方",
            "No.1004",
        ],
        [
            6,
            2020,
            "承德县杏仁露",
            "饮品",
            None,
            "130821",
            "东丽区某单位（演示）",
            "直销",
            1,
            "2020-12-01",
            "采购方",
            "No.1005",
        ],
        [
            7,
            2020,
            "承德县杂粮",
            "杂粮",
            None,
            "130821",
            "东丽区教育局（演示）",
            "机关食堂",
            2,
            "2019-12-30",
            "采购方",
            "No.1006",
        ],
        [
            8,
            2020,
            "承德县蜂蜜",
            "加工食品",
            None,
            "130821",
            "东丽区卫健委（演示）",
            "食堂",
            2,
            "2020-05-01",
            "平台",
            "No.1007",
        ],
    ]
    for r in rows:
        ws.append(r)
    ws.append(["合计", None, None, None, None, None, None, None, 62.55, None, None, None])
    wb.save(path)
    return path


def test_import_messy_purchase_sheet(world: World, tmp_path: Path) -> None:
    pair = world.pairing("120110", "130821")
    sheet = purchase_sheet(tmp_path / "purchases.xlsx")
    actor = world.user("dongli")
    result = import_ledger("purchases", sheet, actor=actor, pairing=pair, errors_out=tmp_path / "errors.xlsx")
    assert result.counts() == {
        "read": 8,
        "accepted": 5,
        "rejected": 3,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == ["purchases.xlsx!采购台账：「金额（万元）」按万元读取（来自表头）"]
    got = list(
        Purchase.objects.filter(pairing=pair)
        .order_by("purchased_on")
        .values_list("category", "channel", "amount_fen", "purchased_on", "evidence_by", "certificate_no")
    )
    assert got == [
        ("grain_oil", "canteen_union", 12_500_000, dt.date(2020, 3, 1), "buyer", "FP130821-001"),
        ("mushroom_dried", "platform_832", 800_000, dt.date(2020, 6, 1), "platform", ""),
        ("fruit_vegetable", "market", 40_000_000, dt.date(2020, 10, 12), "seller", ""),
        ("fruit_vegetable", "ecommerce", 3_250_000, dt.date(2020, 11, 11), "platform", ""),
        ("processed_food", "counter", 1_000_000, dt.date(2020, 12, 1), "seller", ""),
    ]
    report = openpyxl.load_workbook(tmp_path / "errors.xlsx").active
    assert report is not None
    header = [c.value for c in report[1]]
    lines = {
        r[header.index("原行号")]: r[header.index("错误原因")]
        for r in report.iter_rows(min_row=2, values_only=True)
    }
    assert sorted(lines) == [8, 9, 10]
    assert lines[8].startswith(
        "销售渠道：「直销」不是有效的采购渠道，可填：机关食堂/工会、商超/批发市场、电商、832平台、"
    )
    assert lines[9] == "采购日期：采购日期不在归属年度（2020年）内"
    assert lines[10] == "凭证提供方：凭证由平台提供的，采购渠道应为电商或832平台"

    again = import_ledger("purchases", sheet, actor=actor, pairing=pair)
    assert again.counts() == {
        "read": 8,
        "accepted": 5,
        "rejected": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 5,
    }
    assert metric("purchases", pair, 2020) == {
        "": 57_550_000,
        "canteen_union": 12_500_000,
        "counter": 1_000_000,
        "ecommerce": 3_250_000,
        "market": 40_000_000,
        "platform_832": 800_000,
    }
    assert metric("purchases_832", pair, 2020) == {"": 800_000}
    assert metric("purchases_certified", pair, 2020) == {"": 12_500_000}


def test_synthetic_purchases_are_reproducible_and_pass_every_rule(world: World) -> None:
    pairings = [world.provincial, world.pairing("120110", "130821"), world.pairing("120111", "130881")]

    def rows(seed: int) -> list[dict[str, Any]]:
        return generate(SynthContext(rng=random.Random(seed), year=2019, pairings=pairings, scale=0.1))[
            "purchases"
        ]

    first = rows(5)
    assert first == rows(5)
    for v in first:
        save_record(ledger(), actor=SYSTEM, values=v, via="demo", upsert=True)
    assert Purchase.objects.count() == len(first)
    assert Purchase.objects.filter(channel="platform_832").count() == 0  # the 832 platform opened in 2020
    assert set(Purchase.objects.values_list("pairing_id", flat=True)) == {p.pk for p in pairings}


def test_synthetic_county_pair_buys_tens_of_millions_in_hundreds_of_purchases(world: World) -> None:
    """DOMAIN.md §6 (48.3 billion yuan in 2019) divided over the pairs (the generator's spec, so ranges)."""
    ctx = SynthContext(rng=random.Random(2020), year=2020, pairings=[world.pairing("120110", "130821")])
    out = generate(ctx)["purchases"]
    total_yuan = sum(r["amount_fen"] for r in out) // 100
    assert 200 <= len(out) <= 400
    assert 10_000_000 <= total_yuan < 100_000_000
    assert {r["channel"] for r in out} == {
        "canteen_union",
        "market",
        "ecommerce",
        "platform_832",
        "counter",
        "fair",
        "other",
    }


def test_synthetic_sheet_imports_back_unchanged(world: World, tmp_path: Path) -> None:
    rows = generate(
        SynthContext(rng=random.Random(4), year=2020, pairings=[world.pairing("120110", "130821")], scale=0.1)
    )
    for v in rows["purchases"]:
        save_record(ledger(), actor=SYSTEM, values=v, via="demo", upsert=True)
    [path] = write_files(rows, tmp_path)
    n = len(rows["purchases"])
    result = import_ledger("purchases", path, actor=SYSTEM)
    assert result.counts() == {
        "read": n,
        "accepted": n,
        "rejected": 0,
        "created": 0,
        "updated": 0,
        "unchanged": n,
    }


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(rules).failed == 0
