"""Column specs: one definition per field drives header matching, parsing, templates and export.

>>> spec = Spec("示例", (Column("name", "姓名", kind="name", required=True),))
>>> spec.column("name").header
'姓名'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xiezuo.core.tabular import values as v

__all__ = ["KINDS", "TEXT_KINDS", "Column", "Spec", "format_value", "parse_cell", "write_template"]

KINDS = frozenset({"text", "name", "raw", "int", "decimal", "money", "date", "year", "bool", "code"})
TEXT_KINDS = frozenset({"text", "name", "raw", "code"})
"""Kinds whose template cells are formatted as text ("@"), so Excel keeps IDs and codes as typed."""


@dataclass(frozen=True)
class Column:
    """One field of a spreadsheet.

    ``header`` is the Chinese header written in templates and matched on import, with ``aliases``
    (other headers seen in the field). ``kind`` picks the parser: text, name, raw (cell passed
    through unchanged, e.g. ID numbers for their own validator), int, decimal, money (to fen; the
    unit comes from the header, a unit row, the import's argument, else ``unit``), date, year, bool,
    code (through ``xiezuo.core.codelists.lookup(code_list, …)``).
    """

    key: str
    header: str
    kind: str = "text"
    aliases: tuple[str, ...] = ()
    required: bool = False
    code_list: str | None = None
    unit: str = "元"
    month_ok: bool = True
    non_negative: bool = False
    width: int | None = None
    export: Callable[[Any], Any] | None = None
    pattern: str | None = None
    """For text and name columns: a regular expression (valid for Python and polars alike) the
    cleaned text must match in full, and the rule in words for the clerk (``rule_zh``, ``rule_en``)."""
    rule_zh: str = ""
    rule_en: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: unknown kind {self.kind!r}")
        if (self.kind == "code") != (self.code_list is not None):
            raise ValueError(f"column {self.key}: code_list is for kind 'code' only, and required by it")
        if self.unit not in v.MONEY_UNITS:
            raise ValueError(f"column {self.key}: unknown unit {self.unit!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Spec:
    """A named list of columns (one per ledger or registry table)."""

    name: str
    columns: tuple[Column, ...]
    _by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {c.key: c for c in self.columns}
        if len(by_key) != len(self.columns):
            raise ValueError(f"spec {self.name}: duplicate column keys")
        object.__setattr__(self, "_by_key", by_key)

    def column(self, key: str) -> Column:
        return self._by_key[key]

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def _code(column: Column, raw: object) -> str | None:
    from xiezuo.core import codelists  # Django-backed; imported late so parsing stays importable

    text = v.clean_text(raw)
    if text is None:
        return None
    assert column.code_list is not None
    entry = codelists.lookup(column.code_list, text)
    if entry is None:
        entries = codelists.entries(column.code_list)
        labels = "、".join(e.zh for e in entries)
        codes = "、".join(e.code for e in entries)
        raise v.Invalid(
            "unknown_code",
            f"「{text}」不是有效的{column.header}，可填：{labels}（或代码 {codes}）",
            f"{text!r} is not a valid {column.key}",
        )
    return entry.code


def _matched(column: Column, text: str | None) -> str | None:
    if column.pattern is None or text is None or re.fullmatch(column.pattern, text):
        return text
    raise v.Invalid(
        "pattern",
        f"「{text}」不是有效的{column.header}：{column.rule_zh}",
        f"{text!r} is not a valid {column.key}: {column.rule_en}",
    )


def parse_cell(column: Column, raw: object, *, unit: str | None = None) -> Any:
    """Parse one cell for ``column`` (``unit`` overrides the column's money unit); raises ``Invalid``."""
    kind = column.kind
    value: Any
    if kind == "raw":
        return raw
    if kind == "text":
        return _matched(column, v.clean_text(raw))
    if kind == "name":
        return _matched(column, v.clean_name(raw))
    if kind == "code":
        return _code(column, raw)
    if kind == "int":
        value = v.parse_int(raw)
    elif kind == "decimal":
        value = v.parse_decimal(raw)
    elif kind == "money":
        value = v.parse_money(raw, unit=unit or column.unit)
    elif kind == "date":
        return v.parse_date(raw, month_ok=column.month_ok)
    elif kind == "year":
        return v.parse_year(raw)
    else:
        return v.parse_bool(raw)
    if column.non_negative and value is not None and value < 0:
        raise v.Invalid("negative", f"「{raw}」不能为负数", f"{raw!r} must not be negative")
    return value


def format_value(column: Column, value: Any, *, unit: str | None = None) -> Any:
    """A stored value as a cell for export: money in ``unit`` (default the column's), code → label."""
    if column.export is not None:
        return column.export(value)
    if value is None:
        return None
    if column.kind == "money":
        return Decimal(value) / 100 / v.MONEY_UNITS[unit or column.unit]
    if column.kind == "code" and column.code_list:
        from xiezuo.core import codelists

        return codelists.label(column.code_list, value)
    if column.kind == "bool":
        return "是" if value else "否"
    if isinstance(value, v.MonthDate):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


TEMPLATE_ROWS = 1000
LISTS_SHEET = "代码表"


def write_template(spec: Spec, path: str | Path, *, rows: int = TEMPLATE_ROWS) -> Path:
    """An empty import template: Chinese headers (required ones in red), drop-downs of labels for
    code and yes/no columns, text format on ID/text/code columns, frozen header row, widths.

    Code labels live in a hidden sheet 代码表 (readers skip hidden sheets).
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from xiezuo.core import codelists
    from xiezuo.core.tabular.safe import safe_cell

    path = Path(path)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = spec.name[:31]
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    list_col = 0
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = safe_cell(sheet.cell(row=1, column=index, value=column.header))
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.required:
            cell.comment = Comment("必填", "xiezuo")
        rng = f"{letter}2:{letter}{rows + 1}"
        validation: DataValidation | None = None
        if column.kind == "code" and column.code_list:
            list_col += 1
            list_letter = get_column_letter(list_col)
            labels = [e.zh for e in codelists.entries(column.code_list)]
            safe_cell(lists.cell(row=1, column=list_col, value=column.header))
            for r, text in enumerate(labels, start=2):
                safe_cell(lists.cell(row=r, column=list_col, value=text))
            formula = f"'{LISTS_SHEET}'!${list_letter}$2:${list_letter}${len(labels) + 1}"
            validation = DataValidation(type="list", formula1=formula, allow_blank=not column.required)
        elif column.kind == "bool":
            validation = DataValidation(type="list", formula1='"是,否"', allow_blank=not column.required)
        if validation is not None:
            validation.error = f"请从下拉列表中选择{column.header}"
            validation.errorTitle = column.header
            validation.add(rng)
            sheet.add_data_validation(validation)
        if column.kind in TEXT_KINDS:
            for r in range(2, rows + 2):
                sheet.cell(row=r, column=index).number_format = "@"
        width = column.width or max(10, 2 * len(column.header) + 4)
        if column.kind == "raw":
            width = max(width, 22)
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30
    workbook.save(path)
    return path
