"""Organisations, as far as the user's scope reaches (DESIGN.md D2, D7)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from xiezuo.api.auth import user_of
from xiezuo.api.parsing import code_or_error, region_or_error
from xiezuo.api.schemas import MAX_ID, ErrorOut, OrganisationIn, OrganisationOut, OrganisationPage
from xiezuo.core.scope import get_or_404
from xiezuo.pairings.models import Organisation
from xiezuo.pairings.selectors import organisations_for
from xiezuo.pairings.services import create_organisation

router = Router(tags=["organisations"])
ERRORS = {400: ErrorOut, 404: ErrorOut}


def organisation_out(o: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=o.pk, kind=o.kind, name=o.name, uscc=o.uscc, region=o.region.short_code, region_name=o.region.name
    )


@router.get("/organisations", response={200: OrganisationPage, **ERRORS})
def list_organisations(
    request: HttpRequest,
    kind: str | None = Query(None, max_length=64, description="code list org_kind"),
    region: str | None = Query(None, max_length=12, description="registered in this region's subtree"),
    q: str | None = Query(None, max_length=100, description="name contains, or unified social credit code"),
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="id of the last organisation of the previous page"
    ),
    limit: int = Query(100, ge=1, le=500),
) -> OrganisationPage:
    """Organisations registered in your scope, in id order, one page at a time."""
    qs = organisations_for(user_of(request)).select_related("region")
    if kind is not None:
        qs = qs.filter(kind=code_or_error("org_kind", kind, "kind"))
    if region is not None:
        low, high = region_or_error(region, "region").subtree
        qs = qs.filter(region_code__gte=low, region_code__lt=high)
    if q is not None and q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__contains=text) | Q(uscc=text.upper()))
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return OrganisationPage(items=[organisation_out(o) for o in rows], next=rows[-1].pk if more else None)


@router.get("/organisations/{id}", response={200: OrganisationOut, **ERRORS})
def get_organisation(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> OrganisationOut:
    return organisation_out(get_or_404(organisations_for(user_of(request)).select_related("region"), pk=id))


@router.post("/organisations", response={201: OrganisationOut, **ERRORS})
def post_organisation(request: HttpRequest, payload: OrganisationIn) -> Status[OrganisationOut]:
    """Register an organisation in a region of your scope."""
    org = create_organisation(
        actor=user_of(request),
        kind=payload.kind,
        name=payload.name,
        region=region_or_error(payload.region, "region"),
        uscc=payload.uscc,
        via="api",
    )
    return Status(201, organisation_out(org))
