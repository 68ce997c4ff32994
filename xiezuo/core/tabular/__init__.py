"""Reading spreadsheets as county offices keep them (DESIGN.md §4, §6): the front of the import pipeline.

One :class:`Spec` of :class:`Column` s drives header matching, parsing, the import template and
the error report. ``parse`` streams any supported file (CSV in UTF-8 or GBK/GB18030, XLSX, XLS,
Parquet, several sheets, a ZIP of those) and yields one :class:`ParsedRow` per data row; the
:class:`Summary` fills as the rows go by (read = accepted + rejected, always)::

    rows, summary = parse("花名册.xlsx", REGISTRY_SPEC)
    for row in rows:
        ...  # row.values (by column key) when row.ok, else row.errors
    write_errors("错误.xlsx", rejected_rows)
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xiezuo.core.tabular import values
from xiezuo.core.tabular.errors import ERROR_COLUMNS, CellError, ParsedRow, write_errors
from xiezuo.core.tabular.header import (
    HEADER_SCAN_ROWS,
    IGNORED_HEADERS,
    Header,
    classify_row,
    find_header,
    norm_header,
    row_meta,
    row_unit,
)
from xiezuo.core.tabular.readers import Sheet, TabularError, iter_sheets
from xiezuo.core.tabular.safe import safe_cell
from xiezuo.core.tabular.spec import Column, Spec, format_value, parse_cell, write_template

__all__ = [
    "ERROR_COLUMNS",
    "CellError",
    "Column",
    "ParsedRow",
    "Spec",
    "Summary",
    "TabularError",
    "UnitUsed",
    "format_value",
    "iter_sheets",
    "parse",
    "parse_cell",
    "safe_cell",
    "values",
    "write_errors",
    "write_template",
]

SKIP_REASONS = ("empty", "total", "footer")
_ORIGIN_ZH = {"header": "表头", "unit_row": "单位行", "argument": "导入参数", "default": "默认"}


@dataclass(frozen=True)
class UnitUsed:
    """The money unit a column was read in, and where it came from (header, unit_row, argument, default)."""

    unit: str
    origin: str
    header: str = ""
    """The column's header as the sheet wrote it."""


@dataclass
class Summary:
    """Counts and findings of one parse, complete once the rows are exhausted."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)
    header_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Source → (first, last) header row."""
    units: dict[str, dict[str, UnitUsed]] = field(default_factory=dict)
    """Source → money column key → unit used."""
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    sheet_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Source → 填报单位, 填报人, 填报日期 (date), 数据截止日期 (date) … from title and footer rows."""
    unmatched: dict[str, str] = field(default_factory=dict)
    """Sources with no recognisable header → why (in Chinese); their rows are not read."""
    encodings: dict[str, str] = field(default_factory=dict)

    @property
    def as_of(self) -> Any:
        """数据截止日期, else 填报日期, from the first source that states one (None if none does)."""
        for key in ("数据截止日期", "填报日期"):
            for meta in self.sheet_meta.values():
                if key in meta and not isinstance(meta[key], str):
                    return meta[key]
        return None

    def unit_notes_zh(self, spec: Spec) -> list[str]:
        """One line per money column per source: "「人均纯收入（元）」按万元读取（来自表头）"."""
        notes = []
        for source, units in self.units.items():
            for key, used in units.items():
                header = used.header or spec.column(key).header
                notes.append(f"{source}：「{header}」按{used.unit}读取（来自{_ORIGIN_ZH[used.origin]}）")
        return notes


def parse(path: str | Path, spec: Spec, *, unit: str | None = None) -> tuple[Iterator[ParsedRow], Summary]:
    """Stream the data rows of every source in ``path``, parsed by ``spec``.

    ``unit`` (元, 万元 or 亿元) is the money unit for columns whose header and sheet don't state
    one. The file must exist and be of a supported type (``TabularError`` otherwise); a sheet
    without a recognisable header is listed in ``summary.unmatched``.
    """
    if unit is not None and unit not in values.MONEY_UNITS:
        raise ValueError(f"unknown money unit {unit!r}")
    sheets = iter_sheets(path)
    summary = Summary()
    return _rows(sheets, spec, unit, summary), summary


def _rows(sheets: Iterator[Sheet], spec: Spec, unit: str | None, summary: Summary) -> Iterator[ParsedRow]:
    for sheet in sheets:
        yield from _sheet_rows(sheet, spec, unit, summary)


def _units(spec: Spec, header: Header, sheet_unit: str | None, unit: str | None) -> dict[str, UnitUsed]:
    out: dict[str, UnitUsed] = {}
    for column in spec.columns:
        if column.kind != "money" or column.key not in header.columns:
            continue
        label = header.labels[header.columns[column.key]]
        if column.key in header.header_units:
            out[column.key] = UnitUsed(header.header_units[column.key], "header", label)
        elif sheet_unit:
            out[column.key] = UnitUsed(sheet_unit, "unit_row", label)
        elif unit:
            out[column.key] = UnitUsed(unit, "argument", label)
        else:
            out[column.key] = UnitUsed(column.unit, "default", label)
    return out


def _sheet_rows(sheet: Sheet, spec: Spec, unit: str | None, summary: Summary) -> Iterator[ParsedRow]:
    source = sheet.name
    summary.sources.append(source)
    if sheet.encoding:
        summary.encodings[source] = sheet.encoding
    head = list(itertools.islice(sheet.rows, HEADER_SCAN_ROWS))
    header = find_header(head, spec, sheet.merged)
    if header is None:
        summary.unmatched[source] = (
            f"前{HEADER_SCAN_ROWS}行中找不到表头（至少应有一半必填列："
            + "、".join(c.header for c in spec.required or spec.columns)
            + "）"
        )
        return
    summary.header_rows[source] = (header.first_row, header.last_row)
    meta: dict[str, Any] = {}
    sheet_unit = None
    for number, cells in head:
        if number >= header.first_row:
            break
        meta.update(row_meta(cells))
        sheet_unit = sheet_unit or row_unit(cells)
    units = _units(spec, header, sheet_unit, unit)
    summary.units[source] = units
    summary.ignored_columns[source] = [h for h in header.ignored if norm_header(h) not in IGNORED_HEADERS] + [
        h for h in header.ignored if norm_header(h) in IGNORED_HEADERS
    ]
    summary.missing_columns[source] = [c.header for c in header.missing]
    summary.sheet_meta[source] = meta
    labels = tuple(header.labels)
    matched = [(spec.column(k), p) for k, p in header.columns.items()]
    missing_required = [c for c in header.missing if c.required]
    money_units = {k: u.unit for k, u in units.items()}
    codes: dict[tuple[str, Any], Any] = {}
    rest = itertools.chain((r for r in head if r[0] > header.last_row), sheet.rows)
    for number, cells in rest:
        reason = classify_row(cells)
        if reason is not None:
            summary.skipped[reason] += 1
            if reason == "footer":
                for key, value in row_meta(cells).items():
                    meta.setdefault(key, value)
            continue
        row = _parse_row(source, number, cells, matched, missing_required, money_units, labels, codes)
        summary.read += 1
        if row.errors:
            summary.rejected += 1
        else:
            summary.accepted += 1
        yield row


def _parse_row(
    source: str,
    number: int,
    cells: list[Any],
    matched: list[tuple[Column, int]],
    missing_required: list[Column],
    units: dict[str, str],
    labels: tuple[str, ...],
    codes: dict[tuple[str, Any], Any],
) -> ParsedRow:
    parsed: dict[str, Any] = {}
    errors: list[CellError] = []
    for column, position in matched:
        raw = cells[position] if position < len(cells) else None
        label = labels[position] or column.header
        try:
            if column.kind == "code" and isinstance(raw, str | int | float):
                # Few distinct labels, many rows: resolve each once per sheet.
                hit = codes.get((column.key, raw))
                if hit is None:
                    try:
                        hit = codes[(column.key, raw)] = parse_cell(column, raw)
                    except values.Invalid as exc:
                        hit = codes[(column.key, raw)] = exc
                if isinstance(hit, values.Invalid):
                    raise hit
                value = hit
            else:
                value = parse_cell(column, raw, unit=units.get(column.key))
        except values.Invalid as exc:
            errors.append(CellError(number, label, exc.code, exc.message_zh, exc.message_en, position))
            continue
        if column.required and (value is None or (isinstance(value, str) and not value.strip())):
            errors.append(
                CellError(number, label, "required", "不能为空", f"{column.key} is required", position)
            )
        parsed[column.key] = value
    for column in missing_required:
        errors.append(
            CellError(
                number,
                column.header,
                "missing_column",
                f"表中缺少必填列「{column.header}」",
                f"required column {column.key} is missing",
            )
        )
    positions = {column.key: position for column, position in matched}
    return ParsedRow(source, number, parsed, list(cells), errors, labels, positions)
