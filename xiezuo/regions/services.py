"""Writes of region flags maintained by coordinators: scope-checked, audited (DESIGN.md D2, D10)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xiezuo.core import audit
from xiezuo.core.scope import require, scope_for
from xiezuo.regions.models import Region, RegionFlag

# Flags users maintain, and the levels each applies to (1 province … 5 village). Loaded flags
# (poverty county, 三区三州) and derived ones (ethnic autonomy) are changed only by loaders.
MAINTAINED_FLAGS: dict[str, frozenset[int]] = {
    "poor_village": frozenset({5}),
    "deep_village": frozenset({5}),
    "extreme_township": frozenset({4}),
    "deep_county": frozenset({3}),
    "treated_as_west": frozenset({1, 2, 3}),
}
FIELDS = ["flag", "value", "origin", "source", "valid_from", "valid_to"]


def set_region_flag(
    *, actor: Any, region: Region, flag: str, value: str | None, source: str, via: str = "web"
) -> RegionFlag | None:
    """Set a maintained flag on a region (``value`` may be blank, e.g. for a yes/no flag), or
    remove it with ``value=None``. Returns the flag, or None when removed.

    Raises ScopeError when the region lies outside the actor's scope for changing regions, and
    ValidationError for a flag users may not maintain, a wrong level, a loaded or derived flag,
    or a missing source.
    """
    with transaction.atomic():
        require(scope_for(actor, "region", "change"), [region.code])
        if flag not in MAINTAINED_FLAGS:
            raise ValidationError({"flag": _("This flag is not maintained by users.")})
        if region.level not in MAINTAINED_FLAGS[flag]:
            raise ValidationError({"flag": _("This flag does not apply to regions of this level.")})
        existing = RegionFlag.objects.select_for_update().filter(region=region, flag=flag).first()
        if existing is not None and existing.origin != "maintained":
            raise ValidationError(
                {"flag": _("Only maintained flags can be changed; this one is loaded or derived.")}
            )
        source = (source or "").strip()
        if value is not None and not source:
            raise ValidationError({"source": _("Give the source of a maintained flag (document, year).")})
        before = audit.snapshot(existing, FIELDS) if existing is not None else {}
        if value is None:
            if existing is None:
                return None
            flag_id = existing.pk
            existing.delete()
            audit.record(
                actor=actor,
                action="delete",
                object_type="region_flag",
                object_id=flag_id,
                object_repr=f"{region.name} {flag}",
                region_code=region.code,
                changes=audit.diff(before, {}),
                via=via,
            )
            return None
        obj = existing or RegionFlag(region=region, flag=flag, origin="maintained")
        obj.value, obj.source = value.strip(), source
        obj.save()
        audit.record(
            actor=actor,
            action="update" if existing else "create",
            object_type="region_flag",
            object_id=obj.pk,
            object_repr=f"{region.name} {flag}",
            region_code=region.code,
            changes=audit.diff(before, audit.snapshot(obj, FIELDS)),
            via=via,
        )
    return obj
