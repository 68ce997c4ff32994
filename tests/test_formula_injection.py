"""Formula (CSV) injection (issue 21 item 5): text a clerk uploaded comes back out of every
export and error report as text, never as a live formula; numbers stay numbers. Registry household
numbers and names are checked against documented character sets."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.world import World
from xiezuo.core.tabular import Column, ParsedRow, Spec, safe_cell, write_errors, write_template
from xiezuo.core.tabular.errors import CellError
from xiezuo.ledgers import types
from xiezuo.ledgers.exporting import export_records, write_rows
from xiezuo.ledgers.importing import import_ledger
from xiezuo.projects.models import Project
from xiezuo.registry.importing import import_registry

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1"]
# A CSV has no cell types: formula text gets an apostrophe; "+1" is the number 1 to any program.
IN_CSV = ["'" + v if v != "+1" else v for v in HOSTILE]
# XML reads a carriage return back as a line feed.
IN_XLSX = [v.replace("\r", "\n") for v in HOSTILE]


def cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def assert_no_formula(path: Path) -> None:
    assert [c.coordinate for c in cells(path) if c.data_type == "f"] == []


def test_safe_cell_keeps_numbers_and_plain_text() -> None:
    assert [safe_cell(v) for v in (-5, -1.5, Decimal("-2"), dt.date(2020, 1, 1), True, None, "张三")] == [
        -5,
        -1.5,
        Decimal("-2"),
        dt.date(2020, 1, 1),
        True,
        None,
        "张三",
    ]
    assert [safe_cell(v) for v in HOSTILE] == IN_CSV
    assert [safe_cell(v) for v in ("-12", "+3.5", "-.5", "1e5")] == ["-12", "+3.5", "-.5", "1e5"]


def rejected_rows() -> list[ParsedRow]:
    labels = ("户编号", "姓名", "金额")
    return [
        ParsedRow(
            "a.xlsx!Sheet",
            number,
            {},
            [text, text, -5],
            [CellError(number, "姓名", "pattern", "不行", "no", 1)],
            labels,
        )
        for number, text in enumerate(HOSTILE, start=2)
    ]


def test_an_xlsx_error_report_holds_formula_text_as_text(tmp_path: Path) -> None:
    path = write_errors(tmp_path / "errors.xlsx", rejected_rows())
    assert_no_formula(path)
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # The text exactly as uploaded (typed as text, not rewritten); the amount still a number.
    assert [r[:3] for r in rows] == [(v, v, -5) for v in IN_XLSX]
    assert ws["A2"].quotePrefix  # stays text when edited in Excel


def test_a_csv_error_report_prefixes_formula_text(tmp_path: Path) -> None:
    path = write_errors(tmp_path / "errors.csv", rejected_rows())
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[:3] for r in rows[1:]] == [[v, v, "-5"] for v in IN_CSV]


def test_a_template_has_no_formula_cells(tmp_path: Path) -> None:
    spec = Spec("t", (Column("a", "=1+1"), Column("b", "@x")))
    path = write_template(spec, tmp_path / "t.xlsx", rows=3)
    assert_no_formula(path)
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    assert [ws["A1"].value, ws["B1"].value] == ["=1+1", "@x"]


def test_a_ledger_sheet_writes_text_as_text_and_amounts_as_numbers(tmp_path: Path) -> None:
    ltype = types.get("projects")
    rows = [
        {"project_number": text, "name": text, "budget_fen": Decimal("-12.5"), "year": 2019}
        for text in HOSTILE
    ]
    path = write_rows(ltype, rows, tmp_path / "export.xlsx")
    assert_no_formula(path)
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    at = {h: i for i, h in enumerate(header)}
    got = [
        (r[at["项目编号"]], r[at["项目名称"]], r[at["项目总投资（万元）"]], r[at["归属年度"]])
        for r in ws.iter_rows(min_row=2, values_only=True)
    ]
    assert got == [(v, v, -12.5, 2019) for v in IN_XLSX]


def projects_csv(path: Path, rows: list[list[Any]]) -> Path:
    """A CSV upload: its cells are text, formula text included (an xlsx would hold formulas, of
    which the readers take the cached value)."""
    header = ["年度", "项目编号", "项目名称", "项目类别", "所在地区划代码", "项目进度", "总投资（万元）"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([[*header, "东西部协作资金（万元）"], *rows])
    return path


@pytest.mark.django_db
def test_a_ledger_import_report_and_export_hold_no_formula(world: World, tmp_path: Path) -> None:
    pairing = world.pairing("120110", "130821")
    rows: list[list[Any]] = []
    for index, text in enumerate(HOSTILE[:4]):
        # Accepted: a project named with formula text (the ledger's names are free text).
        rows.append([2019, f"P-{index}", text, "产业扶贫", "130821", "储备", 10, 5])
        # Rejected (an unknown stage): the report repeats the cells as uploaded.
        rows.append([2019, f"R-{index}", text, "产业扶贫", "130821", "动工", 10, 5])
    path = projects_csv(tmp_path / "projects.csv", rows)
    errors = tmp_path / "errors.xlsx"
    user = world.user("chengdexian")
    result = import_ledger("projects", path, actor=user, pairing=pairing, errors_out=errors)
    assert (result.read, result.accepted, result.rejected) == (8, 4, 4)
    assert_no_formula(errors)
    ws = openpyxl.load_workbook(errors).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    names = [r[header.index("项目名称")] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert names == HOSTILE[:4]
    records = list(Project.objects.filter(pairing=pairing).order_by("project_number"))
    assert [r.name for r in records] == HOSTILE[:4]
    export = export_records(types.get("projects"), records, tmp_path / "export.xlsx", user=user)
    assert_no_formula(export)
    ws = openpyxl.load_workbook(export).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert [r[header.index("项目名称")] for r in ws.iter_rows(min_row=2, values_only=True)] == HOSTILE[:4]
    assert [r[header.index("项目总投资（万元）")] for r in ws.iter_rows(min_row=2, values_only=True)] == [
        10
    ] * 4


# --- registry input ----------------------------------------------------------------------------

NUMBER_RULE = "只能由字母、数字、连字符（-）和下划线（_）组成，以字母或数字开头，最长 40 位"
NAME_RULE = "不能含有 < 或 >，也不能以 = + - @ 开头"
REGISTRY_ROWS = [
    # (户编号, 姓名, expected (错误列, 错误原因) or None when accepted)
    ("E001", "行二", None),
    ("=1+1", "行三", ("户编号", f"户编号：「=1+1」不是有效的户编号：{NUMBER_RULE}")),
    ("E003", "=1+1", ("姓名", f"姓名：「=1+1」不是有效的姓名：{NAME_RULE}")),
    ("E004", "<script>", ("姓名", f"姓名：「<script>」不是有效的姓名：{NAME_RULE}")),
    ("户05", "行六", ("户编号", f"户编号：「户05」不是有效的户编号：{NUMBER_RULE}")),
    ("E-06_a", "阿依·买买提", None),
    ("-E07", "行八", ("户编号", f"户编号：「-E07」不是有效的户编号：{NUMBER_RULE}")),
    ("E008", "@SUM(A1)", ("姓名", f"姓名：「@SUM(A1)」不是有效的姓名：{NAME_RULE}")),
    ("E009", "王<b>五", ("姓名", f"姓名：「王<b>五」不是有效的姓名：{NAME_RULE}")),
]


def registry_file(path: Path) -> Path:
    from tests.fixtures.make_sheets import make_id

    header = [
        "户编号",
        "行政区划代码",
        "姓名",
        "证件号码",
        "与户主关系",
        "贫困户属性",
        "主要致贫原因",
        "识别年度",
        "贫困状态",
    ]
    body = [
        [number, "130821100201", name, make_id("19700101", index, "130821"), "户主", "1", "1", "2014", "贫困"]
        for index, (number, name, _) in enumerate(REGISTRY_ROWS, start=1)
    ]
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, *body])
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for r, row in enumerate([header, *body], start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c, value=value)
                cell.data_type = "s"  # text cells, as a clerk types '=1+1 (openpyxl would make a formula)
        book.save(path)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])  # the column reader and the row reader
def test_registry_refuses_unsafe_household_numbers_and_names(
    world: World, tmp_path: Path, suffix: str
) -> None:
    path = registry_file(tmp_path / f"registry{suffix}")
    errors = tmp_path / "errors.xlsx"
    result = import_registry(
        path, actor=world.user("chengdexian"), data_year=2019, as_of=dt.date(2019, 12, 31), errors_out=errors
    )
    assert (result.read, result.accepted, result.rejected) == (9, 2, 7)
    assert_no_formula(errors)
    ws = openpyxl.load_workbook(errors).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    got = {
        r[header.index("原行号")]: (r[header.index("错误列")], r[header.index("错误原因")])
        for r in ws.iter_rows(min_row=2, values_only=True)
    }
    expected = {row: want for row, (_, _, want) in enumerate(REGISTRY_ROWS, start=2) if want is not None}
    assert got == expected
    originals = {
        r[header.index("原行号")]: r[header.index("姓名")] for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert originals[4] == "=1+1"  # the report repeats the cell as uploaded, as text
