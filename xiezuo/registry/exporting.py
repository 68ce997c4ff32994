"""The registry list's search result as a sheet: one row per member, masked (D3).

An export never holds a clear ID number or name: the masked forms stored with each member are
written, as every page shows them. Headers and code labels come from the registry's one column
spec (``registry.columns``), so the sheet reads like the import template; every text cell goes
through the formula guard (``core.tabular.safe``).
"""

from __future__ import annotations

from pathlib import Path

from django.db.models import QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from xiezuo.core.tabular.safe import safe_cell
from xiezuo.core.tabular.spec import format_value
from xiezuo.registry.columns import REGISTRY
from xiezuo.registry.models import Household, Member

# Household fields first, then the member's; keys of the registry column spec.
COLUMNS = (
    "household_number",
    "region_code",
    "name",
    "id_number",
    "relation",
    "status",
    "attribute",
    "main_cause",
    "exit_year",
)
MEMBER_FIELDS = {"name": "name_masked", "id_number": "id_masked", "relation": "relation"}
HOUSEHOLD_FIELDS = {"household_number": "number"}


def export_members(households: QuerySet[Household], path: str | Path) -> tuple[Path, int]:
    """The members of ``households`` (already scoped and filtered) as an xlsx; returns the path and
    the number of rows. Streams the members in one ordered query."""
    path = Path(path)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("建档立卡人口")
    columns = [REGISTRY.column(key) for key in COLUMNS]
    ws.append([c.header for c in columns])
    members = (
        Member.objects.filter(household__in=households.order_by().values("pk"))
        .select_related("household")
        .order_by("household__region_code", "household__number", "relation", "pk")
    )
    n = 0
    for m in members.iterator(chunk_size=2000):
        h = m.household
        row = []
        for c in columns:
            if c.key in MEMBER_FIELDS:
                value = getattr(m, MEMBER_FIELDS[c.key])
                value = format_value(c, value) if c.key == "relation" else value
            elif c.key == "region_code":
                value = str(h.region_code)
            else:
                value = format_value(c, getattr(h, HOUSEHOLD_FIELDS.get(c.key, c.key)))
            row.append(safe_cell(WriteOnlyCell(ws, value=value)))
        ws.append(row)
        n += 1
    wb.save(path)
    return path, n
