"""The indicator library, written once in ibis: every function computes its figure for every
assessed pairing at once (set-based), over the fact tables, on any ibis backend (DuckDB by
default, PySpark beyond one machine: docs/adr/0013). Keep expressions portable: joins, filters,
``ibis.cases``, window ``row_number``, ``DateValue.delta`` — no backend-specific SQL.

A pairing's figure includes its sub-pairings (DESIGN.md D8): records are joined to
``closure(ancestor, descendant)`` and grouped by the ancestor, the assessed pairing.

Verification (DESIGN.md §3), for each person named on a record of the year, in this order:

``not_registered``    the person key is not a registry member;
``outside_area``      the member's household is not in the helped side of the record's pairing;
``not_poor_on_date``  on the date that counts the member had left the household (or died), had
                      not yet joined it, or the household was neither registered poor (poor,
                      pre_exit, returned; exited too where ``accept_exited``, 脱贫不脱政策) nor monitored;
``too_short``         the duration condition fails (e.g. < 90 days of the placement in the year);
``counted_already``   the person was counted for this indicator and pairing by an earlier record
                      (by date, then record id); person-times count every event instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from xiezuo.assessment.engine.framework import Computation

POOR = ("poor", "pre_exit", "returned")
REFUSALS = ("not_registered", "outside_area", "not_poor_on_date", "too_short", "counted_already")
NOT_VERIFIED = ("not_registered", "outside_area", "not_poor_on_date")


@dataclass(frozen=True)
class Context:
    """The fact tables of a run as ibis tables, the year, and the pairing closure."""

    t: Mapping[str, ir.Table]
    year: int
    closure: ir.Table  # ancestor, descendant: every pairing and each pairing below it (itself too)
    helped: ir.Table  # pairing, low, high: the helped side of each pairing as code ranges
    sizes: Mapping[str, int] = field(default_factory=dict)  # rows per fact table, where known

    def at(self, year: int) -> Context:
        return replace(self, year=year)

    @property
    def jan1(self) -> ir.DateScalar:
        return ibis.date(self.year, 1, 1)

    @property
    def dec31(self) -> ir.DateScalar:
        return ibis.date(self.year, 12, 31)


@dataclass(frozen=True)
class Computed:
    """``values`` (pairing, value) for the pairings with records; ``absent`` the value of the
    others (0 for counts and sums, None where no records means no figure, e.g. a share);
    ``evidence`` (pairing, record, person, reason, checked_ok, verified) for people indicators."""

    values: ir.Table
    absent: float | None = 0.0
    evidence: ir.Table | None = None
    counted_in_evidence: bool = False
    """The value is the number of counted lines of the evidence (people indicators), so one
    execution of the evidence gives both; a share keeps its numerator's evidence but not this."""


def _where(t: ir.Table, where: Mapping[str, Any]) -> ir.Table:
    preds = []
    for column, cond in sorted(where.items()):
        c = t[column]
        if isinstance(cond, Mapping):
            preds.append(c.isnull() if cond["empty"] else c.notnull())
        elif isinstance(cond, list):
            preds.append(c.isin(cond))
        else:
            preds.append(c == cond)
    return t.filter(*preds) if preds else t


def records(ctx: Context, ledger: str, where: Mapping[str, Any]) -> ir.Table:
    """The ledger's records of the year, with ``ancestor``: one row per record and assessed pairing."""
    t = ctx.t[ledger]
    t = _where(t.filter(t.year == ctx.year), where)
    c = ctx.closure
    return t.join(c, t.pairing == c.descendant).select(t, ancestor=c.ancestor)


def _per_pairing(t: ir.Table, value: ir.Value) -> ir.Table:
    return t.group_by(pairing=t.ancestor).aggregate(value=value.cast("float64"))


def count(ctx: Context, *, ledger: str, where: Mapping[str, Any]) -> Computed:
    r = records(ctx, ledger, where)
    return Computed(_per_pairing(r, r.count()))


def distinct(ctx: Context, *, ledger: str, column: str, where: Mapping[str, Any]) -> Computed:
    r = records(ctx, ledger, where)
    return Computed(_per_pairing(r, r[column].nunique()))


def sum_(ctx: Context, *, ledger: str, column: str, where: Mapping[str, Any]) -> Computed:
    r = records(ctx, ledger, where)
    return Computed(_per_pairing(r, r[column].sum().fill_null(0)))


def _watched(ctx: Context, base: ir.Table) -> ir.Table:
    """(record, person) of ``base`` whose household was monitored on the date ``d``.

    Computed from the records and the few monitored households alone, so the main chain of
    joins is not evaluated twice; distinct, as a household may have overlapping episodes."""
    m, p = ctx.t["monitoring"], ctx.t["people"]
    watched = p.semi_join(m, p.household == m.household).select(p.person, p.household)
    hit = base.join(watched, base.person == watched.person).select(
        base.record, base.person, base.d, watched.household
    )
    hit = hit.join(
        m, (hit.household == m.household) & (m.start <= hit.d) & (m.end.isnull() | (m.end > hit.d))
    )
    return hit.select(hit.record, hit.person).distinct().mutate(monitored=ibis.literal(True))


def _verified(ctx: Context, x: ir.Table, accept_exited: bool) -> ir.Table:
    """``x`` (record, pairing, person, d …) with ``reason`` of the registry check (null = verified)."""
    watched = _watched(ctx, x.select(x.record, x.person, x.d))
    p = ctx.t["people"]
    x = x.left_join(p, x.person == p.person).select(
        x,
        known=p.person.notnull(),
        household=p.household,
        home=p.region_code,
        entered_on=p.entered_on,
        left_on=p.left_on,
    )
    h = ctx.helped
    x = x.left_join(h, (x.pairing == h.pairing) & (x.home >= h.low) & (x.home < h.high)).select(
        x, in_area=h.low.notnull()
    )
    s = ctx.t["statuses"]
    x = x.left_join(
        s, (x.household == s.household) & (s.start <= x.d) & (s.end.isnull() | (s.end > x.d))
    ).select(x, status=s.status)
    x = x.left_join(watched, (x.record == watched.record) & (x.person == watched.person)).select(
        x, monitored=watched.monitored.fill_null(False)
    )
    good = x.status.isin(list(POOR) + (["exited"] if accept_exited else [])) | x.monitored
    reason = ibis.cases(
        (~x.known, "not_registered"),
        (~x.in_area, "outside_area"),
        (x.left_on.notnull() & (x.left_on <= x.d), "not_poor_on_date"),
        (x.entered_on.notnull() & (x.entered_on > x.d), "not_poor_on_date"),
        (~good.fill_null(False), "not_poor_on_date"),
        else_=ibis.null("string"),
    )
    return x.mutate(reason=reason)


def people(
    ctx: Context,
    *,
    ledger: str,
    date: str,
    end: str | None,
    min_days: int,
    window: str,
    verify: bool,
    accept_exited: bool,
    unit: str,
    where: Mapping[str, Any],
) -> Computed:
    t = ctx.t[ledger]
    t = _where(t.filter(t.year == ctx.year), where)
    base = t.select(t.record, t.pairing, d=t[date], e=t[end] if end else ibis.null("date"))
    rp = ctx.t["record_people"]
    rp = rp.filter(rp.ledger == ledger).select(rp.record, rp.person, rp.checked_ok)
    x = base.join(rp, base.record == rp.record).select(base, rp.person, rp.checked_ok)
    if verify and ctx.sizes.get(ledger, 1) > 0:  # an empty ledger needs no registry joins
        x = _verified(ctx, x, accept_exited)
        x = x.mutate(verified=x.reason.isnull())
    else:
        x = x.mutate(reason=ibis.null("string"), verified=ibis.null("boolean"))
    if min_days:
        if window == "year":
            stop = ibis.least(x.e.fill_null(ctx.dec31), ctx.dec31)
            days = stop.delta(ibis.greatest(x.d, ctx.jan1), unit="day") + 1
        else:
            days = ibis.ifelse(x.e.isnull(), min_days, x.e.delta(x.d, unit="day") + 1)
        x = x.mutate(reason=ibis.ifelse(x.reason.isnull() & (days < min_days), "too_short", x.reason))
    c = ctx.closure
    y = x.join(c, x.pairing == c.descendant).select(x, ancestor=c.ancestor)
    ok = y.reason.isnull()
    if unit == "people":
        # Once per person and pairing: the value counts distinct people; the evidence marks the
        # person's first record (by date, then id) as counted and the others counted_already,
        # found with a grouped minimum rather than a sorting window (cheaper at scale).
        who = y.person.fill_null(-y.record)
        y = y.mutate(who=who, order=y.d.delta(ibis.date(1970, 1, 1), unit="day") * 10_000_000_000 + y.record)
        values = (
            y.filter(y.reason.isnull())
            .group_by(pairing=y.ancestor)
            .aggregate(value=y.who.nunique().cast("float64"))
        )
        good = y.filter(y.reason.isnull())
        first = good.group_by([good.ancestor, good.who]).aggregate(first=good.order.min())
        y = y.left_join(first, (y.ancestor == first.ancestor) & (y.who == first.who)).select(
            y, first=first.first
        )
        y = y.mutate(
            reason=ibis.ifelse(y.reason.isnull() & (y.order != y.first), "counted_already", y.reason)
        )
    else:
        values = _per_pairing(y, ok.cast("int64").sum())
    evidence = y.select(
        pairing=y.ancestor,
        record=y.record,
        person=y.person,
        reason=y.reason,
        checked_ok=y.checked_ok,
        verified=y.verified,
    )
    return Computed(values, 0.0, evidence, counted_in_evidence=True)


def _ratio(num: Computed, den: Computed) -> ir.Table:
    # a view: numerator and denominator may be the very same expression (a share of a figure in
    # itself), which ibis would otherwise take for an ambiguous self-join
    a, b = num.values.view(), den.values
    j = b.left_join(a, a.pairing == b.pairing).select(
        pairing=b.pairing, n=a.value.fill_null(num.absent or 0), d=b.value
    )
    return j.select(j.pairing, value=ibis.ifelse(j.d > 0, j.n / j.d, ibis.null("float64")))


def share(ctx: Context, *, numerator: Computation, denominator: Computation) -> Computed:
    num, den = compute(ctx, numerator), compute(ctx, denominator)
    return Computed(_ratio(num, den), None, num.evidence)


def mean(ctx: Context, *, parts: tuple[Computation, ...]) -> Computed:
    tables = [compute(ctx, p).values for p in parts]
    u = ibis.union(*tables, distinct=False)
    u = u.filter(u.value.notnull())
    return Computed(u.group_by(u.pairing).aggregate(value=u.value.mean()), None)


def total(ctx: Context, *, parts: tuple[Computation, ...]) -> Computed:
    tables = [compute(ctx, p).values for p in parts]
    u = ibis.union(*tables, distinct=False)
    return Computed(u.group_by(u.pairing).aggregate(value=u.value.fill_null(0.0).sum()), 0.0)


def growth(ctx: Context, *, of: Computation) -> Computed:
    return Computed(_ratio(compute(ctx, of), compute(ctx.at(ctx.year - 1), of)), None)


def _in_deep(ctx: Context, t: ir.Table, column: str) -> ir.Table:
    r = ctx.t["regions"]
    deep = r.filter(r.deep_poverty)
    return t.semi_join(deep, (t[column] >= deep.low) & (t[column] < deep.high))


def _poor_places(ctx: Context) -> ir.Table:
    """(region_code, poor, exits): per village, the members whose household was registered poor on
    1 January (and had not left it), and how many of them exited in the year. Grouped by place
    before any range join, so that the joins with the pairings' areas see villages, not people."""
    p, s, on = ctx.t["people"], ctx.t["statuses"], ctx.jan1
    p = p.filter(p.left_on.isnull() | (p.left_on > on), p.entered_on.isnull() | (p.entered_on <= on))
    poor = s.filter(s.start <= on, s.end.isnull() | (s.end > on), s.status.isin(list(POOR)))
    p = p.semi_join(poor, p.household == poor.household)
    exited = (p.exit_year == ctx.year).fill_null(False).cast("int64")
    return p.group_by(p.region_code).aggregate(poor=p.count(), exits=exited.sum())


def _per_pairing_area(ctx: Context, places: ir.Table) -> ir.Table:
    """(pairing, poor, exits) summed over each pairing's helped area."""
    h = ctx.helped
    j = places.join(h, (places.region_code >= h.low) & (places.region_code < h.high))
    return j.group_by(pairing=h.pairing).aggregate(poor=j.poor.sum(), exits=j.exits.sum())


def tilt(ctx: Context, *, ledger: str, column: str, region: str, where: Mapping[str, Any]) -> Computed:
    r = records(ctx, ledger, where)
    spent = r.group_by(pairing=r.ancestor).aggregate(total=r[column].sum().cast("float64"))
    d = _in_deep(ctx, r, region)
    deep_spent = d.group_by(pairing=d.ancestor).aggregate(deep=d[column].sum().cast("float64"))
    places = _poor_places(ctx)
    everyone = _per_pairing_area(ctx, places)
    deep_people = _per_pairing_area(ctx, _in_deep(ctx, places, "region_code"))
    j = spent.left_join(deep_spent, spent.pairing == deep_spent.pairing).select(
        spent.pairing, spent.total, deep=deep_spent.deep.fill_null(0.0)
    )
    j = j.left_join(everyone, j.pairing == everyone.pairing).select(j, n=everyone.poor.cast("float64"))
    j = j.left_join(deep_people, j.pairing == deep_people.pairing).select(
        j, dn=deep_people.poor.cast("float64").fill_null(0.0)
    )
    ok = (j.total > 0) & (j.n > 0) & (j.dn > 0)
    value = ibis.ifelse(ok, (j.deep / j.total) / (j.dn / j.n), ibis.null("float64"))
    return Computed(j.select(j.pairing, value=value), None)


def registry_poor(ctx: Context) -> Computed:
    x = _per_pairing_area(ctx, _poor_places(ctx))
    return Computed(x.select(x.pairing, value=x.poor.cast("float64")))


def registry_exits(ctx: Context) -> Computed:
    x = _per_pairing_area(ctx, _poor_places(ctx))
    return Computed(x.select(x.pairing, value=x.exits.cast("float64")))


def _active(ctx: Context) -> ir.Table:
    p = ctx.t["pairings"]
    return p.filter(p.start_year <= ctx.year, p.end_year.isnull() | (p.end_year >= ctx.year))


def _coverage_of(ctx: Context, places: ir.Table) -> ir.Table:
    """(pairing, value): the share of ``places`` (code) in each pairing's helped area that are the
    helped side of the pairing itself or of an active pairing below it."""
    c, s, h = ctx.closure, ctx.t["pairing_sides"], ctx.helped
    active = _active(ctx)
    below = c.join(active, c.descendant == active.pairing).select(c.ancestor, c.descendant)
    helped = s.filter(s.side == "helped")
    paired = below.join(helped, below.descendant == helped.pairing).select(
        below.ancestor, code=helped.region_code
    )
    inside = places.join(h, (places.code >= h.low) & (places.code < h.high))
    inside = inside.select(ancestor=h.pairing, code=places.code).distinct()
    covered = inside.semi_join(paired, (inside.ancestor == paired.ancestor) & (inside.code == paired.code))
    total = inside.group_by(inside.ancestor).aggregate(n=inside.count())
    done = covered.group_by(covered.ancestor).aggregate(k=covered.count())
    j = total.left_join(done, total.ancestor == done.ancestor)
    return j.select(pairing=total.ancestor, value=(done.k.fill_null(0) / total.n).cast("float64"))


def coverage(ctx: Context) -> Computed:
    """E20: the mean of the shares of national poverty counties with an active county pair and of
    poor villages with a village, enterprise or organisation pair, in the helped area (a part
    with no such places is left out of the mean; neither: no figure)."""
    r = ctx.t["regions"]
    counties = r.filter(r.poverty_county, r.level == 3).select(r.code)
    villages = r.filter(r.poor_village, r.level == 5).select(r.code)
    u = ibis.union(_coverage_of(ctx, counties), _coverage_of(ctx, villages), distinct=False)
    return Computed(u.group_by(u.pairing).aggregate(value=u.value.mean()), None)


def manual(ctx: Context, *, note: str) -> Computed:
    c = ctx.closure
    none = c.filter(c.ancestor < 0).select(pairing=c.ancestor, value=ibis.null("float64"))
    return Computed(none, None)


FUNCTIONS: dict[str, Callable[..., Computed]] = {
    "count": count,
    "distinct": distinct,
    "sum": sum_,
    "people": people,
    "share": share,
    "mean": mean,
    "total": total,
    "growth": growth,
    "tilt": tilt,
    "registry_poor": registry_poor,
    "registry_exits": registry_exits,
    "coverage": coverage,
    "manual": manual,
}


def compute(ctx: Context, computation: Computation) -> Computed:
    """The figure of ``computation`` for every pairing in ``ctx``."""
    return FUNCTIONS[computation.function](ctx, **computation.params)


from xiezuo.assessment.engine import outcomes  # noqa: E402  (it builds on the functions above)

FUNCTIONS.update(outcomes.FUNCTIONS)


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
