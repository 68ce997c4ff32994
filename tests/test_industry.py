"""Industrial cooperation ledgers (issue #4): investments, parks, workshops and the poor people they
employ or pay dividends to — rules, database constraints, import, registry checks, roll-up, synth."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.ledgers_world import People, registry_people  # noqa: F401
from tests.world import World
from xiezuo.core.scope import SYSTEM
from xiezuo.industry import rules
from xiezuo.industry.models import Beneficiary, Investment, Park, Workshop
from xiezuo.industry.synth import generate
from xiezuo.ledgers import types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import LedgerRecord, PersonCheck
from xiezuo.ledgers.rollup import metric_value
from xiezuo.ledgers.services import RecordInvalid, save_record
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.regions.models import Region
from xiezuo.synth.ledgers import SynthContext, write_files

pytestmark = pytest.mark.django_db

WAN = 10_000 * 100
CHENGDEXIAN, PINGQUAN = 130821000000, 130881000000


def ledger(key: str) -> types.LedgerType:
    types.autodiscover()
    return types.get(key)


def village(county: int, index: int = 0) -> int:
    codes = Region.objects.filter(level=5, code__gte=county, code__lt=county + 10**6).order_by("code")
    return int(codes.values_list("code", flat=True)[index])


def errors_of(key: str, actor: Any, values: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RecordInvalid) as exc:
        save_record(ledger(key), actor=actor, values=values)
    return [(k, zh) for k, zh, _en in exc.value.errors]


def metric(key: str, name: str, pairing: Pairing, year: int = 2019) -> dict[str, int]:
    ltype = ledger(key)
    m = next(m for m in ltype.metrics if m.key == name)
    return metric_value(ltype, m, [pairing.pk], year)


# --- pure rules ----------------------------------------------------------------------------------

RULES = [
    (
        rules.investment_errors,
        {"year": 2019, "invested_fen": 5, "agreed_fen": 9, "landed_on": dt.date(2019, 3, 1)},
        [],
    ),
    (
        rules.investment_errors,
        {"year": 2019, "invested_fen": 5, "landed_on": None},
        [("landed_on", "已有当年实际投资的，请填写落地日期")],
    ),
    (
        rules.investment_errors,
        {"year": 2019, "invested_fen": 5, "landed_on": dt.date(2020, 1, 1)},
        [("landed_on", "落地日期晚于归属年度（2019年），不能计入该年度")],
    ),
    (
        rules.investment_errors,
        {"year": 2019, "invested_fen": 0, "agreed_fen": None},
        [("invested_fen", "当年实际投资为0且没有协议投资额，该企业不算引导落地，请核实")],
    ),
    (rules.investment_errors, {"year": 2019, "invested_fen": 0, "agreed_fen": 100}, []),
    (rules.park_errors, {"year": 2019, "established_on": dt.date(2018, 5, 1)}, []),
    (
        rules.park_errors,
        {"year": 2019, "established_on": dt.date(2020, 5, 1)},
        [("established_on", "挂牌日期晚于归属年度（2019年），园区该年度尚未共建")],
    ),
    (
        rules.workshop_errors,
        {"year": 2019, "village_code": 130821100201, "jobs": 3, "opened_on": dt.date(2017, 1, 1)},
        [],
    ),
    (
        rules.workshop_errors,
        {"year": 2019, "village_code": 130821000000, "jobs": 0, "opened_on": dt.date(2020, 2, 1)},
        [
            ("village_code", "所在村请填写到行政村（12位区划代码或村名）"),
            ("jobs", "吸纳就业岗位应大于0"),
            ("opened_on", "开办日期晚于归属年度（2019年），该车间不能计入该年度"),
        ],
    ),
    (
        rules.workshop_errors,
        {"year": 2019, "jobs": 5, "opened_on": dt.date(2017, 6, 1), "closed_on": dt.date(2018, 12, 31)},
        [("closed_on", "停办日期早于归属年度（2019年），该车间该年度未运营")],
    ),
    (
        rules.workshop_errors,
        {"year": 2019, "jobs": 5, "opened_on": dt.date(2019, 6, 1), "closed_on": dt.date(2019, 5, 31)},
        [("closed_on", "停办日期早于开办日期")],
    ),
    (
        rules.beneficiary_errors,
        {"year": 2019, "benefit": "employed", "started_on": dt.date(2016, 6, 1), "amount_fen": 250_000},
        [],
    ),
    (
        rules.beneficiary_errors,
        {"year": 2019, "benefit": "employed", "started_on": dt.date(2020, 1, 2), "amount_fen": 2_500_000},
        [
            ("started_on", "就业日期晚于归属年度（2019年）"),
            ("amount_fen", "月工资超过20000元，请核实是否误填了年收入"),
        ],
    ),
    (
        rules.beneficiary_errors,
        {"year": 2019, "benefit": "dividend", "started_on": dt.date(2018, 12, 20), "amount_fen": 0},
        [("started_on", "分红发放日期应在归属年度（2019年）内"), ("amount_fen", "月工资或分红金额应大于0")],
    ),
    (
        rules.beneficiary_errors,
        {"year": 2019, "benefit": "dividend", "started_on": dt.date(2019, 12, 20), "amount_fen": 2_500_000},
        [],
    ),
]


@pytest.mark.parametrize(("fn", "values", "expected"), RULES)
def test_rules(fn: Any, values: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(k, zh) for k, zh, _en in fn(values)] == expected


# --- saving --------------------------------------------------------------------------------------


def test_investment_saved_by_the_helper_awaits_the_helped_sides_confirmation(world: World) -> None:
    pair = world.pairing("120110", "130821")
    record = save_record(
        ledger("investments"),
        actor=world.user("dongli"),
        values={
            "pairing": pair,
            "year": 2019,
            "enterprise": "天津测试食品有限公司（演示）",
            "sector": "C",
            "agreed_fen": 5000 * WAN,
            "invested_fen": 1200 * WAN,
            "landed_on": dt.date(2019, 4, 2),
            "location_code": "130821",
        },
    )
    record.refresh_from_db()
    assert (record.region_code, record.side, record.location_code, record.confirmation) == (
        120110000000,
        "helper",
        CHENGDEXIAN,
        LedgerRecord.PENDING,
    )
    assert (record.enterprise.kind, record.enterprise.region_code) == ("enterprise", 120110000000)
    assert errors_of(
        "investments",
        world.user("dongli"),
        {
            "pairing": pair,
            "year": 2019,
            "enterprise": "天津另一企业（演示）",
            "sector": "A",
            "invested_fen": 100 * WAN,
            "landed_on": dt.date(2019, 4, 2),
            "location_code": "130881",
        },
    ) == [("location_code", "落地地点不在该结对关系的受帮扶地区范围内")]


def test_a_park_may_lie_on_either_side_of_the_pairing(world: World) -> None:
    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    values = {"pairing": pair, "year": 2019, "name": "东丽·承德县共建产业园", "area_mu": Decimal("1200.5")}
    east = save_record(ledger("parks"), actor=clerk, values={**values, "location_code": "120110"})
    assert (east.location_code, east.side, east.region_code) == (120110000000, "helped", CHENGDEXIAN)
    assert errors_of("parks", clerk, {**values, "name": "别处园区", "location_code": "130881"}) == [
        ("location_code", "园区所在地不在该结对关系的帮扶方或受帮扶地区范围内")
    ]


def test_workshop_must_stand_in_a_village_of_the_helped_area(world: World) -> None:
    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    base = {
        "pairing": pair,
        "year": 2019,
        "name": "服装加工帮扶车间",
        "operator": "承德县测试服装有限公司（演示）",
        "jobs": 40,
        "opened_on": dt.date(2018, 3, 1),
    }
    shop = save_record(
        ledger("workshops"), actor=clerk, values={**base, "village_code": str(village(CHENGDEXIAN))}
    )
    assert (shop.village_code, shop.operator.region_code, shop.confirmation) == (
        village(CHENGDEXIAN),
        CHENGDEXIAN,
        LedgerRecord.NONE,
    )
    assert errors_of("workshops", clerk, {**base, "village_code": str(village(PINGQUAN))}) == [
        ("village_code", "所在村不在该结对关系的受帮扶地区范围内")
    ]
    assert errors_of("workshops", clerk, {**base, "village_code": "130821"}) == [
        ("village_code", "所在村请填写到行政村（12位区划代码或村名）")
    ]
    assert metric("workshops", "workshops", pair) == {"": 1}
    assert metric("workshops", "workshop_jobs", pair) == {"": 40}


# --- database constraints ------------------------------------------------------------------------


def _raw(model: type[LedgerRecord], pair: Pairing, **fields: Any) -> None:
    org = Organisation.objects.create(
        kind="enterprise",
        name="约束测试企业",
        region=Region.objects.get(code=CHENGDEXIAN, level=3),
        region_code=CHENGDEXIAN,
    )
    common = {
        "pairing": pair,
        "year": 2019,
        "region_code": CHENGDEXIAN,
        "side": "helped",
        "key": f"raw-{model.__name__}",
    }
    if model is Investment:
        fields.setdefault("enterprise", org)
    if model is Workshop:
        fields.setdefault("operator", org)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**common, **fields)


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Investment, {"sector": "C", "invested_fen": -1, "location_code": CHENGDEXIAN}),
        (Investment, {"sector": "C", "invested_fen": 1, "agreed_fen": -1, "location_code": CHENGDEXIAN}),
        (Park, {"name": "p", "location_code": CHENGDEXIAN, "invested_fen": -5}),
        (Park, {"name": "p", "location_code": CHENGDEXIAN, "area_mu": Decimal("0")}),
        (
            Workshop,
            {
                "name": "w",
                "village_code": 1,
                "jobs": 1,
                "opened_on": dt.date(2019, 5, 1),
                "closed_on": dt.date(2019, 4, 30),
            },
        ),
        (
            Beneficiary,
            {"benefit": "employed", "entity_name": "x", "started_on": dt.date(2019, 1, 1), "amount_fen": -1},
        ),
    ],
)
def test_database_refuses_bad_values(world: World, model: type[LedgerRecord], fields: dict[str, Any]) -> None:
    _raw(model, world.pairing("120110", "130821"), **fields)


# --- import --------------------------------------------------------------------------------------


def investment_sheet(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "投资台账"
    ws.append(["东丽区引导企业到承德县投资情况表（2019年）"])
    ws.merge_cells("A1:I1")
    ws.append(
        [
            "序号",
            "归属年度",
            "企业名称",
            "所属行业",
            "投资项目",
            "协议金额（亿元）",
            "实际到位投资（万元）",
            "落地时间",
            "投资地点",
        ]
    )
    rows: list[list[Any]] = [
        [
            1,
            2019,
            "天津鑫源食品有限公司（演示）",
            "农产品加工",
            "食品加工厂",
            0.5,
            1200,
            dt.date(2019, 3, 15),
            "130821",
        ],
        [
            2,
            2019,
            "天津瑞丰农业科技有限公司（演示）",
            "种植业",
            "设施蔬菜基地",
            "0.3",
            "2,000.5",
            "2019年5月8日",
            "承德县",
        ],
        [3, 2019, "天津海晟旅游开发有限公司（演示）", "R", "乡村旅游", None, 800, "2019.7.1", 130821],
        [4, 2019, "天津军工有限公司（演示）", "军工", "", 1, 100, "2019-08-01", "130821"],
        [5, 2019, "天津宏利物流有限公司（演示）", "物流", "冷链", 0.2, 600, "2019-09-01", "平泉市"],
        [6, 2019, "天津裕华电子科技有限公司（演示）", "电子", "组装厂", 0.1, 500, None, "130821"],
        [7, 2019, "天津广汇商贸有限公司（演示）", "商贸", "电商中心", 0.1, "-20", "2019-10-01", "130821"],
    ]
    for r in rows:
        ws.append(r)
    ws.append(["合计", None, None, None, None, 2.2, 5080.5, None, None])
    ws.append(["填报人：测试员"])
    wb.save(path)
    return path


def test_import_messy_investment_sheet(world: World, tmp_path: Path) -> None:
    pair = world.pairing("120110", "130821")
    sheet = investment_sheet(tmp_path / "investments.xlsx")
    actor = world.user("dongli")
    result = import_ledger(
        "investments", sheet, actor=actor, pairing=pair, errors_out=tmp_path / "errors.xlsx"
    )
    assert result.counts() == {
        "read": 7,
        "accepted": 3,
        "rejected": 4,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == [
        "investments.xlsx!投资台账：「协议金额（亿元）」按亿元读取（来自表头）",
        "investments.xlsx!投资台账：「实际到位投资（万元）」按万元读取（来自表头）",
    ]
    got = sorted(
        Investment.objects.filter(pairing=pair).values_list(
            "enterprise__name", "sector", "agreed_fen", "invested_fen", "landed_on"
        )
    )
    assert got == [
        ("天津海晟旅游开发有限公司（演示）", "R", None, 800 * WAN, dt.date(2019, 7, 1)),
        ("天津瑞丰农业科技有限公司（演示）", "A", 3000 * WAN, 2_000_500_000, dt.date(2019, 5, 8)),
        ("天津鑫源食品有限公司（演示）", "C", 5000 * WAN, 1200 * WAN, dt.date(2019, 3, 15)),
    ]
    report = openpyxl.load_workbook(tmp_path / "errors.xlsx").active
    assert report is not None
    header = [c.value for c in report[1]]
    lines = {
        r[header.index("原行号")]: r[header.index("错误原因")]
        for r in report.iter_rows(min_row=2, values_only=True)
    }
    assert sorted(lines) == [6, 7, 8, 9]
    assert lines[6].startswith("所属行业：「军工」不是有效的行业门类，可填：农、林、牧、渔业、")
    assert lines[7] == "落地地点：落地地点不在该结对关系的受帮扶地区范围内"
    assert lines[8] == "落地日期：已有当年实际投资的，请填写落地日期"
    assert lines[9] == "实际到位投资（万元）：「-20」不能为负数"

    again = import_ledger("investments", sheet, actor=actor, pairing=pair)
    assert again.counts() == {
        "read": 7,
        "accepted": 3,
        "rejected": 4,
        "created": 0,
        "updated": 0,
        "unchanged": 3,
    }
    assert metric("investments", "enterprises", pair) == {"": 3}
    assert metric("investments", "investment", pair) == {"": 4_000_500_000}
    assert metric("investments", "investment", world.provincial) == {"": 0}
    assert metric_value(
        ledger("investments"), ledger("investments").metrics[1], [world.provincial.pk, pair.pk], 2019
    ) == {"": 4_000_500_000}


# --- people against the registry ----------------------------------------------------------------


def test_beneficiaries_are_checked_against_the_registry(world: World, registry_people: People) -> None:  # noqa: F811
    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    people = registry_people
    shop = "下板城服装加工帮扶车间"
    rows = [
        (people.poor[0], "employed", "workshop", shop, dt.date(2019, 3, 1), 2_800_00),
        (people.poor[1], "employed", "workshop", shop, dt.date(2019, 4, 1), 2_600_00),
        (
            people.exited[0],
            "employed",
            "enterprise",
            "天津测试食品有限公司（演示）",
            dt.date(2019, 5, 1),
            3_000_00,
        ),
        (
            people.poor[0],
            "dividend",
            "cooperative",
            "承德县食用菌合作社（演示）",
            dt.date(2019, 12, 20),
            800_00,
        ),
        (people.dead[0], "employed", "workshop", shop, dt.date(2019, 3, 1), 2_500_00),
        (people.outside[0], "employed", "workshop", shop, dt.date(2019, 3, 1), 2_500_00),
        (
            people.unknown[0],
            "dividend",
            "cooperative",
            "承德县食用菌合作社（演示）",
            dt.date(2019, 12, 20),
            800_00,
        ),
    ]
    for id_number, benefit, kind, name, on, amount in rows:
        save_record(
            ledger("industry_beneficiaries"),
            actor=clerk,
            values={
                "pairing": pair,
                "year": 2019,
                "id_number": id_number,
                "benefit": benefit,
                "entity_kind": kind,
                "entity_name": name,
                "started_on": on,
                "amount_fen": amount,
            },
        )
    checks = list(
        PersonCheck.objects.filter(ledger="industry_beneficiaries")
        .order_by("record_id")
        .values_list("ok", "reason", "on_date")
    )
    assert checks == [
        (True, "match", dt.date(2019, 3, 1)),
        (True, "match", dt.date(2019, 4, 1)),
        (True, "match_exited", dt.date(2019, 5, 1)),
        (True, "match", dt.date(2019, 12, 20)),
        (False, "dead", dt.date(2019, 3, 1)),
        (False, "not_verified", dt.date(2019, 3, 1)),
        (False, "not_verified", dt.date(2019, 12, 20)),
    ]
    assert (
        list(Beneficiary.objects.order_by("id").values_list("flagged", flat=True)) == [False] * 4 + [True] * 3
    )
    assert metric("industry_beneficiaries", "people", pair) == {"": 3, "dividend": 1, "employed": 3}
    with CaptureQueriesContext(connection) as queries:
        metric("industry_beneficiaries", "people", pair)
    # the people, the two split values, and the people of each: not one query per record (7)
    assert len(queries) == 4
    assert metric("industry_beneficiaries", "workshop_people", pair) == {"": 2}
    # the same person, place and kind again is the same record
    assert errors_of(
        "industry_beneficiaries",
        clerk,
        {
            "pairing": pair,
            "year": 2019,
            "id_number": people.poor[1],
            "benefit": "就业",
            "entity_name": shop,
            "started_on": dt.date(2019, 4, 1),
            "amount_fen": 1,
        },
    )[0][1].startswith("已存在相同记录")


# --- synthetic data ------------------------------------------------------------------------------


def test_synthetic_rows_are_reproducible_and_pass_every_rule(
    world: World,
    registry_people: People,  # noqa: F811
) -> None:
    pairings = [world.provincial, world.pairing("120110", "130821"), world.pairing("120111", "130881")]

    def rows(seed: int) -> tuple[dict[str, list[dict[str, Any]]], SynthContext]:
        ctx = SynthContext(rng=random.Random(seed), year=2019, pairings=pairings, scale=0.2)
        return generate(ctx), ctx

    first, ctx = rows(11)
    second, _ = rows(11)
    assert first == second
    assert {k: len(v) for k, v in first.items()} == {k: len(v) for k, v in second.items()}
    for key, values in first.items():
        for v in values:
            save_record(ledger(key), actor=SYSTEM, values=v, via="demo", upsert=True)
    failed = PersonCheck.objects.filter(ledger="industry_beneficiaries", ok=False).count()
    assert failed == ctx.planted["industry_beneficiaries"]
    assert Investment.objects.count() == len(first["investments"])
    assert Park.objects.count() == 3
    assert Workshop.objects.count() == len(first["workshops"])


def test_synthetic_county_pair_has_the_published_order_of_magnitude(world: World) -> None:
    """DOMAIN.md §6 divided over the county pairs: a handful of enterprises, tens of millions of
    yuan invested, 5–20 workshops (the spec of the generator, so ranges here)."""
    ctx = SynthContext(rng=random.Random(2019), year=2019, pairings=[world.pairing("120110", "130821")])
    out = generate(ctx)
    invested = sum(r["invested_fen"] for r in out["investments"]) // 100
    assert 3 <= len(out["investments"]) <= 8
    assert 10_000_000 <= invested < 200_000_000
    assert 5 <= len(out["workshops"]) <= 20


@pytest.mark.parametrize(
    "key",
    [
        "investments",
        "parks",
        "workshops",
        "industry_beneficiaries",
    ],
)
def test_synthetic_sheets_import_back_unchanged(
    world: World,
    registry_people: People,  # noqa: F811
    tmp_path: Path,
    key: str,
) -> None:
    pairings = [world.provincial, world.pairing("120110", "130821")]
    rows = generate(SynthContext(rng=random.Random(3), year=2019, pairings=pairings, scale=0.2))
    for v in rows[key]:
        save_record(ledger(key), actor=SYSTEM, values=v, via="demo", upsert=True)
    [path] = write_files({key: rows[key]}, tmp_path)
    result = import_ledger(key, path, actor=SYSTEM)
    n = len(rows[key])
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

    from xiezuo.industry import synth

    assert doctest.testmod(rules).failed == 0
    assert doctest.testmod(synth).failed == 0
