"""The column reader of plain CSV tables (``xiezuo.registry.batches``) gives exactly what the row
parser gives: the same values, the same errors on the same cells, the same rows skipped."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from xiezuo.core.tabular import Summary
from xiezuo.registry import batches
from xiezuo.registry.columns import REGISTRY

REGISTRY_KEYS = [c.key for c in REGISTRY.columns if c.kind != "raw"]

pytestmark = pytest.mark.django_db

HEADER = [
    "户编号",
    "行政区划代码",
    "姓名",
    "证件号码",
    "与户主关系",
    "人均纯收入（元）",
    "备注",
    "贫困户属性",
    "主要致贫原因",
    "识别年度",
    "贫困状态",
    "脱贫年度",
]
HOUSEHOLD = ["一般贫困户", "因病", "2014", "已脱贫", "2017"]
ROWS = [
    ["H1", "520281117021", "樊明斌", "520281196104200014", "户主", "5610", "", *HOUSEHOLD],
    ["H1", "520281117021", "杨桂芳", "52028119510105000X", "配偶", "1,234", "", *HOUSEHOLD],
    ["H2", "520281117021", "那丹秀", "520281198406240000", "之女", "1.5万元", "备注：无", *HOUSEHOLD],
    ["H3", "520281117021", "马龙强", "520281195903190013", "户主", "-5", "", *HOUSEHOLD],
    ["H3", "520281117021", "蔡小红", "52028119611115000X", "配偶", "", "", *HOUSEHOLD],
    ["H4", "520281117021", "马强红", "52028119861206001X", "户主", "—", "", *HOUSEHOLD],
    ["H5", "520281117021", "马宁利", "520281198104100011", "户主", "0012", "", *HOUSEHOLD],
    ["H6", "520281117021", "祝建国", "520281194906150015", "户主", "12345678901234567", "", *HOUSEHOLD],
    ["H7", "520281117021", "蓝杰波", "520281196208130015", "户主", "12.345", "", *HOUSEHOLD],
    ["H8", "520281117021", "刘瑞旭", "520281195606280019", "户主", "１２００", "", *HOUSEHOLD],
    [
        "",
        "520281117021",
        "刘一",
        "520281195606280035",
        "户主",
        "800",
        "",
        *HOUSEHOLD,
    ],  # first cell blank: data
    ["  ", " ", "", "", "", "", " "],  # blank throughout
    ["合 计", "", "", "", "", "20000", ""],
    ["小计", "", "", "", "", "", ""],
    ["H9", "520281117021", "王五", "520281195606280051", "户主", "700", "", *HOUSEHOLD],
    ["填报人：张三", "", "", "", "", "", ""],
    ["填报日期：2020年1月5日", "", "", "", "", "", ""],
]


def _rows(reader: Any, path: Path) -> tuple[list[tuple[Any, ...]], Summary]:
    """Every row read: (seq, row number, values by column key, raw ID cell, errors)."""
    summary: list[Summary] = []
    out = []
    for batch in reader(path, summary):
        values = batch.frame.select(sorted(batch.frame.columns)).rows()
        ids = list(batch.ids)
        for i in range(len(batch)):
            errors = [
                (e.row, e.column_header, e.code, e.message_zh, e.message_en) for e in batch.errors.get(i, [])
            ]
            out.append((batch.seq0 + i, batch.row_numbers[i], values[i], ids[i], errors))
    return out, summary[0]


@pytest.mark.parametrize("size", [3, 100])
def test_the_column_reader_of_a_plain_csv_equals_the_row_parser(tmp_path: Path, size: int) -> None:
    path = tmp_path / "registry.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    plain = batches._plain_csv(path, REGISTRY)
    assert plain is not None  # the fast reader takes this file
    by_columns, columns_summary = _rows(
        lambda p, s: batches._column_batches(p, REGISTRY, plain, s, size, False, None), path
    )
    by_rows, rows_summary = _rows(lambda p, s: batches._row_batches(p, REGISTRY, s, size, False), path)
    assert by_columns == by_rows
    assert (
        (columns_summary.read, columns_summary.accepted, columns_summary.rejected)
        == (
            rows_summary.read,
            rows_summary.accepted,
            rows_summary.rejected,
        )
        == (12, 9, 3)
    )
    assert (
        dict(columns_summary.skipped) == dict(rows_summary.skipped) == {"empty": 1, "total": 2, "footer": 2}
    )
    assert columns_summary.sheet_meta == rows_summary.sheet_meta
    income = {
        row: values[sorted(REGISTRY_KEYS).index("income_per_capita")] for _, row, values, _, _ in by_rows
    }
    assert income == {
        2: 561000,
        3: 123400,
        4: 1500000,  # 1.5万元
        5: None,  # -5: rejected
        6: None,
        7: None,  # —
        8: 1200,
        9: 1234567890123456700,  # too long for the vectorised path: parsed one by one
        10: None,  # 12.345 元: finer than a fen, rejected
        11: 120000,  # full-width digits
        12: 80000,
        16: 70000,
    }
    errors = {row: [e[1:3] for e in errs] for _, row, _, _, errs in by_rows if errs}
    assert errors == {
        5: [("人均纯收入（元）", "negative")],
        10: [("人均纯收入（元）", "sub_fen")],
        12: [("户编号", "required")],
    }
