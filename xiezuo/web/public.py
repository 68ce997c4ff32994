"""The public view (DESIGN.md D2): published aggregates only, small cells suppressed.

Suppression is pure: ``suppress`` hides one count below the threshold, ``suppress_table`` hides the
small cells of a cross table and then enough further cells that no hidden cell can be worked out
from the row and column totals (complementary suppression).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Count

from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import Region, RegionFlag

# Shown for a cell hidden only so that another hidden cell cannot be derived from the totals.
COMPLEMENTARY = "×"

R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


def suppress(count: int, *, min_cell: int) -> str:
    """A count as published: below ``min_cell`` it shows as ``<min_cell``.

    >>> suppress(12, min_cell=5), suppress(5, min_cell=5), suppress(4, min_cell=5), suppress(0, min_cell=5)
    ('12', '5', '<5', '<5')
    """
    if count < 0:
        raise ValueError("a count cannot be negative")
    return f"<{min_cell}" if count < min_cell else str(count)


@dataclass(frozen=True)
class PublicTable(Generic[R, C]):
    """A cross table ready to publish: every cell, row total, column total and the grand total as text."""

    row_keys: tuple[R, ...]
    col_keys: tuple[C, ...]
    cells: tuple[tuple[str, ...], ...]
    row_totals: tuple[str, ...]
    col_totals: tuple[str, ...]
    total: str


def suppress_table(
    counts: Mapping[tuple[R, C], int],
    *,
    rows: Sequence[R],
    cols: Sequence[C],
    min_cell: int,
) -> PublicTable[R, C]:
    """Publish a cross table with totals: small cells show ``<min_cell``, and where a row or column
    would have exactly one hidden entry, its smallest shown entry is hidden too (``×``).

    The totals take part as entries of their line: a row is its cells plus its row total, the totals
    row is the column totals plus the grand total. Missing keys count 0.

    >>> counts = {("a", 1): 10, ("a", 2): 3, ("b", 1): 8, ("b", 2): 9}
    >>> t = suppress_table(counts, rows="ab", cols=[1, 2], min_cell=5)
    >>> t.cells, t.row_totals, t.col_totals, t.total
    ((('×', '<5'), ('×', '×')), ('13', '17'), ('18', '12'), '30')
    """
    n_rows, n_cols = len(rows), len(cols)
    grid = [[counts.get((r, c), 0) for c in cols] for r in rows]
    # Full grid with totals: the last column holds row totals, the last row column totals.
    full = [[*row, sum(row)] for row in grid]
    full.append([sum(full[i][j] for i in range(n_rows)) for j in range(n_cols + 1)])
    primary = {(i, j) for i in range(n_rows + 1) for j in range(n_cols + 1) if full[i][j] < min_cell}
    hidden = set(primary)
    lines = [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows + 1)]
    lines += [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for pos in line if pos in hidden) != 1:
                continue
            shown = [pos for pos in line if pos not in hidden]
            if shown:
                hidden.add(min(shown, key=lambda pos: (full[pos[0]][pos[1]], pos)))
                changed = True

    def text(i: int, j: int) -> str:
        if (i, j) in primary:
            return suppress(full[i][j], min_cell=min_cell)
        if (i, j) in hidden:
            return COMPLEMENTARY
        return str(full[i][j])

    return PublicTable(
        row_keys=tuple(rows),
        col_keys=tuple(cols),
        cells=tuple(tuple(text(i, j) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(text(i, n_cols) for i in range(n_rows)),
        col_totals=tuple(text(n_rows, j) for j in range(n_cols)),
        total=text(n_rows, n_cols),
    )


# Reads of the published aggregates. Nothing here depends on who asks: the public sees all of it.


def pairings_by_programme_and_level(*, min_cell: int) -> PublicTable[str, str]:
    """Number of pairings by programme (rows) and level (columns)."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in Pairing.objects.values("programme", "level").annotate(n=Count("id")).order_by():
        counts[(row["programme"], row["level"])] += row["n"]
    rows = sorted({p for p, _ in counts})
    cols = sorted({lv for _, lv in counts})
    return suppress_table(counts, rows=rows, cols=cols, min_cell=min_cell)


def poverty_counties_by_province_and_exit_year(
    *, min_cell: int
) -> tuple[PublicTable[int, str], dict[int, str]]:
    """Number of national poverty counties (832) by province (rows, 12-digit code) and exit year
    (columns; "" where the year is not known), with the province names."""
    counts: Counter[tuple[int, str]] = Counter()
    flags = RegionFlag.objects.filter(flag="poverty_county", region__level=Region.Level.COUNTY)
    for code, value in flags.values_list("region__code", "value"):
        province = code // 10**10 * 10**10
        counts[(province, (value or "").strip())] += 1
    provinces = sorted({p for p, _ in counts})
    years = sorted({y for _, y in counts}, key=lambda y: (y == "", y))
    names = dict(
        Region.objects.filter(level=Region.Level.PROVINCE, code__in=provinces).values_list("code", "name")
    )
    return suppress_table(counts, rows=provinces, cols=years, min_cell=min_cell), names
