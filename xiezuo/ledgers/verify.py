"""Checking the people named on ledger records against the registry (issue #4; FRAMEWORK.md).

"Only verified people count": a person matches when their ID number is a registry member living
in the pairing's helped area who was registered poor (or monitored) on the date that counts.
Otherwise the reason says why (code list ``verify_reason``): not verified (not a member of the
helped area), not yet registered or no longer poor on that date, exited, dead, left the household.

No registry oracle (issue 21, ADR 0016): the result tells the entering side only what it may know.
A person who is not a member of the pairing's helped area is ``not_verified`` whether they are in
no registry at all or registered somewhere else in the country: same code, same message, same
dataset (the latest). Reasons about members *of* the helped area (exited, dead, not poor on that
date …) are the helped side's facts and D2 lets both sides of the pairing see them. The precise
fact is kept where no page shows it: ``PersonCheck.member`` links the member registered elsewhere
(null when the person is in no registry); the assessment recomputes its reasons (``not_registered``,
``outside_area``) from the snapshot, not from the stored code.

The check works on keyed hashes only (D3) and in batches (one query per table for a whole import
batch). Interactive checks (forms, API) are rate-limited per user; every check is logged as access
to personal data (one audit entry per call, with the count), and a burst of interactive checks by
one user (``LEDGER_CHECK_BURST`` people in a minute) raises a security event for the security
administrator (an audit entry ``security.check_burst``, object type ``security_event``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from xiezuo.core import audit
from xiezuo.core.models import AuditEntry
from xiezuo.registry.models import Dataset, HouseholdStatus, Member, Monitoring

POOR = frozenset({"poor", "pre_exit", "returned"})
OK_REASONS = frozenset({"match", "match_exited", "match_monitored"})
# What the entering side is told about a person who is not a member of the helped area.
NOT_VERIFIED = "not_verified"
CHECK_ACTION = "registry.check"
BURST_ACTION = "security.check_burst"
INTERACTIVE = ("web", "form", "api")


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str
    member_id: int | None = None
    household_id: int | None = None
    dataset_id: int | None = None


@dataclass(frozen=True)
class Query:
    """One person to check: keyed hash, the date that counts, and the ranges of the helped area."""

    id_hmac: str
    on: dt.date
    area: tuple[tuple[int, int], ...]
    accept_exited: bool = True


class RateLimited(Exception):
    """Too many interactive registry checks by one user in the last minute."""


def rate_limit(actor: object, n: int) -> None:
    """Refuse when ``actor`` has checked more than ``LEDGER_CHECKS_PER_MINUTE`` people in a minute."""
    limit = getattr(settings, "LEDGER_CHECKS_PER_MINUTE", 300)
    if not getattr(actor, "is_authenticated", False):
        return
    since = timezone.now() - dt.timedelta(minutes=1)
    user: Any = actor
    recent = AuditEntry.objects.filter(actor=user, action=CHECK_ACTION, at__gte=since).values_list(
        "batch", flat=True
    )
    used = sum(int(b.get("people", 0)) for b in recent)
    if used + n > limit:
        raise RateLimited(used)


def check_people(queries: Sequence[Query]) -> list[Result]:
    """Check a batch; one result per query, in order."""
    if not queries:
        return []
    hmacs = sorted({q.id_hmac for q in queries})
    # Plain tuples, not model instances: a batch reads thousands of rows of each table.
    members = {
        row[1]: _Member(*row)
        for row in Member.objects.filter(id_hmac__in=hmacs).values_list(
            "id",
            "id_hmac",
            "household_id",
            "household__region_code",
            "entered_on",
            "left_on",
            "leave_reason",
            "last_dataset_id",
        )
    }
    household_ids = sorted({m.household_id for m in members.values()})
    statuses: dict[int, list[_Status]] = {}
    for hh, status, start, end in (
        HouseholdStatus.objects.filter(household_id__in=household_ids)
        .order_by("household_id", "start")
        .values_list("household_id", "status", "start", "end")
    ):
        statuses.setdefault(hh, []).append(_Status(status, start, end))
    monitorings: dict[int, list[_Monitoring]] = {}
    for hh, identified_on, removed_on in Monitoring.objects.filter(
        household_id__in=household_ids
    ).values_list("household_id", "identified_on", "removed_on"):
        monitorings.setdefault(hh, []).append(_Monitoring(identified_on, removed_on))
    latest = Dataset.objects.order_by("-as_of", "-id").values_list("id", flat=True).first()
    out = []
    for q in queries:
        m = members.get(q.id_hmac)
        if m is None:
            out.append(Result(False, NOT_VERIFIED, dataset_id=latest))
            continue
        if not any(low <= m.region_code < high for low, high in q.area):
            # Registered elsewhere: told exactly as "in no registry" (no oracle); the member link
            # stays for those who may know.
            out.append(Result(False, NOT_VERIFIED, m.pk, m.household_id, latest))
            continue
        out.append(_judge(q, m, statuses.get(m.household_id, []), monitorings.get(m.household_id, [])))
    return out


@dataclass(frozen=True, slots=True)
class _Member:
    pk: int
    id_hmac: str
    household_id: int
    region_code: int
    """The household's place (the member's own may lag behind a move)."""
    entered_on: dt.date | None
    left_on: dt.date | None
    leave_reason: str
    last_dataset_id: int | None


@dataclass(frozen=True, slots=True)
class _Status:
    status: str
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class _Monitoring:
    identified_on: dt.date
    removed_on: dt.date | None


def _judge(q: Query, m: _Member, statuses: list[_Status], monitorings: list[_Monitoring]) -> Result:
    """The result for a member of the helped area on the date that counts."""

    def result(ok: bool, reason: str) -> Result:
        return Result(ok, reason, m.pk, m.household_id, m.last_dataset_id)

    if m.left_on is not None and m.left_on <= q.on:
        return result(False, "dead" if m.leave_reason == "death" else "left")
    if m.entered_on is not None and m.entered_on > q.on:
        return result(False, "not_poor_on_date")
    monitored = any(
        mon.identified_on <= q.on and (mon.removed_on is None or mon.removed_on > q.on) for mon in monitorings
    )
    current = next((s for s in statuses if s.start <= q.on and (s.end is None or s.end > q.on)), None)
    if current is not None and current.status in POOR:
        return result(True, "match")
    if monitored:
        return result(True, "match_monitored")
    if current is None:
        return result(False, "not_poor_on_date")
    if current.status == "exited":
        return result(True, "match_exited") if q.accept_exited else result(False, "exited")
    return result(False, "not_poor_on_date")


def log_checks(*, actor: object, ledger: str, n: int, via: str, region_code: int | None) -> None:
    """One audit entry per call: who checked how many people of which ledger (personal-data access)."""
    if not n:
        return
    audit.record(
        actor=actor,
        action=CHECK_ACTION,
        object_type="ledger",
        object_id=ledger,
        object_repr=ledger,
        region_code=region_code,
        batch={"people": n},
        via=via,
    )
    if via in INTERACTIVE:
        _watch_burst(actor, n, region_code, via)


def _watch_burst(actor: object, n: int, region_code: int | None, via: str) -> None:
    """A security event when this call takes the user's interactive checks of the last minute to
    ``LEDGER_CHECK_BURST`` or beyond (once per crossing). Written here, with the checks that
    committed, because a refused check rolls back with its record: the people a user actually
    learnt about are the ones counted."""
    if not getattr(actor, "is_authenticated", False):
        return
    threshold = getattr(settings, "LEDGER_CHECK_BURST", 100)
    user: Any = actor
    since = timezone.now() - dt.timedelta(minutes=1)
    batches = AuditEntry.objects.filter(
        actor=user, action=CHECK_ACTION, via__in=INTERACTIVE, at__gte=since
    ).values_list("batch", flat=True)
    total = sum(int(b.get("people", 0)) for b in batches)  # includes this call's entry
    if not total - n < threshold <= total:
        return
    audit.record(
        actor=actor,
        action=BURST_ACTION,
        object_type="security_event",
        object_id=user.pk,
        object_repr=user.get_username(),
        region_code=region_code,
        batch={"people_last_minute": total, "threshold": threshold},
        via=via,
    )


def helped_area(pairing_sides: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The subtree ranges of a pairing's helped side, from (region code, level) pairs."""
    from xiezuo.regions.models import subtree_range

    return tuple(subtree_range(code, level) for code, level in pairing_sides)


def area_q(area: tuple[tuple[int, int], ...], field: str = "region_code") -> Q:
    cond = Q(pk__in=[])
    for low, high in area:
        cond |= Q(**{f"{field}__gte": low, f"{field}__lt": high})
    return cond
