"""Pure rules of a ledger row (no database): normalise the cells, the natural key, the side a
record goes to, its period, and how a region cell is read (docs/adr/0015-ledger-writes-in-batches.md).

Everything here works on values already fetched: the batch resolvers (``resolve.py``) read the
database once per batch and hand these functions plain codes, ranges and scopes, so the rules are
tested table-driven without a database (tests/test_ledger_rules.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import models

from xiezuo.core.tabular.spec import Column
from xiezuo.ledgers.types import BOTH, HELPED, HELPER, LedgerType

Error = tuple[str, str, str]
"""(column key or "", message zh, message en)."""

REQUIRED: Error = ("", "必填，不能为空", "required")
LOCKED_ZH = "该期间已审核锁定"
LOCKED_EN = "the period is approved and locked"
SIDE_ZH = {HELPER: "帮扶方", HELPED: "受帮扶方"}
SOURCES = ("form", "import", "api", "demo")


def required(key: str) -> Error:
    return (key, REQUIRED[1], REQUIRED[2])


def source_for(via: str) -> str:
    """The ``source`` a new record keeps: how it was entered."""
    return via if via in SOURCES else {"web": "form", "cli": "import", "job": "import"}.get(via, "form")


# --- cells -------------------------------------------------------------------------------------


def pairing_token(value: Any) -> tuple[str, Any] | None:
    """How a pairing cell is looked up: ("id", pk) or ("name", name without spaces); None if empty."""
    if value is None or value == "":
        return None
    pk = getattr(value, "pk", None)
    if pk is not None:
        return ("id", pk)
    text = str(value).strip()
    if text.isdigit():
        return ("id", int(text))
    return ("name", pairing_name_key(text))


def pairing_name_key(name: str) -> str:
    """A pairing's display name compared without spaces, ``->`` read as ``→``."""
    return name.replace("->", "→").replace(" ", "")


def region_token(value: Any) -> tuple[str, Any] | None:
    """How a region cell is looked up: ("code", 12-digit code), ("name", text) or ("bad", text).

    >>> region_token("130821"), region_token(130821000000.0), region_token("承德县"), region_token("1308")
    (('code', 130821000000), ('code', 130821000000), ('name', '承德县'), ('code', 130800000000))
    >>> region_token("13082"), region_token("")
    (('bad', '13082'), None)
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        if len(text) in (2, 4, 6, 9, 12):
            return ("code", int(text.ljust(12, "0")))
        return ("bad", text)
    return ("name", text)


def unknown_region(key: str, value: Any) -> Error:
    return (key, f"「{value}」不是有效的行政区划代码或名称", "unknown region")


def normalise_fields(
    ltype: LedgerType,
    values: Mapping[str, Any],
    *,
    parsed: bool,
    lookup: Callable[[str, Any], Any],
    regions: Mapping[tuple[str, Any], int | None],
    columns: Sequence[Column] | None = None,
) -> tuple[dict[str, Any], list[Error]]:
    """The model field values of a row and its cell errors.

    ``parsed``: the values come from the tabular reader, which already cleaned text, resolved code
    labels to codes and refused negative figures; form and API values get the same treatment here.
    ``lookup(list, value)`` resolves a code; ``regions`` maps region tokens to codes (None unknown).
    ``columns``: ``ltype.field_columns()``, when the caller has it for a whole batch.
    """
    errors: list[Error] = []
    fields: dict[str, Any] = {}
    for column in ltype.field_columns() if columns is None else columns:
        value = values.get(column.key)
        if value in ("", None) and column.required:
            errors.append(required(column.key))
        if not parsed:
            if isinstance(value, str):
                value = " ".join(value.split()) or None
            if column.kind == "code" and value is not None:
                entry = lookup(column.code_list or "", value)
                if entry is None:
                    errors.append(
                        (
                            column.key,
                            f"「{value}」不是有效的{column.header}",
                            f"{value!r} is not a valid {column.key}",
                        )
                    )
                else:
                    value = entry.code
            if column.non_negative and isinstance(value, (int, Decimal)) and value < 0:
                errors.append((column.key, "不能为负数", "must not be negative"))
        if column.key in ltype.regions and value not in (None, ""):
            token = region_token(value)
            code = regions.get(token) if token is not None else None
            if code is None:
                errors.append(unknown_region(column.key, value))
            value = code
        fields[column.key] = value
    return fields, errors


def value_for_field(field: models.Field[Any, Any], value: Any) -> Any:
    """A cleaned value as the model field stores it (decimals quantised, empty text as "")."""
    if isinstance(field, models.DecimalField) and value is not None and field.decimal_places is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    if value is None and not field.null:
        if field.has_default():
            return field.get_default()
        if isinstance(field, (models.CharField, models.TextField)):
            return ""
    return value


# --- key, side, period -------------------------------------------------------------------------


def natural_key(ltype: LedgerType, values: Mapping[str, Any]) -> str:
    """Hash of the ledger key and its natural-key values (person columns as their keyed hash)."""
    parts = [ltype.key]
    for k in ltype.natural_key:
        v = values.get(k)
        if isinstance(v, models.Model):
            v = v.pk
        parts.append("" if v is None else str(v).strip())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def key_values(
    ltype: LedgerType, values: Mapping[str, Any], fields: Mapping[str, Any], hmacs: Mapping[str, str]
) -> dict[str, Any]:
    """What the natural key is computed from: organisations as their cleaned name (before they are
    resolved, so a re-import finds the same key), people as their keyed hash."""
    out = {**values, **fields, **hmacs}
    for k in ltype.orgs:
        if isinstance(out.get(k), str):
            out[k] = " ".join(out[k].split())
    return out


def in_ranges(code: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(low <= code < high for low, high in ranges)


def default_side(
    ltype: LedgerType, side_ranges: Mapping[str, Sequence[tuple[int, int]]], may_change: Any
) -> str:
    """The side a record goes to when the row names no place: the ledger's own side, or for ledgers
    both sides keep, the first side (helper, then helped) with a region the writer may change.

    ``side_ranges``: side → (code, level) of its regions; ``may_change(code)``: the change scope.
    """
    if ltype.side != BOTH:
        return ltype.side
    for side in (HELPER, HELPED):
        if any(may_change(code) for code, _lv in side_ranges.get(side, ())):
            return side
    return HELPER


def side_of(ltype: LedgerType, code: int, helper_ranges: Sequence[tuple[int, int]]) -> str:
    """The side of a record placed at ``code``: the ledger's side, or for BOTH the side holding it."""
    if ltype.side != BOTH:
        return ltype.side
    return HELPER if in_ranges(code, helper_ranges) else HELPED


def off_side(ltype: LedgerType) -> Error:
    side_zh = SIDE_ZH[ltype.side] if ltype.side != BOTH else "任何一方"
    return (
        "region_code",
        f"行政区划不在该结对关系的{side_zh}范围内",
        f"the region is not on the pairing's {ltype.side} side",
    )


def period_no(ltype: LedgerType, side: str, values: Mapping[str, Any]) -> int:
    """0 for yearly periods, else the quarter or month of the ledger's date column."""
    date = values.get(ltype.date_column) if ltype.date_column else None
    return _flow(ltype.key, side).period_no(date if isinstance(date, dt.date) else None)


@functools.cache
def _flow(ledger: str, side: str) -> Any:
    from xiezuo.ledgers import flows

    return flows.flow_for(ledger, side)


def person_date(values: Mapping[str, Any], date_column: str | None, year: int, today: dt.date) -> dt.date:
    """The date a person's registry check counts on: the ledger's date, else 31 December (not later
    than today)."""
    on = values.get(date_column) if date_column else None
    if isinstance(on, dt.date):
        return on
    return min(dt.date(year, 12, 31), today)
