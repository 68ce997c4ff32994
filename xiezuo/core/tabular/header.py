"""Finding the header of a real sheet and telling data rows from the rest.

Offices put title rows, unit rows ("单位：万元") and merged cells above the header, split headers
over two rows (a parent "收入情况" over "工资性收入", "生产经营性收入"), break lines inside header
cells ("人均纯收入\\n（元）"), add 序号 and 备注 columns, 合计/小计 rows and a footer (填报单位：…,
填报人：…, 日期：…). This module reads all that; it is pure (no Django).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xiezuo.core.tabular import values as v
from xiezuo.core.tabular.spec import Column, Spec

__all__ = [
    "HEADER_SCAN_ROWS",
    "Header",
    "classify_row",
    "find_header",
    "norm_header",
    "row_meta",
    "row_unit",
]

HEADER_SCAN_ROWS = 30
IGNORED_HEADERS = frozenset({"序号", "编号", "备注", "说明"})


def norm_header(text: object) -> str:
    """Header text for matching: NFKC (full-width brackets too), no white space, no required mark.

    >>> norm_header(" 人均纯收入\\n（元）"), norm_header("*姓  名")
    ('人均纯收入(元)', '姓名')
    """
    if text is None:
        return ""
    out = unicodedata.normalize("NFKC", str(text))
    out = "".join(out.split()).replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    return out.lstrip("*※★").lower()


_PAREN = re.compile(r"^(?P<base>.+?)\((?:单位[:：]?)?(?P<inner>[^()]*)\)$")
_UNIT_NAMES = {"元": "元", "万元": "万元", "亿元": "亿元", "万": "万元", "亿": "亿元"}


def _split_unit(label: str) -> tuple[str, str | None]:
    """``人均纯收入(万元)`` → (``人均纯收入``, ``万元``); the inner text when it is not a money unit."""
    m = _PAREN.match(label)
    if not m:
        return label, None
    return m["base"], m["inner"]


@dataclass
class Header:
    """Where the header is and what each column position means."""

    first_row: int
    last_row: int
    labels: list[str]
    """A display label per position (child, or parent·child when the child alone is ambiguous)."""
    columns: dict[str, int]
    """Spec key → 0-based position."""
    header_units: dict[str, str] = field(default_factory=dict)
    """Money unit written in a matched header ("金额（万元）"), by key."""
    ignored: list[str] = field(default_factory=list)
    missing: list[Column] = field(default_factory=list)


class _Matcher:
    def __init__(self, spec: Spec) -> None:
        self.exact: dict[str, Column] = {}
        self.base: dict[str, Column] = {}
        for column in spec.columns:
            for name in column.names:
                n = norm_header(name)
                self.exact.setdefault(n, column)
                self.base.setdefault(_split_unit(n)[0], column)
        self.required = len(spec.required)
        self.total = len(spec.columns)

    def match(self, label: str) -> tuple[Column, str | None] | None:
        if not label:
            return None
        base, inner = _split_unit(label)
        unit = _UNIT_NAMES.get(inner or "")
        column = self.exact.get(label) or self.base.get(base) or self.base.get(label)
        return (column, unit) if column else None

    def enough(self, matched: Sequence[Column]) -> bool:
        if self.required:
            return sum(c.required for c in matched) >= max(1, math.ceil(self.required / 2))
        return len(matched) >= max(1, math.ceil(self.total / 2))


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _fill_parents(parent: list[str], child: list[str], row: int, merged: Sequence[Any]) -> list[str]:
    filled = list(parent)
    for (r0, c0), (_r1, c1) in merged:
        if r0 == row and c1 > c0 and c0 < len(filled) and filled[c0]:
            for c in range(c0 + 1, min(c1 + 1, len(filled))):
                filled[c] = filled[c] or filled[c0]
    # Without merge information (CSV), a group label runs right over empty cells that have children.
    last = None
    for c, text in enumerate(filled):
        if text:
            last = text if c < len(child) and child[c] else None
        elif last and c < len(child) and child[c]:
            filled[c] = last
    return filled


def _labels(parent: list[str], child: list[str] | None) -> list[tuple[str, list[str]]]:
    """Per position: (display label, candidate normalised labels in order of preference)."""
    out: list[tuple[str, list[str]]] = []
    width = max(len(parent), len(child or []))
    for c in range(width):
        p = parent[c] if c < len(parent) else ""
        if child is None:
            out.append((p, [norm_header(p)]))
            continue
        k = child[c] if c < len(child) else ""
        if not k:
            out.append((p, [norm_header(p)]))
        elif not p or p == k:
            out.append((k, [norm_header(k)]))
        else:
            out.append((k, [norm_header(p + k), norm_header(k)]))
    return out


def _try(
    matcher: _Matcher, labelled: list[tuple[str, list[str]]]
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    columns: dict[str, int] = {}
    units: dict[str, str] = {}
    ignored: list[str] = []
    for position, (display, candidates) in enumerate(labelled):
        hit = None
        for candidate in candidates:
            hit = matcher.match(candidate)
            if hit:
                break
        if hit and hit[0].key not in columns:
            columns[hit[0].key] = position
            if hit[1]:
                units[hit[0].key] = hit[1]
        elif display:
            ignored.append(_display(display))
    return columns, units, ignored


def find_header(
    rows: Sequence[tuple[int, list[Any]]], spec: Spec, merged: Sequence[Any] = ()
) -> Header | None:
    """The header among the first rows: the row (or pair of rows) matching most spec columns.

    It needs at least half the required columns (half of all when none is required).
    """
    matcher = _Matcher(spec)
    texts = [[_text(c) for c in cells] for _, cells in rows[:HEADER_SCAN_ROWS]]
    best: tuple[int, int, Header] | None = None
    for i, parent in enumerate(texts):
        if not any(parent):
            continue
        options: list[tuple[int, list[str] | None]] = [(i, None)]
        if i + 1 < len(texts) and any(texts[i + 1]):
            options.append((i + 1, texts[i + 1]))
        for last, child in options:
            top = parent
            if child is not None:
                top = _fill_parents(parent, child, rows[i][0], merged)
            labelled = _labels(top, child)
            columns, units, ignored = _try(matcher, labelled)
            matched = [spec.column(k) for k in columns]
            if not matched or not matcher.enough(matched):
                continue
            score = (len(columns), -(last - i))
            if best is None or score > (best[0], best[1]):
                labels = _display_labels(labelled)
                header = Header(rows[i][0], rows[last][0], labels, columns, units, ignored)
                header.missing = [c for c in spec.columns if c.key not in columns]
                best = (score[0], score[1], header)
    return best[2] if best else None


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff（）])\s+(?=[\u3400-\u9fff（）])")


def _display(label: str) -> str:
    """``姓  名`` → ``姓名``, ``人均纯收入\n（元）`` → ``人均纯收入（元）``: spaces between Chinese go."""
    return _CJK_GAP.sub("", label.replace("\n", " ")).strip()


def _display_labels(labelled: list[tuple[str, list[str]]]) -> list[str]:
    displays = [_display(d) for d, _ in labelled]
    seen: dict[str, int] = {}
    for d in displays:
        seen[d] = seen.get(d, 0) + 1
    return [
        (cands[0] if len(cands) > 1 and seen[d] > 1 else d)
        for d, (_, cands) in zip(displays, labelled, strict=True)
    ]


_UNIT_ROW = re.compile(r"(?:金额|资金)?单位\s*[:：]\s*(万元|亿元|元)")


def row_unit(cells: Sequence[Any]) -> str | None:
    """The money unit a unit row (or a title) states: "单位：万元", "金额单位：元".

    >>> row_unit(["", "金额单位：万元"])
    '万元'
    """
    for cell in cells:
        if isinstance(cell, str) and (m := _UNIT_ROW.search(unicodedata.normalize("NFKC", cell))):
            return m[1]
    return None


_META_KEYS = {
    "填报单位": "填报单位",
    "填报人": "填报人",
    "制表人": "填报人",
    "审核人": "审核人",
    "负责人": "负责人",
    "单位负责人": "负责人",
    "联系电话": "联系电话",
    "填报日期": "填报日期",
    "制表日期": "填报日期",
    "日期": "填报日期",
    "数据截止日期": "数据截止日期",
    "截止日期": "数据截止日期",
    "统计截止日期": "数据截止日期",
}
_KEY_ALT = "|".join(sorted(_META_KEYS, key=len, reverse=True))
_META = re.compile(rf"({_KEY_ALT})\s*[:：]\s*(.*?)\s*(?=(?:{_KEY_ALT})\s*[:：]|$)")
_AS_OF = re.compile(r"(?:截至|截止|截止到|截止至)\s*(\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)")
_DATE_KEYS = frozenset({"填报日期", "数据截止日期"})
_FOOTER = re.compile(rf"^(?:{_KEY_ALT}|注|说明)\s*[:：]")
_TOTAL = re.compile(r"^(?:本页|本村|本乡|本镇|全县|全村|全乡)?(?:合计|小计|总计)")


def row_meta(cells: Sequence[Any]) -> dict[str, Any]:
    """Metadata written in a title or footer row: 填报单位, 填报人, 填报日期 (a date) …

    >>> row_meta(["填报单位：示例县扶贫办", "", "日期：2020年1月10日"])
    {'填报单位': '示例县扶贫办', '填报日期': datetime.date(2020, 1, 10)}
    """
    meta: dict[str, Any] = {}
    for cell in cells:
        if not isinstance(cell, str) or not cell.strip():
            continue
        text = unicodedata.normalize("NFKC", cell).strip()
        for m in _META.finditer(text):
            key, value = _META_KEYS[m[1]], m[2].strip()
            if not value:
                continue
            if key in _DATE_KEYS:
                try:
                    meta[key] = v.parse_date(value)
                except v.Invalid:
                    meta[key] = value
            else:
                meta[key] = value
        if (as_of := _AS_OF.search(text)) and "数据截止日期" not in meta:
            try:
                meta["数据截止日期"] = v.parse_date(as_of[1].replace(" ", ""))
            except v.Invalid:
                pass
    return meta


def classify_row(cells: Sequence[Any]) -> str | None:
    """Why a row below the header is not data: "empty", "total" (合计/小计/总计) or "footer"; None for data.

    >>> [classify_row(r) for r in (["", None], ["合  计", "", 12], ["填报人：测试员"], [1, "测试一"])]
    ['empty', 'total', 'footer', None]
    """
    filled = 0
    for cell in cells:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        filled += 1
        if filled <= 3 and isinstance(cell, str) and _TOTAL.match("".join(cell.split())):
            return "total"
    if not filled:
        return "empty"
    for cell in cells:
        if (
            isinstance(cell, str)
            and (":" in cell or "：" in cell)
            and _FOOTER.match(unicodedata.normalize("NFKC", cell).strip())
        ):
            return "footer"
    return None
