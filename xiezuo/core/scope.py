"""The one scope function (DESIGN.md D2): which region subtrees a user may see or change.

Every selector and service asks ``scope_for(user, kind, action)`` and filters or checks with the
result. A region subtree is a half-open range of 12-digit codes (D5), so "in scope" is an indexed
range query on both databases. Out of scope looks exactly like not found (``get_or_404``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from xiezuo.accounts.roles import roles_for
from xiezuo.regions.models import subtree_range


class ScopeError(PermissionError):
    """A write that would leave or touch data outside the writer's scope; the transaction rolls back."""


@dataclass(frozen=True)
class Scope:
    """A set of region subtrees; ``national`` means the whole country.

    >>> s = Scope(national=False, ranges=((520000000000, 530000000000),))
    >>> s.contains(522732000000), s.contains(330000000000), s.is_empty
    (True, False, False)
    """

    national: bool
    ranges: tuple[tuple[int, int], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.national and not self.ranges

    def contains(self, code: int | None) -> bool:
        if self.national:
            return True
        if code is None:
            return False
        return any(low <= code < high for low, high in self.ranges)

    def contains_any(self, codes: Iterable[int | None]) -> bool:
        return any(self.contains(c) for c in codes)

    def q(self, field: str) -> Q:
        """A filter on an integer 12-digit code field: one range condition per granted subtree."""
        if self.national:
            return Q()
        if not self.ranges:
            return Q(pk__in=[])
        cond = Q()
        for low, high in self.ranges:
            cond |= Q(**{f"{field}__gte": low, f"{field}__lt": high})
        return cond


NOTHING = Scope(national=False)
EVERYTHING = Scope(national=True)


class SystemActor:
    """The system itself (loaders, the demo, migrations): national scope, logged as 'system'."""

    is_authenticated = False
    is_active = True
    username = "system"
    pk = None


SYSTEM = SystemActor()


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Drop ranges inside others so filters stay short.

    >>> _merge([(5, 10), (6, 7), (1, 2)])
    ((1, 2), (5, 10))
    """
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return tuple(out)


def active_grants(user: Any, today: dt.date | None = None) -> list[Any]:
    """The user's grants that have not expired, with their regions."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_xiezuo_grants", None)
    if cached is None:
        cached = list(user.grants.select_related("region"))
        user._xiezuo_grants = cached
    today = today or timezone.localdate()
    return [g for g in cached if g.expires_on is None or g.expires_on >= today]


def user_roles(user: Any) -> set[str]:
    return {g.role for g in active_grants(user)}


def scope_for(user: Any, kind: str, action: str = "view") -> Scope:
    """The regions in which ``user`` may do ``action`` on objects of ``kind`` (DESIGN.md D2)."""
    if isinstance(user, SystemActor):
        return EVERYTHING
    allowed = roles_for(kind, action)
    ranges: list[tuple[int, int]] = []
    for grant in active_grants(user):
        if grant.role not in allowed:
            continue
        if grant.region is None:
            return EVERYTHING
        ranges.append(subtree_range(grant.region.code, grant.region.level))
    return Scope(national=False, ranges=_merge(ranges)) if ranges else NOTHING


def can(user: Any, kind: str, action: str = "view") -> bool:
    """Whether the user holds any grant that allows ``action`` on ``kind`` somewhere."""
    return not scope_for(user, kind, action).is_empty


def get_or_404(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """Fetch from an already scoped queryset; missing and forbidden are the same 404."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj


def require(scope: Scope, codes: Iterable[int | None], *, all_: bool = False) -> None:
    """Raise ScopeError unless the codes lie in scope (any of them, or all with ``all_``)."""
    codes = list(codes)
    ok = all(scope.contains(c) for c in codes) if all_ else scope.contains_any(codes)
    if not ok:
        raise ScopeError("out of scope")
