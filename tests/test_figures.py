"""One formatting path for figures (issue 17 item 2, ADR 0014): a figure reads the same on the
page, in the export and in the API.

The page's text is compared with the export's cell rendered by its own number format and with the
API's fen rendered here independently (``_wan``), so a drift in any one path fails.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.world import World
from xiezuo.core import figures
from xiezuo.core.scope import SYSTEM
from xiezuo.ledgers import services, types
from xiezuo.ledgers.rollup import rollup

# --- the pure functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "unit", "text"),
    [
        (290_000_000, "万元", "290.00"),  # whole 万元 keep their zeros (was "29")
        (80_000_000, "万元", "80.00"),  # (was "8")
        (123_456_789_000, "万元", "123,456.79"),
        (12_345, "万元", "0.01"),
        (4_999, "万元", "0.00"),
        (5_000, "万元", "0.01"),  # half up
        (-290_000_000, "万元", "-290.00"),
        (-1, "万元", "0.00"),  # no "-0.00"
        (123_456, "元", "1,234.56"),
        (100, "元", "1.00"),
        (15_000_000_000, "亿元", "1.50"),
        (0, "亿元", "0.00"),
        (None, "万元", ""),
    ],
)
def test_money_in_the_declared_unit_with_fixed_decimals(fen: int | None, unit: str, text: str) -> None:
    assert figures.money(fen, unit) == text


@pytest.mark.parametrize(
    ("fen", "unit", "amount"),
    [
        (290_000_000, "万元", Decimal("290")),
        (1, "万元", Decimal("0.000001")),
        (12_345, "元", Decimal("123.45")),
    ],
)
def test_money_cells_are_exact_and_formatted_like_the_page(fen: int, unit: str, amount: Decimal) -> None:
    assert figures.money_cell(fen, unit) == (amount, "#,##0.00")


@pytest.mark.parametrize(
    ("value", "count", "ratio"),
    [(0, "0", "0.0%"), (1234567, "1,234,567", "123,456,700.0%"), (None, "", "")],
)
def test_counts_and_ratios(value: int | None, count: str, ratio: str) -> None:
    assert figures.count(value) == count
    assert figures.ratio(value) == ratio
    assert figures.ratio(0.85749) == "85.7%" and figures.ratio(2 / 3) == "66.7%"


@pytest.mark.parametrize(
    ("header", "default", "unit"),
    [
        ("到位金额（万元）", "元", "万元"),
        ("月工资（元）", "万元", "元"),
        ("总额（亿元）", "元", "亿元"),
        ("金额", "万元", "万元"),
    ],
)
def test_the_unit_a_header_declares(header: str, default: str, unit: str) -> None:
    assert figures.declared_unit(header, default) == unit


# --- page, export and API -----------------------------------------------------------------------


def _wan(fen: int) -> str:
    """Fen as 万元 text, written here without xiezuo.core.figures."""
    return f"{(Decimal(fen) / 1_000_000).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def _shown(value: Any, number_format: str) -> str:
    """What Excel shows for a cell with the number formats the exports use."""
    if value is None:
        return ""
    if number_format == "#,##0.00":
        return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    if number_format == "#,##0":
        return f"{int(value):,}"
    if number_format == "0.0%":
        pct = (Decimal(str(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"{pct:.1f}%"
    raise AssertionError(f"unexpected number format {number_format!r}")


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _api(world: World, username: str) -> tuple[Client, dict[str, str]]:
    from xiezuo.accounts.tokens import create_token

    user = world.user(username)
    _, token = create_token(actor=user, user=user, name="figures")
    return Client(), {"Authorization": f"Bearer {token}"}


def _fund(pairing_pk: int, number: str, allocated: int, arrived: int, spent: int | None) -> dict[str, Any]:
    return {
        "pairing": pairing_pk,
        "year": 2019,
        "transfer_number": number,
        "source_level": "county",
        "target_region_code": "130821",
        "allocated_fen": allocated,
        "allocated_on": dt.date(2019, 3, 1),
        "arrived_fen": arrived,
        "arrived_on": dt.date(2019, 4, 1),
        "receipt_number": f"R-{number}",
        "spent_fen": spent,
        "spent_on": dt.date(2019, 9, 1) if spent is not None else None,
    }


def test_a_ledger_record_reads_the_same_on_list_detail_export_and_api(world: World) -> None:
    pair = world.pairing("120110", "130821")
    ltype = types.get("fiscal_funds")
    system: Any = SYSTEM
    rec = services.save_record(
        ltype, actor=system, values=_fund(pair.pk, "F-290", 290_000_000, 290_000_000, 80_000_000), via="demo"
    )
    web = Client()
    web.force_login(world.user("dongli"))
    listing = web.get("/ledgers/fiscal_funds/?year=2019").content.decode()
    head = re.search(r"<thead>(.*?)</thead>", listing, re.S)
    row = re.search(rf'<tr data-record="{rec.pk}"[^>]*>(.*?)</tr>', listing, re.S)
    assert head is not None and row is not None
    headers = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), re.S)]
    cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    shown = dict(zip(headers, cells, strict=True))
    # each column once (结对关系 and 归属年度 were listed twice in six ledgers)
    assert len(headers) == len(set(headers))
    assert (shown["到位金额（万元）"], shown["支出金额（万元）"], shown["拨付金额（万元）"]) == (
        "290.00",
        "80.00",
        "290.00",
    )
    detail = web.get(f"/ledgers/fiscal_funds/{rec.pk}/").content.decode()
    fields = dict(
        (_text(k), _text(v))
        for k, v in re.findall(r'<dt class="col-5">(.*?)</dt><dd class="col-7">(.*?)</dd>', detail, re.S)
    )
    assert (fields["到位金额（万元）"], fields["支出金额（万元）"]) == ("290.00", "80.00")
    # regions by name, the 12-digit code on hover
    assert fields["行政区划代码"] == "东丽区"
    assert '<span title="130821000000" data-region="130821000000">承德县</span>' in detail

    sheet = load_workbook(io.BytesIO(web.get("/ledgers/fiscal_funds/export.xlsx?year=2019").content))
    ws = sheet.active
    col = {c.value: i for i, c in enumerate(ws[1])}
    cells_x = ws[2]
    for header in ("到位金额（万元）", "支出金额（万元）", "拨付金额（万元）"):
        cell = cells_x[col[header]]
        assert _shown(cell.value, cell.number_format) == shown[header], header

    client, auth = _api(world, "dongli")
    out = client.get(f"/api/v1/ledgers/fiscal_funds/records/{rec.pk}", headers=auth).json()
    assert (_wan(out["arrived_fen"]), _wan(out["spent_fen"])) == (
        shown["到位金额（万元）"],
        shown["支出金额（万元）"],
    )


def test_every_figure_of_the_annual_summary_reads_the_same_on_page_export_and_api(world: World) -> None:
    provincial = world.provincial
    dongli = world.pairing("120110", "130821")
    xiqing = world.pairing("120111", "130881")
    system: Any = SYSTEM

    def put(key: str, values: dict[str, Any]) -> None:
        services.save_record(types.get(key), actor=system, values=values, via="demo")

    put("fiscal_funds", _fund(dongli.pk, "D-1", 290_000_000, 290_000_000, 80_000_000))
    put("fiscal_funds", _fund(dongli.pk, "D-2", 1_234_567_891, 1_000_000_005, None))
    put(
        "fiscal_funds",
        {**_fund(xiqing.pk, "X-1", 80_000_000, 80_000_000, None), "target_region_code": "130881"},
    )
    put(
        "agreement_targets",
        {
            "pairing": provincial.pk,
            "year": 2019,
            "target_item": "fiscal_funds",
            "target_fen": 3_000_000_000,
            "signed_on": dt.date(2019, 2, 1),
        },
    )
    r = rollup(provincial, 2019)
    web = Client()
    web.force_login(world.user("tianjin"))
    page = web.get(f"/pairings/{provincial.pk}/rollup/2019/").content.decode()
    rows = {
        key: {name: _text(v) for name, v in re.findall(r'data-figure="(\w+)">(.*?)</td>', body, re.S)}
        for key, body in re.findall(r'<tr data-metric="([\w.]+)"[^>]*>(.*?)</tr>', page, re.S)
    }
    assert len(rows) == len(r.lines) > 20

    sheet = load_workbook(
        io.BytesIO(web.get(f"/pairings/{provincial.pk}/rollup/2019/export.xlsx").content)
    ).active
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["领域", "台账", "指标", "单位", "合计", "目标", "完成率", "本级"]
    exported = list(sheet.iter_rows(min_row=2))
    assert len(exported) == len(r.lines)

    client, auth = _api(world, "tianjin")
    api = client.get(f"/api/v1/pairings/{provincial.pk}/rollup?year=2019", headers=auth).json()
    assert api["money_unit"] == "万元"

    money_lines = 0
    for line, cells, out in zip(r.lines, exported, api["lines"], strict=True):
        key = f"{line.ledger.key}.{line.metric.key}"
        shown = rows[key]
        assert (out["ledger"], out["metric"]) == (line.ledger.key, line.metric.key)
        assert cells[2].value == line.metric.zh
        for i, name, value in (
            (4, "total", out["total"]),
            (5, "target", out["target"]),
            (7, "own", out["own"]),
        ):
            assert _shown(cells[i].value, cells[i].number_format) == shown[name], (key, name)
            assert out["display"][name] == shown[name], (key, name)
            if line.metric.unit == "money":
                assert ("" if value is None else _wan(value)) == shown[name], (key, name)
            else:
                assert ("" if value is None else f"{value:,}") == shown[name], (key, name)
        assert _shown(cells[6].value, cells[6].number_format) == shown["ratio"] == out["display"]["ratio"], (
            key
        )
        money_lines += line.metric.unit == "money"
    assert money_lines > 5
    arrived = rows["fiscal_funds.arrived"]
    assert (arrived["total"], arrived["target"], arrived["ratio"]) == ("1,370.00", "3,000.00", "45.7%")
    spent = rows["fiscal_funds.spent"]
    assert spent["total"] == "80.00"
    allocated = rows["fiscal_funds.allocated"]
    assert allocated["total"] == "1,604.57"  # 290 + 1,234.567891 + 80 万元, rounded half up


def test_template_filters_use_the_same_path() -> None:
    from django.template import Context, Template

    rendered = Template(
        '{% load xiezuo_tags %}{{ a|money:"元" }}|{{ b|money:"万元" }}|{{ n|count }}|{{ z|money }}'
    ).render(Context({"a": 512_300, "b": 290_000_000, "n": 12_345, "z": None}))
    assert rendered == "5,123.00|290.00|12,345|"
