"""Batch resolvers of the ledger writes: what a batch of rows refers to, read with one query per
kind for the whole batch (docs/adr/0015-ledger-writes-in-batches.md).

Pairings the writer may see and their sides, regions by code or name, organisations by unified
social credit code or name (unknown names registered together), locked periods, the records
that already hold a natural key, the people already on those records, and the registry check of
every person named (``verify.check_people``). Each function takes the distinct values of the
batch and returns a mapping; the rules (``rules.py``) then work on plain values.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from xiezuo.core.models import AuditEntry
from xiezuo.ledgers.models import Period, PersonCheck
from xiezuo.ledgers.rules import pairing_name_key
from xiezuo.pairings.models import Organisation, Pairing, PairingSide
from xiezuo.regions.models import Region

_ADDRESS_CODES: tuple[float, frozenset[int]] | None = None
ADDRESS_CODES_TTL = 300.0


def address_codes() -> frozenset[int]:
    """Our regions' and code history's 6-digit codes, read at most every five minutes (they change
    only when regions are loaded)."""
    global _ADDRESS_CODES
    from xiezuo.registry.idnumbers import known_address_codes

    now = time.monotonic()
    if _ADDRESS_CODES is None or now - _ADDRESS_CODES[0] > ADDRESS_CODES_TTL:
        _ADDRESS_CODES = (now, known_address_codes())
    return _ADDRESS_CODES[1]


def visible_pairings(user: Any) -> Any:
    from xiezuo.core.scope import scope_for

    scope = scope_for(user, "ledger", "view")
    if scope.national:
        return Pairing.objects.all()
    if scope.is_empty:
        return Pairing.objects.none()
    return Pairing.objects.filter(
        Exists(PairingSide.objects.filter(scope.q("region_code"), pairing=OuterRef("pk")))
    )


def pairings(tokens: Collection[tuple[str, Any]], actor: Any) -> dict[tuple[str, Any], Pairing]:
    """Pairings the actor may see, by ("id", pk) or ("name", name without spaces): one query.

    A name matches the stored display name ("A → B") compared without spaces; when several
    pairings share it, the lowest level wins.
    """
    ids = {v for k, v in tokens if k == "id"}
    names = {v for k, v in tokens if k == "name"}
    if not ids and not names:
        return {}
    spelled = names | {n.replace("→", " → ") for n in names}
    out: dict[tuple[str, Any], Pairing] = {}
    for p in visible_pairings(actor).filter(Q(pk__in=ids) | Q(name__in=spelled)).order_by("-level", "pk"):
        # Lowest level last, so it overwrites: the same order the per-row lookup chose.
        if p.pk in ids:
            out[("id", p.pk)] = p
        key = pairing_name_key(p.name)
        if key in names:
            out[("name", key)] = p
    return out


def load_sides(found: Iterable[Pairing]) -> None:
    """Fill each pairing's (code, level) per side (``services.side_regions``' cache): one query."""
    by_id: dict[int, list[Pairing]] = {}
    for p in found:
        if "_side_regions" not in p.__dict__ or len(p.__dict__["_side_regions"]) < 2:
            by_id.setdefault(p.pk, []).append(p)
    if not by_id:
        return
    sides: dict[int, dict[str, list[tuple[int, int]]]] = {pk: {"helper": [], "helped": []} for pk in by_id}
    for s in PairingSide.objects.filter(pairing_id__in=list(by_id)).select_related("organisation__region"):
        if s.organisation_id is not None and s.region_id is None:
            assert s.organisation is not None
            pair = (s.organisation.region.code, s.organisation.region.level)
        else:
            pair = (s.region_code, s.region_level)
        sides[s.pairing_id].setdefault(s.side, []).append(pair)
    for pk, objs in by_id.items():
        for p in objs:
            p.__dict__["_side_regions"] = {side: sorted(v) for side, v in sides[pk].items()}


def regions(tokens: Collection[tuple[str, Any]]) -> dict[tuple[str, Any], int | None]:
    """Region tokens (``rules.region_token``) → 12-digit code, None when unknown or ambiguous."""
    codes = {v for k, v in tokens if k == "code"}
    names = {v for k, v in tokens if k == "name"}
    out: dict[tuple[str, Any], int | None] = {t: None for t in tokens}
    if not codes and not names:
        return out
    by_name: dict[str, list[int]] = {}
    for code, name in Region.objects.filter(Q(code__in=codes) | Q(name__in=names)).values_list(
        "code", "name"
    ):
        if code in codes:
            out[("code", code)] = code
        if name in names:
            by_name.setdefault(name, []).append(code)
    for name, found in by_name.items():
        out[("name", name)] = found[0] if len(found) == 1 else None
    return out


def locked_periods(
    ledger: str, keys: Collection[tuple[int, str, int, int]]
) -> set[tuple[int, str, int, int]]:
    """Which of (pairing id, side, year, period no) are approved and locked: one query."""
    if not keys:
        return set()
    rows = Period.objects.filter(
        ledger=ledger,
        locked=True,
        pairing_id__in={k[0] for k in keys},
        year__in={k[2] for k in keys},
    ).values_list("pairing_id", "side", "year", "period_no")
    return set(rows) & set(keys)


def records(model: Any, keys: Collection[str], pks: Collection[int]) -> tuple[dict[str, Any], dict[int, Any]]:
    """Records holding any of the natural ``keys`` or ids ``pks``: (by key, by id), one query."""
    if not keys and not pks:
        return {}, {}
    found = list(model.objects.filter(Q(key__in=keys) | Q(pk__in=pks)))
    return {r.key: r for r in found}, {r.pk: r for r in found}


def person_checks(ledger: str, record_ids: Collection[int]) -> dict[int, list[PersonCheck]]:
    """The people on each record: one query."""
    out: dict[int, list[PersonCheck]] = {}
    if record_ids:
        for c in PersonCheck.objects.filter(ledger=ledger, record_id__in=record_ids):
            out.setdefault(c.record_id, []).append(c)
    return out


def organisations(texts: Collection[str]) -> dict[str, Organisation]:
    """Organisations by cleaned cell text: an 18-character code matches its unified social credit
    code first, else the exact name (the oldest one when names repeat). One query."""
    from django.core.exceptions import ValidationError

    from xiezuo.pairings.services import clean_uscc

    usccs: dict[str, str] = {}
    for t in texts:
        if len(t) == 18 and t.isalnum():
            try:
                code = clean_uscc(t)
            except ValidationError:
                code = None
            if code:
                usccs[t] = code
    if not texts:
        return {}
    by_uscc: dict[str, Organisation] = {}
    by_name: dict[str, Organisation] = {}
    for org in Organisation.objects.filter(Q(uscc__in=set(usccs.values())) | Q(name__in=set(texts))).order_by(
        "-id"
    ):
        if org.uscc:
            by_uscc[org.uscc] = org
        by_name[org.name] = org  # oldest last, so it wins
    out: dict[str, Organisation] = {}
    for t in texts:
        hit = by_uscc.get(usccs[t]) if t in usccs else None
        hit = hit or by_name.get(t)
        if hit is not None:
            out[t] = hit
    return out


def register_organisations(
    wanted: Mapping[str, tuple[str, int]], *, actor: Any, via: str
) -> dict[str, Organisation]:
    """Register unknown organisations (name → (kind, region code)) together, each with its audit
    entry as ``pairings.services.create_organisation`` writes it: three queries for the batch.
    The caller has checked the organisation change scope of every place."""
    from xiezuo.core import audit

    if not wanted:
        return {}
    places = {code for _kind, code in wanted.values()}
    region_of: dict[int, Region] = {}
    for r in Region.objects.filter(code__in=places).order_by("level"):
        region_of[r.code] = r  # the most detailed level last, so it wins
    orgs = [
        Organisation(kind=kind, name=name.strip(), region=region_of[code], region_code=code)
        for name, (kind, code) in wanted.items()
    ]
    Organisation.objects.bulk_create(orgs)
    user = actor if getattr(actor, "is_authenticated", False) else None
    actor_name = user.username if user is not None else (actor if isinstance(actor, str) else "system")
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=user,
            actor_name=actor_name,
            action="create",
            object_type="organisation",
            object_id=str(org.pk),
            object_repr=org.name[:200],
            region_code=org.region_code,
            changes=audit.diff({}, audit.snapshot(org)),
            batch={},
            via=via,
        )
        for org in orgs
    )
    return {name: org for name, org in zip(wanted, orgs, strict=True)}


def validate_numbers(raws: Sequence[object]) -> list[tuple[str | None, str | None]]:
    """(normalised number, error code) of each raw ID cell, through ``registry.idnumbers`` in one
    vectorised call."""
    from xiezuo.registry.idnumbers import validate_ids

    if not raws:
        return []
    df = validate_ids(list(raws), as_of=timezone.localdate(), extra_codes=address_codes())
    return list(zip(df["normalised"].to_list(), df["error"].to_list(), strict=True))
