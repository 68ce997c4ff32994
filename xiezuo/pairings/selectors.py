"""Reads of organisations and pairings: every query starts from what the user may see (D2)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from xiezuo.core.scope import scope_for
from xiezuo.pairings.models import Organisation, Pairing, PairingSide


def pairings_for(user: Any, action: str = "view") -> QuerySet[Pairing]:
    """Pairings whose helper or helped side lies in the user's scope."""
    scope = scope_for(user, "pairing", action)
    qs = Pairing.objects.all()
    if scope.national:
        return qs
    if scope.is_empty:
        return qs.none()
    sides = PairingSide.objects.filter(scope.q("region_code"), pairing=OuterRef("pk"))
    return qs.filter(Exists(sides))


def organisations_for(user: Any, action: str = "view") -> QuerySet[Organisation]:
    """Organisations registered in the user's scope."""
    scope = scope_for(user, "organisation", action)
    return (
        Organisation.objects.filter(scope.q("region_code"))
        if not scope.is_empty
        else Organisation.objects.none()
    )


def sides_of(pairing: Pairing) -> dict[str, list[PairingSide]]:
    out: dict[str, list[PairingSide]] = {PairingSide.HELPER: [], PairingSide.HELPED: []}
    for side in pairing.sides.select_related("region", "organisation").order_by("region_code"):
        out[side.side].append(side)
    return out
