"""The pairing roll-up (issue #4; D8): one screen per pairing and year, every ledger against targets.

A pairing's figures are sums over the pairing and all its sub-pairings (a provincial pair holds
its county pairs), each metric split into the pairing's own records and each direct
sub-pairing's subtree, and, where the metric says so, by a code field (funds by source level).
Targets come from providers registered by the engagement app (agreements' target items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Count, Q, Sum

from xiezuo.core import figures
from xiezuo.ledgers import types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.verify import OK_REASONS
from xiezuo.pairings.models import Pairing

MONEY_UNIT = "万元"
"""The unit the annual summary declares for money: on its page, in its export and in the API."""

TargetFn = Callable[[list[int], int], dict[str, int]]
_providers: list[TargetFn] = []


def register_targets(fn: TargetFn) -> TargetFn:
    if fn not in _providers:
        _providers.append(fn)
    return fn


def targets(pairing_ids: list[int], year: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for fn in _providers:
        for item, value in fn(pairing_ids, year).items():
            out[item] = out.get(item, 0) + value
    return out


def subtree_ids(pairing: Pairing) -> list[int]:
    """The pairing and every pairing below it (children, grandchildren …)."""
    ids, frontier = [pairing.pk], [pairing.pk]
    while frontier:
        frontier = list(Pairing.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def metric_value(
    ltype: types.LedgerType, metric: types.Metric, pairing_ids: list[int], year: int
) -> dict[str, int]:
    """The metric over the records of these pairings and year: {"": total} plus one entry per split value."""
    qs = ltype.model.objects.filter(pairing_id__in=pairing_ids, year=year).filter(**metric.where)
    if metric.kind == "people":
        ids = qs.values("pk")
        people = PersonCheck.objects.filter(ledger=ltype.key, record_id__in=ids, reason__in=OK_REASONS)
        if metric.split:
            out = {"": people.values("id_hmac").distinct().count()}
            # without order_by() the records' default ordering (-year, -id) joins the DISTINCT,
            # which then yields one value per record, and one query per record follows
            for value in qs.order_by().values_list(metric.split, flat=True).distinct():
                sub = qs.filter(**{metric.split: value}).values("pk")
                out[str(value)] = (
                    PersonCheck.objects.filter(ledger=ltype.key, record_id__in=sub, reason__in=OK_REASONS)
                    .values("id_hmac")
                    .distinct()
                    .count()
                )
            return out
        return {"": people.values("id_hmac").distinct().count()}
    agg = Sum(metric.field) if metric.kind == "sum" else Count("pk")
    total = qs.aggregate(v=agg)["v"] or 0
    out = {"": int(total)}
    if metric.split:
        for row in qs.values(metric.split).annotate(v=agg).order_by(metric.split):
            out[str(row[metric.split])] = int(row["v"] or 0)
    return out


@dataclass
class Line:
    ledger: types.LedgerType
    metric: types.Metric
    total: int
    split: dict[str, int] = field(default_factory=dict)
    own: int = 0
    children: list[tuple[Pairing, int]] = field(default_factory=list)
    target: int | None = None

    @property
    def ratio(self) -> float | None:
        if not self.target:
            return None
        return self.total / self.target


@dataclass
class Rollup:
    pairing: Pairing
    year: int
    lines: list[Line]
    targets: dict[str, int]

    def by_area(self) -> list[tuple[str, list[Line]]]:
        out: dict[str, list[Line]] = {}
        for line in self.lines:
            out.setdefault(line.ledger.area, []).append(line)
        return [(area, out[area]) for area in types.AREAS if area in out]


def rollup(pairing: Pairing, year: int) -> Rollup:
    ids = subtree_ids(pairing)
    children = list(Pairing.objects.filter(parent=pairing).order_by("name"))
    child_ids = {c.pk: subtree_ids(c) for c in children}
    goal = targets(ids, year)
    lines = []
    for ltype in types.all_types():
        for metric in ltype.metrics:
            values = metric_value(ltype, metric, ids, year)
            own = metric_value(ltype, metric, [pairing.pk], year)[""]
            line = Line(
                ledger=ltype,
                metric=metric,
                total=values.pop(""),
                split=values,
                own=own,
                children=[(c, metric_value(ltype, metric, child_ids[c.pk], year)[""]) for c in children],
                target=goal.get(metric.target) if metric.target else None,
            )
            lines.append(line)
    return Rollup(pairing=pairing, year=year, lines=lines, targets=goal)


def figure(line: Line, value: int | None) -> str:
    """One figure of a line as text: money in :data:`MONEY_UNIT`, counts with separators."""
    if value is None:
        return ""
    return figures.money(value, MONEY_UNIT) if line.metric.unit == "money" else figures.count(value)


def figure_cell(line: Line, value: int | None) -> tuple[Any, str]:
    """One figure of a line as a spreadsheet cell and its number format (shows as :func:`figure`)."""
    if line.metric.unit == "money":
        return figures.money_cell(value, MONEY_UNIT)
    return figures.count_cell(value)


def unit_of(line: Line, language: str = "zh-hans") -> str:
    return figures.unit_label(MONEY_UNIT, language) if line.metric.unit == "money" else line.metric.unit


def as_dict(r: Rollup) -> dict[str, Any]:
    """The roll-up as plain data (API): money in fen, counts as counts, and under ``display`` each
    figure as the page and the export show it (money in :data:`MONEY_UNIT`)."""
    return {
        "pairing": r.pairing.pk,
        "year": r.year,
        "money_unit": MONEY_UNIT,
        "lines": [
            {
                "ledger": line.ledger.key,
                "area": line.ledger.area,
                "metric": line.metric.key,
                "unit": line.metric.unit,
                "total": line.total,
                "own": line.own,
                "split": line.split,
                "children": [{"pairing": c.pk, "name": c.name, "total": v} for c, v in line.children],
                "target": line.target,
                "ratio": line.ratio,
                "display": {
                    "unit": unit_of(line),
                    "total": figure(line, line.total),
                    "own": figure(line, line.own),
                    "target": figure(line, line.target),
                    "ratio": figures.ratio(line.ratio),
                    "children": [figure(line, v) for _, v in line.children],
                },
            }
            for line in r.lines
        ],
    }


RATIO_FORMAT = "0.0%"


def export_rollup(r: Rollup, path: str | Path) -> Path:
    """The annual summary as a sheet: one row per figure, cells exact, formatted as the page shows
    them (money in :data:`MONEY_UNIT`, counts with separators, completion as a percentage)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{r.year}年汇总"
    children = [c for c, _ in r.lines[0].children] if r.lines else []
    ws.append(["领域", "台账", "指标", "单位", "合计", "目标", "完成率", "本级", *[c.name for c in children]])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in r.lines:
        figures_ = [line.total, line.target, None, line.own, *[v for _, v in line.children]]
        ws.append([types.AREAS[line.ledger.area][0], line.ledger.zh, line.metric.zh, unit_of(line)])
        row = ws.max_row
        for i, value in enumerate(figures_):
            cell = ws.cell(row=row, column=5 + i)
            if i == 2:
                cell.value = line.ratio
                cell.number_format = RATIO_FORMAT
                continue
            cell.value, cell.number_format = figure_cell(line, value)
    wb.save(path)
    return path


__all__ = [
    "MONEY_UNIT",
    "Q",
    "Rollup",
    "as_dict",
    "export_rollup",
    "figure",
    "figure_cell",
    "register_targets",
    "rollup",
    "targets",
    "unit_of",
]
