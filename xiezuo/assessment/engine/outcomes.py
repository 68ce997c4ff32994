"""Indicator functions about coverage and outcomes, in the same portable ibis as :mod:`.library`
(which registers them in its ``FUNCTIONS``): every function computes its figure for every
assessed pairing at once, a pairing's figure including its sub-pairings (DESIGN.md D8).

``pairs_with``       E3: share of the active pairs of a level below a pairing with a record
``linked_share``     E11, W11: share of records (or of an amount) linked to verified people
``exits_helped``     E22: verified beneficiaries whose household exited poverty in the year
``exits_on_plan``    W21: share of the year's planned county and village exits achieved
``helped_in_time``   W22, D6: share of households newly monitored with a help measure in time
``misuse_findings``  W12: confirmed findings of misuse (none recorded yet: 0 for everyone)
``agreement_reached`` E4, W4: computed by the runner from the scored values (:mod:`.assess`)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from xiezuo.assessment.engine.framework import Computation
from xiezuo.assessment.engine.library import Computed, Context, _active, compute, records


def _share(total: ir.Table, done: ir.Table) -> ir.Table:
    """(pairing, value = k / n) from (pairing, n) and (pairing, k); no n or n = 0: no figure."""
    j = total.left_join(done, total.pairing == done.pairing)
    j = j.select(total.pairing, n=total.n.cast("float64"), k=done.k.cast("float64").fill_null(0.0))
    return j.select(j.pairing, value=ibis.ifelse(j.n > 0, j.k / j.n, ibis.null("float64")))


def pairs_with(ctx: Context, *, level: str, ledger: str, where: Mapping[str, Any]) -> Computed:
    """The share of the active pairings of ``level`` at or below each pairing that have a record
    of ``ledger`` (matching ``where``) in the year, themselves or below them. A pairing with no
    pairs of that level below it has no figure."""
    c = ctx.closure.view()
    active = _active(ctx)
    active = active.filter(active.level == level)
    pairs = c.join(active, c.descendant == active.pairing).select(pairing=c.ancestor, pair=c.descendant)
    r = records(ctx, ledger, where)
    hit = r.select(pair=r.ancestor).distinct()
    covered = pairs.semi_join(hit, pairs.pair == hit.pair)
    total = pairs.group_by(pairs.pairing).aggregate(n=pairs.count())
    done = covered.group_by(covered.pairing).aggregate(k=covered.count())
    return Computed(_share(total, done), None)


def _verified_keys(ctx: Context, people: Computation, key: str) -> ir.Table:
    """(pairing, key) of the people computation's records with at least one person the registry
    check accepted (whatever the duration or the once-per-pairing rule say)."""
    ev = compute(ctx, people).evidence
    assert ev is not None, "linked_share needs a people computation"
    ok = ev.filter(ev.verified.fill_null(False))
    t = ctx.t[people.params["ledger"]]
    t = t.filter(t.year == ctx.year, t[key].notnull())
    j = ok.join(t, ok.record == t.record)
    return j.select(pairing=ok.pairing, key=t[key]).distinct()


def linked_share(
    ctx: Context,
    *,
    ledger: str,
    key: str,
    people: Computation,
    column: str | None,
    where: Mapping[str, Any],
) -> Computed:
    """The share of the year's ``ledger`` records (by count, or by ``column`` summed) whose
    ``key`` (e.g. the project number) is named on a record of ``people`` with a verified person:
    E11's funds and W11's projects with verified beneficiary households."""
    r = records(ctx, ledger, where)  # a record without a key links to no one: it stays unlinked
    linked = _verified_keys(ctx, people, key)
    weight = r[column].fill_null(0) if column else ibis.literal(1)
    r = r.select(pairing=r.ancestor, key=r[key], w=weight)
    hit = r.semi_join(linked, (r.pairing == linked.pairing) & (r.key == linked.key))
    total = r.group_by(r.pairing).aggregate(n=r.w.sum())
    done = hit.group_by(hit.pairing).aggregate(k=hit.w.sum())
    return Computed(_share(total, done), None)


def exits_helped(ctx: Context, *, parts: tuple[Computation, ...]) -> Computed:
    """Distinct people counted by any of the ``parts`` (people computations: placements, industry,
    projects, training …) whose household exited poverty in the year (``exit_year``)."""
    evidences = []
    for part in parts:
        ev = compute(ctx, part).evidence
        assert ev is not None, "exits_helped needs people computations"
        evidences.append(ev.filter(ev.reason.isnull()).select(ev.pairing, ev.person))
    u = ibis.union(*evidences, distinct=True)
    p = ctx.t["people"]
    out = p.filter(p.exit_year == ctx.year)
    x = u.semi_join(out, u.person == out.person)
    return Computed(x.group_by(x.pairing).aggregate(value=x.person.nunique().cast("float64")), 0.0)


def exits_on_plan(ctx: Context) -> Computed:
    """The share of the national poverty counties and poor villages in the helped area planned
    to exit in the year (``planned_exit_year``) that exited by its end (``exit_year``). No
    planned exit in the area: no figure."""
    r, h = ctx.t["regions"], ctx.helped
    planned = r.filter(r.planned_exit_year == ctx.year, r.poverty_county | r.poor_village)
    planned = planned.select(planned.code, done=(planned.exit_year <= ctx.year).fill_null(False))
    j = planned.join(h, (planned.code >= h.low) & (planned.code < h.high))
    j = j.select(pairing=h.pairing, code=planned.code, done=planned.done).distinct()
    total = j.group_by(j.pairing).aggregate(n=j.count())
    hit = j.filter(j.done)
    done = hit.group_by(hit.pairing).aggregate(k=hit.count())
    return Computed(_share(total, done), None)


def helped_in_time(ctx: Context, *, days: int) -> Computed:
    """The share of the monitoring episodes begun in the year, of households in the helped area,
    with a help measure started within ``days`` days of the identification (防返贫 "一月内帮扶")."""
    m, p, hm, h = ctx.t["monitoring"], ctx.t["people"], ctx.t["help_measures"], ctx.helped
    new = m.filter(m.start >= ctx.jan1, m.start <= ctx.dec31).select(m.household, m.start).distinct()
    homes = p.select(p.household, p.region_code).distinct()
    new = new.join(homes, new.household == homes.household).select(new, homes.region_code)
    late = hm.started_on.delta(hm.identified_on, unit="day")
    quick = hm.filter(late >= 0, late <= days).select(hm.household, hm.identified_on)
    new = new.left_join(
        quick.distinct(), (new.household == quick.household) & (new.start == quick.identified_on)
    ).select(new, done=quick.household.notnull())
    j = new.join(h, (new.region_code >= h.low) & (new.region_code < h.high))
    j = j.select(pairing=h.pairing, household=new.household, start=new.start, done=new.done)
    total = j.group_by(j.pairing).aggregate(n=j.count())
    hit = j.filter(j.done)
    done = hit.group_by(hit.pairing).aggregate(k=hit.count())
    return Computed(_share(total, done), None)


def misuse_findings(ctx: Context) -> Computed:
    """W12: confirmed findings of misuse or false reporting. No fact table records them yet (the
    checks issue adds them), so every pairing has 0, which the penalty rule scores in full."""
    c = ctx.closure
    return Computed(c.filter(c.ancestor < 0).select(pairing=c.ancestor, value=ibis.null("float64")), 0.0)


def agreement_reached(ctx: Context) -> Computed:
    """E4, W4: the runner computes it from the scored values of the same side (see
    :func:`.assess.agreement_share`); here no value, as for ``manual``."""
    c = ctx.closure
    return Computed(c.filter(c.ancestor < 0).select(pairing=c.ancestor, value=ibis.null("float64")), None)


FUNCTIONS: Mapping[str, Callable[..., Computed]] = {
    "pairs_with": pairs_with,
    "linked_share": linked_share,
    "exits_helped": exits_helped,
    "exits_on_plan": exits_on_plan,
    "helped_in_time": helped_in_time,
    "misuse_findings": misuse_findings,
    "agreement_reached": agreement_reached,
}
