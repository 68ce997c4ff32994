"""Rejected rows and the error report a clerk fixes and imports again.

The report holds the original columns of each rejected row plus 原行号, 错误列 and 错误原因 (every
error of the row, in Chinese, joined with "；"); in xlsx the bad cells are filled red. A CSV
report is UTF-8 with a BOM so that Excel opens it as such. Every cell goes through ``safe_cell``:
the report holds what clerks uploaded, formula-like text included.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xiezuo.core.tabular.safe import safe_cell

__all__ = ["ERROR_COLUMNS", "CellError", "ParsedRow", "write_errors"]

ERROR_COLUMNS = ("原行号", "错误列", "错误原因")
SOURCE_COLUMN = "来源"
RED = "FFC7CE"


@dataclass(frozen=True)
class CellError:
    """One problem of one row: ``column`` is the 0-based position in the row, when it is a cell's."""

    row: int
    column_header: str
    code: str
    message_zh: str
    message_en: str
    column: int | None = None

    def text_zh(self) -> str:
        return f"{self.column_header}：{self.message_zh}" if self.column_header else self.message_zh


@dataclass
class ParsedRow:
    """A data row: parsed ``values`` by column key, the ``raw`` cells, and its errors (none = accepted)."""

    source: str
    row_number: int
    values: dict[str, Any]
    raw: list[Any]
    errors: list[CellError] = field(default_factory=list)
    labels: tuple[str, ...] = ()
    """The source's header label per position (for the error report)."""
    positions: dict[str, int] = field(default_factory=dict)
    """Column key → position in ``raw``, for errors found after parsing."""

    @property
    def ok(self) -> bool:
        return not self.errors


def _columns(rows: list[ParsedRow]) -> list[tuple[str, int]]:
    """Union of the rows' header labels, as (label, occurrence), in order of first appearance."""
    out: dict[tuple[str, int], None] = {}
    for labels in dict.fromkeys(r.labels for r in rows):
        seen: dict[str, int] = {}
        for position, label in enumerate(labels):
            text = label or f"列{position + 1}"
            seen[text] = seen.get(text, 0) + 1
            out[(text, seen[text])] = None
    return list(out)


def _positions(labels: tuple[str, ...], width: int) -> dict[tuple[str, int], int]:
    seen: dict[str, int] = {}
    out: dict[tuple[str, int], int] = {}
    for position in range(max(len(labels), width)):
        text = (labels[position] if position < len(labels) else "") or f"列{position + 1}"
        seen[text] = seen.get(text, 0) + 1
        out[(text, seen[text])] = position
    return out


def _report_rows(rows: list[ParsedRow]) -> tuple[list[str], int, list[tuple[list[Any], set[int]]]]:
    columns = _columns(rows)
    for row in rows:  # cells beyond the header get their own columns
        for key in _positions(row.labels, len(row.raw)):
            if key not in columns:
                columns.append(key)
    many = len({r.source for r in rows}) > 1
    header = [label for label, _ in columns] + list(ERROR_COLUMNS) + ([SOURCE_COLUMN] if many else [])
    out: list[tuple[list[Any], set[int]]] = []
    for row in rows:
        where = _positions(row.labels, len(row.raw))
        cells: list[Any] = []
        bad: set[int] = set()
        bad_positions = {e.column for e in row.errors if e.column is not None}
        for index, key in enumerate(columns):
            position = where.get(key)
            cells.append(row.raw[position] if position is not None and position < len(row.raw) else None)
            if position in bad_positions:
                bad.add(index)
        headers = list(dict.fromkeys(e.column_header for e in row.errors if e.column_header))
        cells += [row.row_number, "、".join(headers), "；".join(e.text_zh() for e in row.errors)]
        if many:
            cells.append(row.source)
        out.append((cells, bad))
    return header, len(columns), out


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_errors(path: str | Path, rows: Iterable[ParsedRow]) -> Path:
    """Write the rejected ``rows`` to ``path`` (.xlsx or .csv by its extension)."""
    path = Path(path)
    rejected = [r for r in rows if r.errors]
    header, originals, body = _report_rows(rejected)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([safe_cell(h) for h in header])
            for cells, _ in body:
                writer.writerow([safe_cell(_csv_cell(c)) for c in cells])
        return path
    if suffix not in (".xlsx", ".xlsm"):
        raise ValueError(f"error report must be .xlsx or .csv, not {path.name}")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    sheet.freeze_panes = "A2"
    fill = PatternFill("solid", fgColor=RED)

    head = []
    for text in header:
        cell = safe_cell(WriteOnlyCell(sheet, value=text))
        cell.font = Font(bold=True, color="C00000" if text in ERROR_COLUMNS else "000000")
        head.append(cell)
    for index, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 40 if text == "错误原因" else 16
    sheet.append(head)
    for cells, bad in body:
        out = []
        for index, value in enumerate(cells):
            cell = safe_cell(WriteOnlyCell(sheet, value=value))
            if isinstance(value, str) and index < originals:
                cell.number_format = "@"
            if index in bad:
                cell.fill = fill
            out.append(cell)
        sheet.append(out)
    workbook.save(path)
    return path
