"""Pairings (结对关系): what the user's scope reaches; writes through ``save_pairing``."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from xiezuo.api.auth import user_of
from xiezuo.api.parsing import bad, code_or_error, region_or_error
from xiezuo.api.schemas import (
    MAX_ID,
    DocumentOut,
    ErrorOut,
    PairingBriefOut,
    PairingDetailOut,
    PairingIn,
    PairingOut,
    PairingPage,
    SideIn,
    SideOut,
)
from xiezuo.core.scope import get_or_404
from xiezuo.pairings.models import Organisation, Pairing, PairingSide
from xiezuo.pairings.selectors import organisations_for, pairings_for
from xiezuo.pairings.services import SideMember, save_pairing
from xiezuo.regions.models import short_code

router = Router(tags=["pairings"])
ERRORS = {400: ErrorOut, 404: ErrorOut}


def _with_sides(qs: QuerySet[Pairing]) -> QuerySet[Pairing]:
    sides = PairingSide.objects.select_related("region", "organisation").order_by("region_code", "id")
    return qs.prefetch_related(Prefetch("sides", queryset=sides))


def _side_out(s: PairingSide) -> SideOut:
    if s.organisation is not None:
        return SideOut(
            region=None,
            organisation=s.organisation_id,
            name=s.organisation.name,
            region_code=str(s.region_code),
        )
    assert s.region is not None
    return SideOut(
        region=short_code(s.region.code, s.region.level),
        organisation=None,
        name=s.region.name,
        region_code=str(s.region_code),
    )


def _pairing_fields(p: Pairing, visible_parents: set[int]) -> dict[str, object]:
    sides = list(p.sides.all())
    return {
        "id": p.pk,
        "name": p.name,
        "programme": p.programme,
        "level": p.level,
        "start_year": p.start_year,
        "end_year": p.end_year,
        "parent": p.parent_id if p.parent_id in visible_parents else None,
        "source": p.source,
        "helper": [_side_out(s) for s in sides if s.side == PairingSide.HELPER],
        "helped": [_side_out(s) for s in sides if s.side == PairingSide.HELPED],
    }


def _visible_parents(user: object, pairings: Iterable[Pairing]) -> set[int]:
    """Parents are shown only when the user may see them too (D2: no fact leaks)."""
    ids = {p.parent_id for p in pairings if p.parent_id is not None}
    if not ids:
        return set()
    return set(pairings_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def _detail(user: object, pairing_id: int) -> PairingDetailOut:
    p = get_or_404(_with_sides(pairings_for(user)), pk=pairing_id)
    children = pairings_for(user).filter(parent=p).order_by("id")
    return PairingDetailOut(
        **_pairing_fields(p, _visible_parents(user, [p])),  # type: ignore[arg-type]
        children=[PairingBriefOut.from_orm(c) for c in children],
        documents=[DocumentOut.from_orm(d) for d in p.documents.order_by("id")],
    )


@router.get("/pairings", response={200: PairingPage, **ERRORS})
def list_pairings(
    request: HttpRequest,
    programme: str | None = Query(None, max_length=64, description="code list programme"),
    level: str | None = Query(None, max_length=64, description="code list pairing_level"),
    region: str | None = Query(None, max_length=12, description="a side lies in this region's subtree"),
    side: str | None = Query(None, max_length=8, description="helper or helped: which side `region` is on"),
    year: int | None = Query(None, ge=1949, le=2100, description="active in this year"),
    parent: int | None = Query(None, ge=1, le=MAX_ID, description="sub-pairings of this pairing"),
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="id of the last pairing of the previous page"
    ),
    limit: int = Query(100, ge=1, le=500),
) -> PairingPage:
    """Pairings with a side in your scope, in id order, one page at a time."""
    user = user_of(request)
    qs = pairings_for(user)
    if programme is not None:
        qs = qs.filter(programme=code_or_error("programme", programme, "programme"))
    if level is not None:
        qs = qs.filter(level=code_or_error("pairing_level", level, "level"))
    if side is not None and side not in (PairingSide.HELPER, PairingSide.HELPED):
        raise bad("side", _("The side is helper or helped."))
    if side is not None and region is None:
        raise bad("side", _("Give a region with the side."))
    if region is not None:
        low, high = region_or_error(region, "region").subtree
        sides = PairingSide.objects.filter(pairing=OuterRef("pk"), region_code__gte=low, region_code__lt=high)
        if side is not None:
            sides = sides.filter(side=side)
        qs = qs.filter(Exists(sides))
    if year is not None:
        qs = qs.filter(Q(end_year__isnull=True) | Q(end_year__gte=year), start_year__lte=year)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = list(_with_sides(qs).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    parents = _visible_parents(user, rows)
    return PairingPage(
        items=[PairingOut(**_pairing_fields(p, parents)) for p in rows],  # type: ignore[arg-type]
        next=rows[-1].pk if more else None,
    )


@router.get("/pairings/{id}", response={200: PairingDetailOut, **ERRORS})
def get_pairing(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> PairingDetailOut:
    """One pairing with its sides, the sub-pairings you may see and its documents."""
    return _detail(user_of(request), id)


def _members(user: object, members: list[SideIn], field: str) -> list[SideMember]:
    """Resolve side members; an organisation outside the user's scope is as unknown as a missing one."""
    out: list[SideMember] = []
    errors: list[str] = []
    orgs = organisations_for(user).select_related("region")
    for i, m in enumerate(members):
        if (m.region is None) == (m.organisation is None):
            errors.append(_("Member {n}: give either a region or an organisation.").format(n=i + 1))
        elif m.region is not None:
            try:
                out.append(region_or_error(m.region, field))
            except ValidationError as e:
                errors.extend(e.messages)
        elif m.organisation is not None:
            org: Organisation | None = orgs.filter(pk=m.organisation).first()
            if org is None:
                errors.append(_("Unknown organisation: {id}").format(id=m.organisation))
            else:
                out.append(org)
    if errors:
        raise ValidationError({field: errors})
    return out


def _save(request: HttpRequest, payload: PairingIn, pairing: Pairing | None) -> Pairing:
    user = user_of(request)
    errors: dict[str, list[str]] = {}
    sides: dict[str, list[SideMember]] = {}
    for field in ("helper", "helped"):
        try:
            sides[field] = _members(user, getattr(payload, field), field)
        except ValidationError as e:
            errors.update(e.message_dict)
    parent = None
    if payload.parent is not None:
        parent = pairings_for(user).filter(pk=payload.parent).first()
        if parent is None:
            errors["parent"] = [_("Unknown pairing: {id}").format(id=payload.parent)]
    if errors:
        raise ValidationError(errors)
    return save_pairing(
        actor=user,
        programme=payload.programme,
        level=payload.level,
        start_year=payload.start_year,
        end_year=payload.end_year,
        helper=sides["helper"],
        helped=sides["helped"],
        parent=parent,
        source=payload.source,
        pairing=pairing,
        via="api",
    )


@router.post("/pairings", response={201: PairingDetailOut, **ERRORS})
def post_pairing(request: HttpRequest, payload: PairingIn) -> Status[PairingDetailOut]:
    """Create a pairing; sides are lists of ``{"region": "code"}`` or ``{"organisation": id}``."""
    obj = _save(request, payload, None)
    return Status(201, _detail(user_of(request), obj.pk))


@router.put("/pairings/{id}", response={200: PairingDetailOut, **ERRORS})
def put_pairing(
    request: HttpRequest, payload: PairingIn, id: int = Path(..., ge=1, le=MAX_ID)
) -> PairingDetailOut:
    """Replace a pairing's fields and sides."""
    pairing = get_or_404(pairings_for(user_of(request)), pk=id)
    if payload.parent == pairing.pk:
        raise bad("parent", _("A pairing cannot be its own parent."))
    obj = _save(request, payload, pairing)
    return _detail(user_of(request), obj.pk)
