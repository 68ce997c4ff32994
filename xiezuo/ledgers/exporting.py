"""Ledger records out: the export sheet (same headers as the template, so it re-imports) and templates.

Person columns are exported masked (D3): an export never holds a clear ID number. Money is
written exactly in the unit its header declares, formatted to show as the pages show it
(``xiezuo.core.figures``); codes as their Chinese labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font

from xiezuo.core import figures
from xiezuo.core.tabular.safe import safe_cell
from xiezuo.core.tabular.spec import format_value, write_template
from xiezuo.ledgers import types
from xiezuo.ledgers.models import LedgerRecord, PersonCheck


def template(ltype: types.LedgerType, path: str | Path) -> Path:
    return write_template(ltype.full_spec, path)


def record_cells(ltype: types.LedgerType, record: LedgerRecord, people: dict[str, str]) -> dict[str, Any]:
    """One record as cells by column key (money in 元, codes as labels, people masked)."""
    out: dict[str, Any] = {
        "pairing": record.pairing_id,
        "year": record.year,
        "region_code": str(record.region_code),
    }
    for c in ltype.spec.columns:
        if c.key in ltype.person_columns:
            out[c.key] = people.get(c.key, "")
            continue
        value = getattr(record, c.key)
        if c.key in ltype.orgs:
            value = value.name if value is not None else None
            out[c.key] = value
        elif c.key in ltype.regions:
            out[c.key] = str(value) if value else None
        elif c.kind == "money" and c.export is None:
            out[c.key] = figures.money_cell(value, figures.declared_unit(c.header, c.unit))[0]
        else:
            out[c.key] = format_value(c, value)
    return out


def write_rows(ltype: types.LedgerType, rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Rows of cells by column key as an xlsx with the ledger's Chinese headers."""
    path = Path(path)
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = ltype.zh[:31]
    columns = ltype.columns
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([safe_cell(Cell(ws, value=row.get(c.key))) for c in columns])
    formats = {"money": figures.MONEY_FORMAT, "int": figures.COUNT_FORMAT}
    for c in columns:
        fmt = "@" if c.kind in ("raw", "text", "code") else formats.get(c.kind)
        if fmt is not None:
            for cell in ws[ws.cell(row=1, column=columns.index(c) + 1).column_letter][1:]:
                cell.number_format = fmt
    wb.save(path)
    return path


def export_records(
    ltype: types.LedgerType, records: Iterable[LedgerRecord], path: str | Path, *, user: object = None
) -> Path:
    """The records as a sheet; masked IDs only for registry viewers of the helped area (D2), the
    check result for everyone else, as on the record page."""
    from xiezuo.core.codelists import label
    from xiezuo.ledgers.services import may_see_people

    records = list(records)
    shown: dict[int, bool] = {}
    masked: dict[int, dict[str, str]] = {}
    by_id = {r.pk: r for r in records}
    for c in PersonCheck.objects.filter(ledger=ltype.key, record_id__in=list(by_id)):
        record = by_id[c.record_id]
        if record.pairing_id not in shown:
            shown[record.pairing_id] = may_see_people(user, record)
        masked.setdefault(c.record_id, {})[c.field] = (
            c.id_masked if shown[record.pairing_id] else label("verify_reason", c.reason)
        )
    return write_rows(ltype, (record_cells(ltype, r, masked.get(r.pk, {})) for r in records), path)
