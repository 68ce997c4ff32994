"""The reads of the home page (issue 17 item 5): what is due, what waits for me, my recent imports
and this year's progress of my pairings against their agreement targets. One small function per
block, each starting from what the user may see or do (DESIGN.md D2).

Periods exist as rows only once someone acts on them; a period without a row is open at step 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from xiezuo.accounts.roles import roles_for
from xiezuo.core.models import Job
from xiezuo.core.scope import active_grants, scope_for
from xiezuo.ledgers import flows, rollup, services, types
from xiezuo.ledgers.models import LedgerRecord, Period
from xiezuo.pairings.models import Pairing, PairingSide
from xiezuo.web.job_display import result_view

# Enough for a county's or a city's own pairings; a province's or the country's work is on the
# periods page, not on a home page.
MAX_PAIRINGS = 12
MAX_ROWS = 20
DUE_WITHIN = dt.timedelta(days=62)
IMPORTS = 5


def own_pairings(user: Any) -> list[Pairing]:
    """The pairings one of whose sides is exactly a region the user holds a ledger-changing grant
    for (a county clerk's county pair, a city coordinator's city pair), lowest level first."""
    regions = {
        g.region.code
        for g in active_grants(user)
        if g.region is not None and g.role in roles_for("ledger", "change")
    }
    if not regions:
        return []
    qs = Pairing.objects.filter(
        Exists(PairingSide.objects.filter(pairing=OuterRef("pk"), region_code__in=regions))
    ).order_by("-level", "name", "pk")
    return list(qs[:MAX_PAIRINGS])


@dataclass(frozen=True)
class DueRow:
    ledger: types.LedgerType
    pairing: Pairing
    side: str
    year: int
    period_no: int
    label: str
    deadline: dt.date
    state: str
    overdue: bool


def due_periods(user: Any, today: dt.date, pairings: list[Pairing]) -> list[DueRow]:
    """Reporting periods of the user's own pairings that the user files (takes the first step
    of) and has not yet submitted, whose deadline has passed or comes within two months: last
    year's and this year's, soonest deadline first. One query for the period rows."""
    years = (today.year - 1, today.year)
    stored = {
        (p.ledger, p.pairing_id, p.side, p.year, p.period_no): p
        for p in Period.objects.filter(pairing__in=pairings, year__in=years)
    }
    rows = []
    for pairing in pairings:
        for ltype in types.all_types():
            for side in ltype.sides:
                flow = flows.flow_for(ltype.key, side)
                if not flows.may_take(user, flow.steps[0], services.side_regions(pairing, side)):
                    continue
                count = flows.PERIODS_PER_YEAR[flow.period]
                for year in years:
                    if not pairing.active_in(year):
                        continue
                    for no in [0] if count == 1 else range(1, count + 1):
                        deadline = flow.deadline_of(year, no)
                        period = stored.get((ltype.key, pairing.pk, side, year, no))
                        if period is not None and (period.step > 0 or period.locked):
                            continue
                        if deadline > today + DUE_WITHIN:
                            continue
                        rows.append(
                            DueRow(
                                ledger=ltype,
                                pairing=pairing,
                                side=side,
                                year=year,
                                period_no=no,
                                label=flow.label(year, no),
                                deadline=deadline,
                                state=period.state if period is not None else Period.OPEN,
                                overdue=deadline < today,
                            )
                        )
    rows.sort(key=lambda r: (r.deadline, r.ledger.order, r.ledger.key, r.pairing.pk))
    return rows


@dataclass(frozen=True)
class Waiting:
    """A count of the user's work of one kind on one ledger, with the page that lists it."""

    ledger: types.LedgerType
    n: int
    query: str


def to_confirm(user: Any) -> list[Waiting]:
    """Per ledger that asks for the other side's confirmation: how many records wait for the
    user's side to confirm (one count per such ledger)."""
    scope = scope_for(user, "ledger", "change")
    if scope.is_empty:
        return []
    out = []
    for ltype in types.all_types():
        if ltype.confirm_side is None:
            continue
        mine = PairingSide.objects.filter(
            scope.q("region_code"), pairing=OuterRef("pairing"), side=ltype.confirm_side
        )
        n = services.records_for(user, ltype).filter(Exists(mine), confirmation=LedgerRecord.PENDING).count()
        if n:
            out.append(Waiting(ledger=ltype, n=n, query="confirmation=pending"))
    return out


def disputed(user: Any) -> list[Waiting]:
    """Per ledger: the user's side's records the other side disputed (one count per ledger that
    asks for confirmation)."""
    out = []
    for ltype in types.all_types():
        if ltype.confirm_side is None:
            continue
        n = services.records_for(user, ltype, "change").filter(confirmation=LedgerRecord.DISPUTED).count()
        if n:
            out.append(Waiting(ledger=ltype, n=n, query="confirmation=disputed"))
    return out


@dataclass(frozen=True)
class PeriodRow:
    period: Period
    ledger: types.LedgerType
    label: str
    step: str


def _periods(user: Any, q: Q, allowed: Any) -> list[PeriodRow]:
    visible = services.visible_pairings(user)
    qs: QuerySet[Period] = (
        Period.objects.filter(q, pairing__in=visible.values("pk"))
        .select_related("pairing")
        .order_by("year", "ledger", "pairing_id", "side", "period_no")
    )
    out = []
    known = {t.key: t for t in types.all_types()}
    for p in qs[:200]:
        ltype = known.get(p.ledger)
        if ltype is None or not allowed(user, p):
            continue
        flow = flows.flow_for(p.ledger, p.side)
        step = flow.steps[p.step] if p.step < len(flow.steps) else flow.steps[-1]
        out.append(PeriodRow(period=p, ledger=ltype, label=flow.label(p.year, p.period_no), step=step.zh))
        if len(out) >= MAX_ROWS:
            break
    return out


def periods_to_approve(user: Any) -> list[PeriodRow]:
    """Submitted periods whose next step is the user's (review or approve)."""
    return _periods(user, Q(step__gt=0, locked=False), services.may_advance)


def unlock_requests(user: Any) -> list[PeriodRow]:
    """Locked periods whose unlock a lower level asked for and the user may grant."""
    return _periods(user, Q(locked=True, unlock_requested=True), services.may_grant_unlock)


@dataclass
class ImportRow:
    job: Job
    counts: list[tuple[str, int]] = field(default_factory=list)


def recent_imports(user: Any) -> list[ImportRow]:
    """The user's latest import jobs with their counts, labelled as the jobs page labels them."""
    jobs = Job.objects.filter(created_by_id=user.pk, kind__endswith=".import").order_by("-created_at", "-id")
    return [ImportRow(job=job, counts=result_view(job, user).counts[:3]) for job in jobs[:IMPORTS]]


def progress_year(pairing: Pairing, today: dt.date) -> int | None:
    """The year whose progress the home page shows for a pairing: this year while the pairing is
    active, else its last year (a pairing of an ended programme shows how it ended); None for a
    pairing that has not started."""
    if pairing.active_in(today.year):
        return today.year
    if pairing.end_year is not None and pairing.end_year < today.year:
        return int(pairing.end_year)
    return None


def progress(pairings: list[Pairing], today: dt.date, *, zh: bool) -> list[dict[str, Any]]:
    """Per own pairing, each metric that has an agreement target in its year (``progress_year``):
    the year's total over the pairing and its sub-pairings against the target, in percent, the
    figures as the annual summary shows them (JSON-able for the chart)."""
    out = []
    for pairing in pairings:
        year = progress_year(pairing, today)
        if year is None:
            continue
        ids = rollup.subtree_ids(pairing)
        goal = rollup.targets(ids, year)
        items = []
        for ltype in types.all_types():
            for metric in ltype.metrics:
                target = goal.get(metric.target) if metric.target else None
                if not target:
                    continue
                total = rollup.metric_value(ltype, metric, ids, year)[""]
                line = rollup.Line(ledger=ltype, metric=metric, total=total, target=target)
                items.append(
                    {
                        "label": metric.zh if zh else metric.en,
                        "total": rollup.figure(line, total),
                        "target": rollup.figure(line, target),
                        "unit": rollup.unit_of(line, "zh-hans" if zh else "en"),
                        "percent": round(100 * total / target, 1),
                    }
                )
        out.append({"pairing": pairing.name, "id": pairing.pk, "year": year, "items": items})
    return out
