"""One assessment: every indicator of the frameworks for every active pairing, both sides.

:func:`assess` takes the facts (Arrow tables) and returns plain data: per pairing side the
indicator values, targets and points, area subtotals, total, grade and rank; the evidence of the
people indicators (records counted and refused, with reasons); the findings (refusals, missing
targets and values, entry-time checks the engine now disagrees with). Everything is sorted, so
the same facts give the same output, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from xiezuo.assessment.engine import library, scoring
from xiezuo.assessment.engine.facts import Facts
from xiezuo.assessment.engine.framework import Computation, Framework, Indicator

MONEY_ITEMS = frozenset({"fiscal_funds", "social_funds", "investment", "purchases"})
PERCENT_ITEMS = frozenset({"exit_rate"})
"""Agreement items given in per cent (``target_count``): the target is a share, 25 → 0.25."""
SEVERITY = {
    "missing_target": "error",
    "bad_target": "error",
    "no_value": "warning",
    "stale_check": "info",
}


@dataclass(frozen=True)
class Value:
    code: str
    value: float | None
    target: float | None
    points: Decimal


@dataclass
class SideResult:
    pairing: int
    side: str
    level: str
    framework: str
    indicators: list[Value] = field(default_factory=list)
    areas: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = scoring.ZERO
    grade: str = ""
    rank: int = 0


@dataclass(frozen=True)
class Finding:
    indicator: str
    pairing: int
    side: str
    reason: str
    severity: str
    records: tuple[int, ...] = ()


@dataclass
class Assessment:
    year: int
    frameworks: list[tuple[str, str]]
    results: list[SideResult]
    evidence: pa.Table  # indicator, pairing, side, record, person, reason (null = counted)
    findings: list[Finding]


EVIDENCE = pa.schema(
    [
        ("indicator", pa.string()),
        ("pairing", pa.int64()),
        ("side", pa.string()),
        ("record", pa.int64()),
        ("person", pa.int64()),
        ("reason", pa.string()),
        ("checked_ok", pa.bool_()),
        ("verified", pa.bool_()),
    ]
)


def closure(pairings: pa.Table) -> pa.Table:
    """(ancestor, descendant) for every pairing and each below it, itself included."""
    parent = dict(zip(pairings["pairing"].to_pylist(), pairings["parent"].to_pylist(), strict=True))
    rows: list[tuple[int, int]] = []
    for p in sorted(parent):
        seen, node = set(), p
        while node is not None and node not in seen:  # a cycle in bad data stops, not loops
            seen.add(node)
            rows.append((node, p))
            node = parent.get(node)
    return pa.table(
        {"ancestor": [a for a, _ in rows], "descendant": [d for _, d in rows]},
        schema=pa.schema([("ancestor", pa.int64()), ("descendant", pa.int64())]),
    )


def _register(con: Any, name: str, table: pa.Table) -> Any:
    if con.name == "duckdb":
        # A zero-copy view of the Arrow table (ibis 12's create_table from Arrow drops a temporary
        # view with SQL that DuckDB 2.0 refuses).
        con.con.register(name, table)
        return con.table(name)
    return con.create_table(name, obj=table, overwrite=True)


def connect(facts: Facts, con: Any = None) -> tuple[Any, dict[str, Any], Any, Any]:
    """Register the facts as tables of an ibis backend (an in-memory DuckDB by default)."""
    con = con or ibis.duckdb.connect()
    tables = {name: _register(con, name, table) for name, table in facts.tables.items()}
    clo = _register(con, "closure", closure(facts["pairings"]))
    s = tables["pairing_sides"]
    helped = s.filter(s.side == "helped").select(s.pairing, s.low, s.high)
    return con, tables, clo, helped


def active_pairings(
    facts: Facts, year: int, programmes: Iterable[str], scope: set[int] | None
) -> list[dict[str, Any]]:
    rows = facts["pairings"].to_pylist()
    wanted = set(programmes)
    return sorted(
        (
            r
            for r in rows
            if r["programme"] in wanted
            and r["start_year"] <= year
            and (r["end_year"] is None or year <= r["end_year"])
            and (scope is None or r["pairing"] in scope)
        ),
        key=lambda r: r["pairing"],
    )


def _execute(con: Any, expr: Any) -> pa.Table:
    return con.to_pyarrow(expr)


def _values(con: Any, computed: library.Computed) -> dict[int, float | None]:
    t = _execute(con, computed.values)
    return dict(zip(t["pairing"].to_pylist(), t["value"].to_pylist(), strict=True))


_Figures = tuple[float | None, dict[int, float | None], pa.Table | None]


def _figures(
    con: Any, ctx: library.Context, computation: Computation, cache: dict[tuple[str, int], _Figures]
) -> _Figures:
    """A computation's default, values and evidence for the context's year, computed once per run
    (the two sides share many: E17 and W17 are the same figure seen from each side)."""
    key = (json.dumps(computation, default=_plain, sort_keys=True), ctx.year)
    if key not in cache:
        computed = library.compute(ctx, computation)
        ev_table = _execute(con, computed.evidence) if computed.evidence is not None else None
        if ev_table is not None and computed.counted_in_evidence:
            # one execution: the counted lines of the evidence are the value (one per person and
            # pairing, or one per event for person-times)
            values = _counted(ev_table)
        else:
            values = _values(con, computed)
        cache[key] = (computed.absent, values, ev_table)
    return cache[key]


def _plain(obj: Any) -> Any:
    if isinstance(obj, Computation):
        return {"function": obj.function, **obj.params}
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(type(obj))


def _counted(evidence: pa.Table) -> dict[int, float | None]:
    counted = (
        evidence.filter(pc.is_null(evidence["reason"])).group_by("pairing").aggregate([("record", "count")])
    )
    return dict(
        zip(counted["pairing"].to_pylist(), map(float, counted["record_count"].to_pylist()), strict=True)
    )


def _agreement_targets(con: Any, ctx: library.Context) -> dict[tuple[int, str], float]:
    """Each pairing's agreement target per item: its own agreement's where it has one, else the
    sum of its sub-pairings' (a provincial agreement already covers its county pairs). A rate
    (:data:`PERCENT_ITEMS`) is a share, and the sub-pairings' rates are averaged, not added."""
    r = library.records(ctx, "agreement_targets", {})
    amount = ibis.ifelse(r.target_item.isin(sorted(MONEY_ITEMS)), r.target_fen, r.target_count)
    own = (r.pairing == r.ancestor).cast("int8")
    t = _execute(
        con,
        r.group_by(pairing=r.ancestor, item=r.target_item, own=own).aggregate(
            value=amount.sum(), n=amount.count()
        ),
    )
    out: dict[tuple[int, str], float] = {}
    for row in sorted(t.to_pylist(), key=lambda x: (x["pairing"], x["item"], x["own"])):
        if row["value"] is not None:
            value = float(row["value"])
            if row["item"] in PERCENT_ITEMS:
                value = value / row["n"] / 100
            # own (1) sorts after the sub-pairings' sum (0) and replaces it
            out[(row["pairing"], row["item"])] = value
    return out


def assess(
    facts: Facts,
    frameworks: Sequence[Framework],
    year: int,
    *,
    scope: set[int] | None = None,
    con: Any = None,
) -> Assessment:
    """Assess every pairing active in ``year`` (within ``scope``, pairing ids) under ``frameworks``."""
    con, tables, clo, helped = connect(facts, con)
    sizes = {name: table.num_rows for name, table in facts.tables.items()}
    ctx = library.Context(t=tables, year=year, closure=clo, helped=helped, sizes=sizes)
    agreed = _agreement_targets(con, ctx)
    results: list[SideResult] = []
    findings: list[Finding] = []
    evidence: list[pa.Table] = []
    cache: dict[tuple[str, int], _Figures] = {}
    for fw in frameworks:
        pairings = active_pairings(facts, year, fw.programmes, scope)
        ids = [p["pairing"] for p in pairings]
        by_side = {
            side: {p["pairing"]: SideResult(p["pairing"], side, p["level"], fw.code) for p in pairings}
            for side in fw.sides()
        }
        scored: dict[tuple[str, int, str], Value] = {}
        # the agreement's share reached (E4, W4) is read off the other indicators' values
        later = [i for i in fw.indicators if i.computation.function == "agreement_reached"]
        for ind in [i for i in fw.indicators if i not in later] + later:
            absent, values, ev_table = _figures(con, ctx, ind.computation, cache)
            last: dict[int, float | None] = {}
            if ind.target.rule == "last_year":
                last = _figures(con, ctx.at(year - 1), ind.computation, cache)[1]
            for pid in ids:
                value = values.get(pid, absent)
                if ind in later:
                    value = agreement_share(fw, ind.side, pid, agreed, scored)
                target = _target(ind, pid, agreed, last, absent)
                points, problem = scoring.score(
                    ind.scoring.rule, ind.scoring.params, points=ind.points, value=value, target=target
                )
                scored[(ind.side, pid, ind.code)] = Value(ind.code, value, target, points)
                if problem:
                    findings.append(Finding(ind.code, pid, ind.side, problem, SEVERITY[problem]))
            if ev_table is not None:
                table = ev_table.filter(pc.is_in(ev_table["pairing"], pa.array(ids, pa.int64())))
                evidence.append(_tag(table, ind))
        for ind in fw.indicators:
            for pid in ids:
                by_side[ind.side][pid].indicators.append(scored[(ind.side, pid, ind.code)])
        for group in by_side.values():
            _finish(fw, list(group.values()))
            results.extend(group.values())
    ev_all = pa.concat_tables(evidence) if evidence else EVIDENCE.empty_table()
    ev_all = ev_all.sort_by(
        [
            ("indicator", "ascending"),
            ("pairing", "ascending"),
            ("record", "ascending"),
            ("person", "ascending"),
        ]
    )
    findings.extend(_evidence_findings(ev_all))
    findings.sort(key=lambda f: (f.indicator, f.pairing, f.side, f.reason))
    results.sort(key=lambda r: (r.framework, r.side, r.pairing))
    return Assessment(year, [(f.code, f.version) for f in frameworks], results, ev_all, findings)


def agreement_share(
    fw: Framework,
    side: str,
    pairing: int,
    agreed: Mapping[tuple[int, str], float],
    scored: Mapping[tuple[str, int, str], Value],
) -> float | None:
    """E4, W4: the share of the pairing's agreement items (those it has a target for, which an
    indicator of this side measures) reached: an item is reached when every indicator measured
    against it has a value at least its target. No such item: no figure."""
    items: dict[str, bool] = {}
    for ind in fw.indicators:
        item = ind.target.params.get("item") if ind.target.rule == "agreement" else None
        if ind.side != side or item is None or (pairing, item) not in agreed:
            continue
        v = scored.get((side, pairing, ind.code))
        ok = v is not None and v.value is not None and v.target is not None and v.value >= v.target
        items[item] = items.get(item, True) and ok
    return sum(items.values()) / len(items) if items else None


def _target(
    ind: Indicator,
    pairing: int,
    agreed: Mapping[tuple[int, str], float],
    last: Mapping[int, float | None],
    absent: float | None,
) -> float | None:
    rule, params = ind.target.rule, ind.target.params
    if rule == "fixed":
        return float(params["value"])
    if rule == "agreement":
        got = agreed.get((pairing, params["item"]))
        return got if got is not None else params.get("default")
    if rule == "last_year":
        return last.get(pairing, absent)
    return None


def _tag(table: pa.Table, ind: Indicator) -> pa.Table:
    n = table.num_rows
    return pa.table(
        {
            "indicator": pa.array([ind.code] * n, pa.string()),
            "pairing": table["pairing"],
            "side": pa.array([ind.side] * n, pa.string()),
            "record": table["record"],
            "person": table["person"],
            "reason": table["reason"],
            "checked_ok": table["checked_ok"],
            "verified": table["verified"],
        },
        schema=EVIDENCE,
    )


def _evidence_findings(ev: pa.Table) -> list[Finding]:
    """One finding per indicator, pairing side and reason, listing the records refused; and one
    where the entry-time check said the opposite of the engine's verification (set-based: a
    national year has millions of evidence lines)."""
    refused = ev.filter(pc.is_valid(ev["reason"]))
    both = pc.and_(pc.is_valid(ev["verified"]), pc.is_valid(ev["checked_ok"]))
    stale = ev.filter(pc.and_(both, pc.not_equal(ev["verified"], ev["checked_ok"])))
    stale = stale.set_column(
        stale.schema.get_field_index("reason"),
        "reason",
        pa.array(["stale_check"] * stale.num_rows, pa.string()),
    )
    keys = ["indicator", "pairing", "side", "reason"]
    grouped = pa.concat_tables([refused, stale]).group_by(keys).aggregate([("record", "distinct")])
    out = []
    for row in grouped.to_pylist():
        reason = row["reason"]
        out.append(
            Finding(
                row["indicator"],
                row["pairing"],
                row["side"],
                reason,
                SEVERITY.get(reason, "warning"),
                tuple(sorted(row["record_distinct"])),
            )
        )
    return sorted(out, key=lambda f: (f.indicator, f.pairing, f.side, f.reason))


def _finish(fw: Framework, group: list[SideResult]) -> None:
    """Area subtotals, totals and grades of one side; ranks within each pairing level."""
    area_of = {i.code: i.area for i in fw.indicators}
    for r in group:
        r.areas = {a.code: scoring.ZERO for a in fw.areas if any(i.side == r.side for i in a.indicators)}
        for v in r.indicators:
            r.areas[area_of[v.code]] += v.points
        r.total = sum(r.areas.values(), scoring.ZERO)
        r.grade = scoring.grade(r.total, fw.grades)
    for level in sorted({r.level for r in group}):
        same = [r for r in group if r.level == level]
        for r, rank in zip(same, scoring.ranks([r.total for r in same]), strict=True):
            r.rank = rank


def number(v: float | None) -> float | int | None:
    """A value as JSON shows it: whole numbers as integers, others to six decimals."""
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(float(v), 6)


def as_json(a: Assessment, run: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's JSON: ``{"run": {...}, "results": [...]}``, one result per pairing side."""
    return {
        "run": dict(run),
        "results": [
            {
                "pairing": r.pairing,
                "side": r.side,
                "level": r.level,
                "framework": r.framework,
                "indicators": [
                    {
                        "code": v.code,
                        "value": number(v.value),
                        "target": number(v.target),
                        "points": float(v.points),
                    }
                    for v in r.indicators
                ],
                "areas": {k: float(v) for k, v in r.areas.items()},
                "total": float(r.total),
                "grade": r.grade,
                "rank": r.rank,
            }
            for r in a.results
        ],
    }
