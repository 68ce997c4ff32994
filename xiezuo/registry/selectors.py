"""Reads of the registry: every query starts from what the user may see (DESIGN.md D2).

The registry is the helped side's, by region only: ``households_for(user)`` filters
``Household.region_code`` by the user's ``registry`` scope as integer code ranges (D5). Lists page
by keyset on ``(region_code, id)`` (the ``household_region_keyset`` index), never by OFFSET, and
count with one aggregate per question.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from xiezuo.core.crypto import age_on, get_cipher
from xiezuo.core.models import Job
from xiezuo.core.scope import scope_for
from xiezuo.core.tabular.values import clean_name
from xiezuo.registry.idnumbers import IdCheck, known_address_codes, validate_id
from xiezuo.registry.models import (
    HelpMeasure,
    Household,
    HouseholdCount,
    HouseholdIncome,
    HouseholdStatus,
    Member,
    Monitoring,
)

PAGE_SIZE = 50
IMPORT_JOB = "registry.import"


def households_for(user: Any, action: str = "view") -> QuerySet[Household]:
    """Households whose village lies in the user's registry scope (none for helper-side roles)."""
    scope = scope_for(user, "registry", action)
    if scope.is_empty:
        return Household.objects.none()
    return Household.objects.filter(scope.q("region_code"))


def members_for(user: Any, action: str = "view") -> QuerySet[Member]:
    """Members whose household's village lies in the user's registry scope for ``action``."""
    scope = scope_for(user, "registry", action)
    if scope.is_empty:
        return Member.objects.none()
    return Member.objects.filter(scope.q("region_code"))


@dataclass(frozen=True)
class HouseholdFilters:
    """Filters of the household list; ``None`` means "any".

    ``region`` is a half-open range of 12-digit codes (a region's subtree).
    """

    region: tuple[int, int] | None = None
    status: str | None = None
    attribute: str | None = None
    main_cause: str | None = None
    monitored: bool | None = None
    exit_year: int | None = None
    number_prefix: str | None = None
    name_hmac: str | None = None
    id_hmac: str | None = None

    @property
    def searches(self) -> bool:
        """True when a search by 户编号, name or ID number narrows the list."""
        return bool(self.number_prefix or self.name_hmac or self.id_hmac)


def _prefix_range(prefix: str) -> tuple[str, str]:
    """The byte-order range of the keys that start with ``prefix`` (the 户编号 column is compared
    byte by byte on both databases, so a range uses its unique index where LIKE would not).

    >>> _prefix_range("130821-01")
    ('130821-01', '130821-02')
    """
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def filter_households(qs: QuerySet[Household], f: HouseholdFilters) -> QuerySet[Household]:
    """Apply the filters to an already scoped queryset.

    A name or ID number is matched by its keyed hash (D3): the member's ``name_hmac`` or
    ``id_hmac`` equals the hash of what was typed, never a decryption or a scan of clear text.
    """
    if f.number_prefix:
        first, after = _prefix_range(f.number_prefix)
        qs = qs.filter(number__gte=first, number__lt=after)
    if f.id_hmac:
        qs = qs.filter(Exists(Member.objects.filter(household=OuterRef("pk"), id_hmac=f.id_hmac)))
    if f.name_hmac:
        qs = qs.filter(Exists(Member.objects.filter(household=OuterRef("pk"), name_hmac=f.name_hmac)))
    if f.region is not None:
        low, high = f.region
        qs = qs.filter(region_code__gte=low, region_code__lt=high)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.attribute:
        qs = qs.filter(attribute=f.attribute)
    if f.main_cause:
        qs = qs.filter(main_cause=f.main_cause)
    if f.monitored is not None:
        qs = qs.filter(monitored=f.monitored)
    if f.exit_year is not None:
        qs = qs.filter(exit_year=f.exit_year)
    return qs


Cursor = tuple[int, int]


def parse_cursor(text: str) -> Cursor:
    """``"<region_code>:<id>"`` → ``(region_code, id)``; ValueError on anything else.

    >>> parse_cursor("130821100201:42")
    (130821100201, 42)
    """
    code, sep, pk = text.strip().partition(":")
    if not sep or not code.isascii() or not pk.isascii() or not code.isdigit() or not pk.isdigit():
        raise ValueError("a cursor is <region_code>:<id>")
    if len(code) > 12 or len(pk) > 18:
        raise ValueError("a cursor is <region_code>:<id>")
    return int(code), int(pk)


def format_cursor(household: Household) -> str:
    return f"{household.region_code}:{household.pk}"


@dataclass(frozen=True)
class Page:
    rows: list[Household]
    next: str | None  # cursor of the last row when there are more rows


def keyset_page(qs: QuerySet[Household], *, after: Cursor | None, limit: int = PAGE_SIZE) -> Page:
    """One page in ``(region_code, id)`` order after the cursor; one query, no OFFSET."""
    if after is not None:
        code, pk = after
        qs = qs.filter(Q(region_code__gt=code) | Q(region_code=code, pk__gt=pk))
    rows = list(qs.order_by("region_code", "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows=rows, next=format_cursor(rows[-1]) if more and rows else None)


def household_counts(qs: QuerySet[Household]) -> tuple[int, dict[str, int]]:
    """The number of households and how many of them have each status (two aggregate queries)."""
    total = qs.count()
    by_status = {row["status"]: row["n"] for row in qs.order_by().values("status").annotate(n=Count("pk"))}
    return total, dict(sorted(by_status.items()))


COUNTY = 10**6  # a county's subtree is a range of 10**6 codes


def _county_ranges(user: Any, f: HouseholdFilters) -> list[tuple[int, int]] | None:
    """The user's scope and the region filter as ranges of whole counties (``county`` of
    ``HouseholdCount``), or None when a range is finer than a county."""
    scope = scope_for(user, "registry", "view")
    ranges = [(0, 10**12)] if scope.national else list(scope.ranges)
    if f.region is not None:
        low, high = f.region
        ranges = [(max(a, low), min(b, high)) for a, b in ranges if max(a, low) < min(b, high)]
    if any(a % COUNTY or b % COUNTY for a, b in ranges):
        return None
    return [(a // COUNTY, b // COUNTY) for a, b in ranges]


def household_counts_for(user: Any, f: HouseholdFilters) -> tuple[int, dict[str, int]]:
    """``household_counts`` of the user's households under the filters, from the maintained
    per-county aggregate (``HouseholdCount``: a few thousand rows instead of millions of
    households) when the filters allow it: whole counties or more, and no attribute or exit
    year filter. Anything finer is a small set and is counted directly."""
    ranges = _county_ranges(user, f)
    if ranges is None or f.attribute or f.exit_year is not None or f.searches:
        return household_counts(filter_households(households_for(user), f))
    if not ranges:
        return 0, {}
    q = Q()
    for low, high in ranges:
        q |= Q(county__gte=low, county__lt=high)
    qs = HouseholdCount.objects.filter(q)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.main_cause:
        qs = qs.filter(main_cause=f.main_cause)
    if f.monitored is not None:
        qs = qs.filter(monitored=f.monitored)
    by_status = {
        row["status"]: row["total"]
        for row in qs.order_by().values("status").annotate(total=Sum("n"))
        if row["total"]
    }
    return sum(by_status.values()), dict(sorted(by_status.items()))


def people_count_for(user: Any, f: HouseholdFilters) -> int:
    """How many members the user's households under the filters have (one aggregate query): by
    the members' own village codes when only the region narrows the list, else through the
    filtered households."""
    qs = members_for(user)
    if f.region is not None:
        low, high = f.region
        qs = qs.filter(region_code__gte=low, region_code__lt=high)
    if dataclasses.replace(f, region=None) != HouseholdFilters():
        qs = qs.filter(household__in=filter_households(households_for(user), f).values("pk"))
    return qs.count()


def name_key(text: str) -> str | None:
    """The keyed hash of a name as typed, cleaned as the import cleans the 姓名 column (so an exact
    name finds its members); None for an empty name."""
    name = clean_name(text)
    return get_cipher().hmac(name) if name else None


def id_key(text: str) -> tuple[str | None, IdCheck]:
    """The keyed hash of an ID number as typed (normalised: full-width digits, 15-digit numbers,
    a lower-case x) and the check of it; the hash is None when the number is not valid."""
    check = validate_id(text, extra_codes=known_address_codes())
    return (get_cipher().hmac(check.normalised) if check.ok and check.normalised else None), check


@dataclass(frozen=True)
class MemberRow:
    """What a page may show of a member: masked ID and name, age (never the birth date)."""

    id: int
    id_masked: str
    name_masked: str
    age: int
    sex: str
    relation: str
    entry_reason: str
    entered_on: dt.date | None
    leave_reason: str
    left_on: dt.date | None


def member_rows(household: Household, *, on: dt.date | None = None) -> list[MemberRow]:
    """The household's members, head first, with their age on ``on`` (today by default)."""
    on = on or timezone.localdate()
    out = []
    for m in household.members.order_by("relation", "pk"):
        out.append(
            MemberRow(
                id=m.pk,
                id_masked=m.id_masked,
                name_masked=m.name_masked,
                age=age_on(m.birth_date, on),
                sex=m.sex,
                relation=m.relation,
                entry_reason=m.entry_reason,
                entered_on=m.entered_on,
                leave_reason=m.leave_reason,
                left_on=m.left_on,
            )
        )
    return out


@dataclass(frozen=True)
class HouseholdDetail:
    household: Household
    members: list[MemberRow]
    statuses: list[HouseholdStatus]
    incomes: list[HouseholdIncome]
    monitorings: list[Monitoring]


HEAD = "01"  # code list relation: 户主


def current_heads(members: list[MemberRow]) -> int:
    """How many current members (not left) are recorded as the 户主: a household should have one.

    >>> row = MemberRow(1, "", "", 40, "1", HEAD, "", None, "", None)
    >>> current_heads([row]), current_heads([row, row]), current_heads([])
    (1, 2, 0)
    """
    return sum(1 for m in members if m.relation == HEAD and not m.leave_reason and m.left_on is None)


def household_detail(household: Household) -> HouseholdDetail:
    """Everything a household page shows, for a household already fetched through the scope."""
    measures = Prefetch("measures", queryset=HelpMeasure.objects.order_by("started_on", "pk"))
    return HouseholdDetail(
        household=household,
        members=member_rows(household),
        statuses=list(household.statuses.order_by("start", "pk")),
        incomes=list(household.incomes.order_by("year")),
        monitorings=list(household.monitorings.prefetch_related(measures).order_by("identified_on", "pk")),
    )


def import_jobs_for(user: Any) -> QuerySet[Job]:
    """Registry import jobs the user started (their uploads and error reports are theirs only)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    return Job.objects.filter(kind=IMPORT_JOB, created_by=user)
