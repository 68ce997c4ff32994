"""Reads of the region tree. Regions are reference data that every signed-in user may read
(DESIGN.md D2); "everything under a region" is one indexed range on the code (D5)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from xiezuo.regions import rules
from xiezuo.regions.models import LEVEL_DIGITS, CodeHistory, Region, RegionFlag, full_code

SEARCH_LIMIT = 100


def regions_for(user: Any) -> QuerySet[Region]:
    """All regions for any signed-in user, grants or not (reference data, DESIGN.md D2); none
    for anonymous or inactive users."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Region.objects.none()
    return Region.objects.all()


def region_by_short_code(qs: QuerySet[Region], code: str) -> Region | None:
    """The region a 2/4/6/9/12-digit code names: the length decides the level, so 4419 is the
    prefecture 东莞 and 441900 its county node, although both are 441900000000."""
    if not code.isdigit() or len(code) not in LEVEL_DIGITS.values():
        return None
    return qs.filter(code=full_code(code), level=rules.level_of_short(code)).first()


def subtree(region: Region, *, include_self: bool = False) -> QuerySet[Region]:
    """Everything under a region: a single range query on the indexed code."""
    low, high = region.subtree
    qs = Region.objects.filter(code__gte=low, code__lt=high)
    return qs if include_self else qs.filter(level__gt=region.level)


def subtree_counts(region: Region) -> dict[int, int]:
    """Number of regions under ``region`` per level, e.g. {2: 9, 3: 88} for 贵州."""
    rows = subtree(region).values("level").annotate(n=Count("id")).order_by("level")
    return {row["level"]: row["n"] for row in rows}


def children_of(qs: QuerySet[Region], parent: Region | None) -> QuerySet[Region]:
    """Direct children (provinces for None), each annotated with its own number of children."""
    base = qs.filter(parent=parent) if parent is not None else qs.filter(level=1)
    return base.annotate(n_children=Count("children")).order_by("code", "level")


def ancestors(region: Region) -> list[Region]:
    """The parent chain from the province down to the region's parent."""
    chain: list[Region] = []
    node = region.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain[::-1]


def search(qs: QuerySet[Region], text: str) -> QuerySet[Region]:
    """Regions by code or name.

    A 2/4/6/9-digit code finds that region; a 12-digit code every node with that code (东莞's
    prefecture and county); other digit strings every code starting with them; anything else
    the regions whose name contains the text.
    """
    text = "".join(text.split())
    if not text:
        return qs.none()
    if text.isdigit() and len(text) <= 12:
        if len(text) == 12:
            found = qs.filter(code=int(text))
        elif len(text) in LEVEL_DIGITS.values():
            found = qs.filter(code=full_code(text), level=rules.level_of_short(text))
        else:
            low = int(text.ljust(12, "0"))
            found = qs.filter(code__gte=low, code__lt=low + 10 ** (12 - len(text)))
    else:
        found = qs.filter(name__contains=text)
    return found.select_related("parent", "parent__parent").order_by("level", "code")[:SEARCH_LIMIT]


def flags_of(region: Region) -> QuerySet[RegionFlag]:
    return region.flags.order_by("flag")


def code_history(region: Region) -> tuple[list[CodeHistory], list[CodeHistory]]:
    """Rows of the county code history for the region's own 6-digit code, and the older codes
    whose successors lead to it (through any number of changes)."""
    if region.level > 3:
        return [], []
    own_code = int(str(region.code)[:6])
    own = list(CodeHistory.objects.filter(code=own_code))
    history: dict[int, tuple[bool, list[list[int | None]]]] = {}
    for code, in_use, successors in CodeHistory.objects.values_list("code", "in_use", "successors"):
        was_in_use, succ = history.get(code, (False, []))
        history[code] = (was_in_use or in_use, succ + list(successors))
    older = [
        code
        for code, (in_use, _succ) in history.items()
        if not in_use and code != own_code and own_code in rules.current_codes(code, history)
    ]
    rows = list(CodeHistory.objects.filter(code__in=older, in_use=False).order_by("start_year", "code"))
    return own, rows
