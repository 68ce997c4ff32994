"""The pairing roll-up (issue #4; D8): one screen per pairing and year, every ledger against targets.

A pairing's figures are sums over the pairing and all its sub-pairings (a provincial pair holds
its county pairs), each metric split into the pairing's own records and each direct
sub-pairing's subtree, and, where the metric says so, by a code field (funds by source level).
Targets come from providers registered by the engagement app (agreements' target items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum

from xiezuo.ledgers import types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.verify import OK_REASONS
from xiezuo.pairings.models import Pairing

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
            for value in qs.values_list(metric.split, flat=True).distinct():
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


def as_dict(r: Rollup) -> dict[str, Any]:
    """The roll-up as plain data (API, exports): money in fen, counts as counts."""
    return {
        "pairing": r.pairing.pk,
        "year": r.year,
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
            }
            for line in r.lines
        ],
    }


__all__ = ["Q", "Rollup", "as_dict", "register_targets", "rollup", "targets"]
