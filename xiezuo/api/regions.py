"""Regions (reference data, readable by every signed-in user) and code lists."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from xiezuo.api.auth import user_of
from xiezuo.api.parsing import bad, code_or_error, find_region, parse_level, region_or_error
from xiezuo.api.schemas import (
    CodeHistoryOut,
    CodeListOut,
    CodeOut,
    ErrorOut,
    RegionDetailOut,
    RegionFlagOut,
    RegionOut,
    RegionPage,
    RegionPairingOut,
)
from xiezuo.core.codelists import entries, read_files
from xiezuo.core.models import CodeList
from xiezuo.pairings.models import PairingSide
from xiezuo.pairings.selectors import pairings_for
from xiezuo.regions.models import CodeHistory, Region, RegionFlag, full_code, short_code
from xiezuo.regions.rules import level_of_short

router = Router(tags=["regions"])
ERRORS = {400: ErrorOut, 404: ErrorOut}


def region_out(r: Region) -> RegionOut:
    parent = r.parent
    return RegionOut(
        code=r.short_code,
        code12=str(r.code),
        level=r.level,
        level_name=Region.Level(r.level).label,
        name=r.name,
        kind=r.kind,
        parent=short_code(parent.code, parent.level) if parent is not None else None,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
    )


def _region_or_404(code: str) -> Region:
    region = find_region(code, "code")
    if region is None:
        raise Http404
    return region


@router.get("/regions", response={200: RegionPage, **ERRORS})
def list_regions(
    request: HttpRequest,
    parent: str | None = Query(None, max_length=12, description="parent region code"),
    level: str | None = Query(
        None, max_length=12, description="1-5 or province/prefecture/county/township/village"
    ),
    q: str | None = Query(None, max_length=100, description="name contains, or (digits) code prefix"),
    flag: str | None = Query(None, max_length=64, description="code list region_flag, e.g. poverty_county"),
    after: str | None = Query(
        None, max_length=12, description="short code of the last region of the previous page"
    ),
    limit: int = Query(100, ge=1, le=500),
) -> RegionPage:
    """Regions in code order, one page at a time (keyset on the code)."""
    qs = Region.objects.select_related("parent")
    if parent is not None:
        qs = qs.filter(parent=region_or_error(parent, "parent"))
    if level is not None:
        qs = qs.filter(level=parse_level(level))
    if q is not None and q.strip():
        text = q.strip()
        if text.isascii() and text.isdigit():
            if len(text) > 12:
                raise bad("q", _("A code prefix has at most 12 digits."))
            low = int(text.ljust(12, "0"))
            qs = qs.filter(code__gte=low, code__lt=low + 10 ** (12 - len(text)))
        else:
            qs = qs.filter(name__contains=text)
    if flag is not None:
        flag_code = code_or_error("region_flag", flag, "flag")
        qs = qs.filter(Exists(RegionFlag.objects.filter(region=OuterRef("pk"), flag=flag_code)))
    if after is not None:
        text = after.strip()
        if not text.isascii() or not text.isdigit() or len(text) not in (2, 4, 6, 9, 12):
            raise bad("after", _("A region code has 2, 4, 6, 9 or 12 digits."))
        code, lev = full_code(text), level_of_short(text)
        qs = qs.filter(Q(code__gt=code) | Q(code=code, level__gt=lev))
    rows = list(qs.order_by("code", "level")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return RegionPage(items=[region_out(r) for r in rows], next=rows[-1].short_code if more else None)


@router.get("/regions/{code}", response={200: RegionDetailOut, **ERRORS})
def get_region(request: HttpRequest, code: str) -> RegionDetailOut:
    """One region with its flags, ancestors, code history and the pairings you may see on its sides."""
    region = _region_or_404(code)
    ancestors: list[Region] = []
    node = region.parent
    while node is not None:
        ancestors.append(node)
        node = Region.objects.select_related("parent").get(pk=node.pk).parent
    flags = [RegionFlagOut.from_orm(f) for f in region.flags.order_by("flag")]
    history = [
        CodeHistoryOut(
            code=str(h.code), name=h.name, province_name=h.province_name, prefecture_name=h.prefecture_name,
            level=h.level, in_use=h.in_use, status=h.status, start_year=h.start_year, end_year=h.end_year,
            successors=h.successors,
        )
        for h in CodeHistory.objects.filter(code=int(str(region.code)[:6]))
    ]  # fmt: skip
    sides = PairingSide.objects.filter(pairing=OuterRef("pk"), region=region)
    pairings = (
        pairings_for(user_of(request))
        .filter(Exists(sides))
        .order_by("start_year", "id")
        .prefetch_related("sides")
    )
    on_sides = [
        RegionPairingOut(
            id=p.pk, name=p.name, programme=p.programme, level=p.level, start_year=p.start_year,
            end_year=p.end_year, side=next(s.side for s in p.sides.all() if s.region_id == region.pk),
        )
        for p in pairings
    ]  # fmt: skip
    return RegionDetailOut(
        **region_out(region).dict(),
        flags=flags,
        ancestors=[region_out(a) for a in reversed(ancestors)],
        code_history=history,
        pairings=on_sides,
    )


@router.get("/regions/{code}/children", response={200: list[RegionOut], **ERRORS})
def region_children(request: HttpRequest, code: str) -> list[RegionOut]:
    """The regions one level below, in code order."""
    region = _region_or_404(code)
    return [region_out(r) for r in region.children.select_related("parent").order_by("code", "level")]


@router.get("/codelists/{key}", response={200: CodeListOut, **ERRORS}, tags=["code lists"])
def get_code_list(request: HttpRequest, key: str) -> CodeListOut:
    """A code list with its codes, Chinese and English labels and aliases (DESIGN.md D6)."""
    if not key.replace("_", "").isalnum() or len(key) > 64:
        raise Http404
    try:
        codes = entries(key)
    except KeyError:
        raise Http404 from None
    meta = CodeList.objects.filter(key=key).first()
    if meta is not None:
        name_zh, name_en, version = meta.name_zh, meta.name_en, meta.version
    else:
        spec = read_files()[key]
        name_zh, name_en = spec["name"]
        version = str(spec["version"])
    return CodeListOut(
        key=key, name_zh=name_zh, name_en=name_en, version=version,
        codes=[
            CodeOut(code=c.code, zh=c.zh, en=c.en, aliases=list(c.aliases),
                    valid_from=c.valid_from, valid_to=c.valid_to)
            for c in codes
        ],
    )  # fmt: skip
