"""Fuzzing the tabular reader and the value parsers (issue 21 item 8): whatever the input, the
only failures are the documented ones (``TabularError`` for a file, ``values.Invalid`` for a
cell), and every row read is either accepted or rejected."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiezuo.core.tabular import Column, Spec, TabularError, parse, parse_cell, values
from xiezuo.core.tabular.spec import KINDS
from xiezuo.registry.columns import REGISTRY

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPEC = Spec(
    "测试",
    (
        Column("number", "户编号", required=True),
        Column("name", "姓名", kind="name"),
        Column("count", "人数", kind="int", non_negative=True),
        Column("income", "收入（元）", kind="money"),
        Column("day", "日期", kind="date"),
        Column("year", "年度", kind="year"),
        Column("flag", "是否", kind="bool"),
        Column("share", "比例", kind="decimal"),
    ),
)
HEADER = [c.header for c in SPEC.columns]

cell_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(
        ["-", "—", "无", "1,000", "1，000.5", "２０１９", "2019年3月", "是", "否", "=1+1", "<b>"]
    ),
)


def _read_all(path: Path, spec: Spec = SPEC) -> tuple[int, int, int]:
    """Read every row; the counts, or the file's refusal (which must be a TabularError)."""
    rows, summary = parse(path, spec)
    n = 0
    for row in rows:
        n += 1
        assert row.ok == (not row.errors)
        assert set(row.values) <= {c.key for c in spec.columns}
    assert summary.read == n == summary.accepted + summary.rejected
    return summary.read, summary.accepted, summary.rejected


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS - {"code"})), raw=cell_values)
def test_value_parsers_return_or_raise_invalid(kind: str, raw: Any) -> None:
    column = Column("x", "列", kind=kind)
    try:
        parse_cell(column, raw)
    except values.Invalid as exc:
        assert exc.message_zh and exc.message_en


@FUZZ
@given(raw=cell_values)
def test_registry_text_columns_return_or_raise_invalid(raw: Any) -> None:
    for key in ("household_number", "name", "township", "village"):
        try:
            value = parse_cell(REGISTRY.column(key), raw)
        except values.Invalid:
            continue
        if key == "household_number" and value is not None:
            assert value[0].isascii() and value[0].isalnum()
        if key == "name" and value is not None:
            assert "<" not in value and ">" not in value and not value.startswith(("=", "+", "-", "@"))


@FUZZ
@given(
    rows=st.lists(st.lists(cell_values, max_size=10), max_size=15),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
)
def test_any_csv_is_read_or_refused(rows: list[list[Any]], encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        text = io.StringIO()
        csv.writer(text).writerows([HEADER, *rows])
        path.write_bytes(text.getvalue().encode(encoding, errors="replace"))
        try:
            _read_all(path)
        except TabularError as exc:
            assert exc.message_zh


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".zip", ".parquet"]))
def test_any_bytes_are_read_or_refused(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            _read_all(path)
        except TabularError as exc:
            assert exc.message_zh


def _workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append([v if not isinstance(v, Decimal) else float(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SMALL_XLSX = _workbook([["H1", "张三", 3, 1000, dt.date(2020, 1, 2), 2019, "是", 0.5]] * 3)


@FUZZ
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.none(), st.text(max_size=20), st.integers(-(10**12), 10**12), st.booleans(), st.dates()
            ),
            max_size=10,
        ),
        max_size=10,
    )
)
def test_any_workbook_of_cells_is_read(rows: list[list[Any]]) -> None:
    printable = [[v.replace("\x00", "") if isinstance(v, str) else v for v in row] for row in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        try:
            path.write_bytes(_workbook(printable))
        except (ValueError, openpyxl.utils.exceptions.IllegalCharacterError):
            return  # openpyxl refuses to write control characters: not a workbook to read
        read, accepted, rejected = _read_all(path)
        assert read == accepted + rejected <= len(rows)


@contextmanager
def _route(streamed: bool) -> Iterator[None]:
    """Workbooks read by calamine (the default for small ones) or streamed row by row."""
    before = os.environ.get("XIEZUO_UPLOAD_INMEMORY_CELLS")
    os.environ["XIEZUO_UPLOAD_INMEMORY_CELLS"] = "0" if streamed else "2000000"
    try:
        yield
    finally:
        if before is None:
            del os.environ["XIEZUO_UPLOAD_INMEMORY_CELLS"]
        else:
            os.environ["XIEZUO_UPLOAD_INMEMORY_CELLS"] = before


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(SMALL_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ),
    streamed=st.booleans(),
)
def test_a_damaged_workbook_is_read_or_refused(flips: list[tuple[int, int]], streamed: bool) -> None:
    data = bytearray(SMALL_XLSX)
    for position, byte in flips:
        data[position] = byte
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.xlsx"
        path.write_bytes(bytes(data))
        try:
            with _route(streamed):
                _read_all(path)
        except TabularError as exc:
            assert exc.message_zh


@FUZZ
@given(sheet=st.binary(max_size=400), strings=st.binary(max_size=200), streamed=st.booleans())
def test_a_workbook_with_any_sheet_xml_is_read_or_refused(
    sheet: bytes, strings: bytes, streamed: bool
) -> None:
    """Valid zip and CRCs, hostile XML inside: the guard's scan and both readers survive it."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.xlsx"
        base.write_bytes(SMALL_XLSX)
        path = Path(tmp) / "fuzz.xlsx"
        with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                if info.filename == "xl/worksheets/sheet1.xml":
                    out.writestr(info.filename, src.read(info)[:200] + sheet)
                else:
                    out.writestr(info.filename, src.read(info))
            out.writestr("xl/sharedStrings.xml", b'<sst xmlns="x">' + strings)
        try:
            with _route(streamed):
                _read_all(path)
        except TabularError as exc:
            assert exc.message_zh


def test_the_two_routes_read_the_same_values(tmp_path: Path) -> None:
    """A workbook streamed row by row gives the cells calamine gives (rows beyond the cells aside)."""
    path = tmp_path / "same.xlsx"
    path.write_bytes(SMALL_XLSX)
    with _route(False):
        held = [(r.row_number, r.values, r.errors) for r in parse(path, SPEC)[0]]
    with _route(True):
        streamed = [(r.row_number, r.values, r.errors) for r in parse(path, SPEC)[0]]
    assert streamed == held and len(held) == 3
