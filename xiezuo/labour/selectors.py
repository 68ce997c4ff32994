"""Reads of the labour ledgers; above all the matching of a job posting with registered labourers.

The matching reads the registry, so it is for the helped county's labour staff only: users whose
``registry`` view scope contains the county and who hold a county clerk or helped coordinator grant
over it. Everyone else — national coordinators, the helper side, other counties — gets the same
404 as for a posting that does not exist (D2). It shows the fewest fields that let staff call
people to a job (masked ID and name, sex, age, village, labour skill), never health or disability,
at most :data:`MATCH_LIMIT` rows, and every use is logged as an access to personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404

from xiezuo.accounts.roles import CLERK, HELPED
from xiezuo.core import audit
from xiezuo.core.crypto import age_on
from xiezuo.core.scope import active_grants, get_or_404, scope_for
from xiezuo.labour import rules
from xiezuo.labour.models import JobPosting, Placement
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.services import records_for, side_regions
from xiezuo.ledgers.types import HELPED as HELPED_SIDE
from xiezuo.ledgers.types import get
from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import Region, subtree_range
from xiezuo.registry.models import Member

MATCH_LIMIT = 50
MATCH_ACTION = "labour.match"
STAFF_ROLES = frozenset({CLERK, HELPED})
# Labour skill codes (aab010) of people who cannot take a job: 丧失劳动力, 无劳动力.
NO_LABOUR = ("4", "5")


def postings_for(user: Any) -> Any:
    """Job postings the user may see (either side of their pairing)."""
    return records_for(user, get("postings"))


def helped_counties(pairing: Pairing) -> list[int]:
    """12-digit codes of the counties on the pairing's helped side (a prefecture side: all its
    counties; a township or village side: its county)."""
    out: set[int] = set()
    for code, level in side_regions(pairing, HELPED_SIDE):
        if level >= 3:
            out.add(code // 10**6 * 10**6)
        else:
            low, high = subtree_range(code, level)
            out.update(
                Region.objects.filter(level=3, code__gte=low, code__lt=high).values_list("code", flat=True)
            )
    return sorted(out)


def staff_counties(user: Any, pairing: Pairing) -> list[int]:
    """The helped counties of ``pairing`` where ``user`` is labour staff (see the module docstring)."""
    registry = scope_for(user, "registry", "view")
    grants = [g for g in active_grants(user) if g.role in STAFF_ROLES and g.region is not None]
    return [
        county
        for county in helped_counties(pairing)
        if registry.contains(county) and any(g.region.contains_code(county) for g in grants)
    ]


@dataclass(frozen=True)
class Candidate:
    """One proposed labourer: only what staff need to call them (no health, no birth date)."""

    member_id: int
    id_masked: str
    name_masked: str
    sex: str
    age: int
    village_code: int
    village: str
    labour_skill: str
    distance: int


@dataclass(frozen=True)
class Match:
    posting: JobPosting
    county: int
    counties: list[int]
    on: dt.date
    candidates: list[Candidate]


def distance_order(workplace: int, field: str = "region_code") -> Case:
    """``rules.distance`` as SQL: integer ranges around the workplace, nearest first (D5)."""
    whens = []
    for d, width in enumerate((12, 9, 6, 4, 2)):
        step = 10 ** (12 - width)
        low = workplace // step * step
        whens.append(When(Q(**{f"{field}__gte": low, f"{field}__lt": low + step}), then=Value(d)))
    return Case(*whens, default=Value(5), output_field=IntegerField())


def open_placement_people(on: dt.date) -> Any:
    """Keyed hashes of people with a placement still open on ``on`` (any pairing)."""
    open_ids = Placement.objects.filter(Q(end__isnull=True) | Q(end__gte=on)).values("id")
    return PersonCheck.objects.filter(ledger="placements", record_id__in=open_ids).values("id_hmac")


def candidates(posting: JobPosting, county: int, *, limit: int = MATCH_LIMIT) -> list[Candidate]:
    """Registered labourers of ``county`` for ``posting``: of working age on its first day, still in
    their household, not in an open placement, able to work, nearest to the workplace first."""
    on = posting.valid_from
    born_after, born_by = rules.working_age_births(on)
    low, high = subtree_range(county, 3)
    rows = list(
        Member.objects.filter(
            region_code__gte=low, region_code__lt=high, birth_date__gt=born_after, birth_date__lte=born_by
        )
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=on))
        .filter(Q(entered_on__isnull=True) | Q(entered_on__lte=on))
        .exclude(id_hmac__in=open_placement_people(on))
        .exclude(detail__labour_skill__in=NO_LABOUR)
        .annotate(distance=distance_order(posting.workplace_region))
        .order_by("distance", "region_code", "id")
        .values(
            "id",
            "id_masked",
            "name_masked",
            "sex",
            "birth_date",
            "region_code",
            "detail__labour_skill",
            "distance",
        )[: min(limit, MATCH_LIMIT)]
    )
    names: dict[int, str] = {}
    codes = {r["region_code"] for r in rows}
    for code, name in Region.objects.filter(code__in=codes).order_by("-level").values_list("code", "name"):
        names[code] = name
    return [
        Candidate(
            member_id=r["id"],
            id_masked=r["id_masked"],
            name_masked=r["name_masked"],
            sex=r["sex"],
            age=age_on(r["birth_date"], on),
            village_code=r["region_code"],
            village=names.get(r["region_code"], ""),
            labour_skill=r["detail__labour_skill"] or "",
            distance=r["distance"],
        )
        for r in rows
    ]


def match_posting(user: Any, posting_id: int, *, county: int | None = None, via: str = "web") -> Match:
    """The matching of one posting for one of the user's counties, logged; 404 for anyone else."""
    posting = get_or_404(postings_for(user).select_related("employer", "pairing"), pk=posting_id)
    counties = staff_counties(user, posting.pairing)
    if not counties:
        raise Http404
    chosen = county if county in counties else counties[0]
    found = candidates(posting, chosen)
    audit.record(
        actor=user,
        action=MATCH_ACTION,
        object_type="posting",
        object_id=posting.pk,
        object_repr=f"{posting.title} #{posting.pk}",
        region_code=chosen,
        batch={"shown": len(found)},
        via=via,
    )
    return Match(posting=posting, county=chosen, counties=counties, on=posting.valid_from, candidates=found)
