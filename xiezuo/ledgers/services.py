"""The ledger services: the one way records are read for writing and written (D2, D10; docs/adr/0015).

Forms, the API, imports and the demo call the small actions here: :func:`create_record`,
:func:`update_record` (and :func:`save_record`, which picks one of them for a form or API call),
:func:`delete_record`, :func:`confirm_record` and :func:`import_rows` for a whole import batch.
They all go through one internal write (``writes.py``) that holds the transaction, re-checks the
writer's scope (out of scope raises ``ScopeError``, which pages and the API turn into 404), refuses
rows of a locked period ("该期间已审核锁定") and writes the audit. Resolving what rows refer to
happens once per batch (``resolve.py``); the row rules are pure (``rules.py``). Errors are
``(column key, zh, en)`` triples so that a form shows them by field, an import writes them in
Chinese and the API answers in English. Periods and attachments live in ``periods.py`` and
``attachments.py`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError, require, scope_for
from xiezuo.ledgers import resolve, verify, writes
from xiezuo.ledgers.models import Attachment, LedgerRecord, PersonCheck
from xiezuo.ledgers.rules import LOCKED_EN, LOCKED_ZH, Error, natural_key
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType
from xiezuo.ledgers.writes import KEEP_PERSON, Row
from xiezuo.pairings.models import Pairing, PairingSide
from xiezuo.regions.models import subtree_range


class RecordInvalid(ValueError):
    """The row or form cannot be saved; ``errors`` are (column key, message zh, message en)."""

    def __init__(self, errors: list[Error]) -> None:
        super().__init__("; ".join(f"{k}: {en}" for k, _zh, en in errors))
        self.errors = errors

    def messages(self, language: str | None = None) -> list[tuple[str, str]]:
        zh = (language or get_language() or "zh-hans").lower().startswith("zh")
        return [(k, z if zh else e) for k, z, e in self.errors]

    def as_validation_error(self) -> ValidationError:
        out: dict[str, list[str]] = {}
        for key, message in self.messages():
            out.setdefault(key or "__all__", []).append(message)
        return ValidationError(out)


# --- what a user may see and change -------------------------------------------------------------


def side_regions(pairing: Pairing, side: str) -> list[tuple[int, int]]:
    """(12-digit code, level) of each region of a pairing's side (organisations: their region)."""
    cache = pairing.__dict__.setdefault("_side_regions", {})
    if side not in cache:
        out = []
        for s in pairing.sides.filter(side=side).select_related("organisation__region"):
            if s.organisation_id is not None and s.region_id is None:
                assert s.organisation is not None
                region = s.organisation.region
                out.append((region.code, region.level))
            else:
                out.append((s.region_code, s.region_level))
        cache[side] = sorted(out)
    out_: list[tuple[int, int]] = cache[side]
    return out_


def in_side(pairing: Pairing, side: str, code: int) -> bool:
    return any(
        low <= code < high for low, high in (subtree_range(c, lv) for c, lv in side_regions(pairing, side))
    )


def records_for(user: Any, ltype: LedgerType, action: str = "view") -> QuerySet[Any]:
    """Records the user may see (their pairing has a side in the user's ledger scope) or change
    (the record's own place lies in the user's change scope)."""
    qs = ltype.model.objects.all()
    scope = scope_for(user, "ledger", action)
    if scope.national:
        return qs
    if scope.is_empty:
        return qs.none()
    if action == "change":
        return qs.filter(scope.q("region_code"))
    sides = PairingSide.objects.filter(scope.q("region_code"), pairing=OuterRef("pairing"))
    return qs.filter(Exists(sides))


def visible_pairings(user: Any) -> QuerySet[Pairing]:
    out: QuerySet[Pairing] = resolve.visible_pairings(user)
    return out


def may_see_people(user: Any, record: LedgerRecord) -> bool:
    """Masked IDs of the people on a record are shown to registry viewers of its helped area only;
    everyone else (the helper side) sees the check result alone (D2)."""
    scope = scope_for(user, "registry", "view")
    return any(scope.contains(code) for code, _lv in side_regions(record.pairing, HELPED))


# --- writing -----------------------------------------------------------------------------------


def _one(ltype: LedgerType, row: Row, *, actor: Any, opts: writes.Options) -> Any:
    """One form or API write: raise what the row met, else return the record with ``outcome``."""
    writes.write(ltype, [row], actor=actor, opts=opts)
    if row.refused:
        raise ScopeError("out of scope")
    if row.errors:
        raise RecordInvalid(row.errors)
    row.obj.outcome = row.outcome
    return row.obj


def _interactive(via: str) -> bool:
    return via in ("web", "form", "api")


def create_record(
    ltype: LedgerType,
    *,
    actor: Any,
    values: Mapping[str, Any],
    pairing: Pairing | None = None,
    upsert: bool = False,
    via: str = "web",
) -> Any:
    """Create a record from parsed ``values``; a row whose natural key exists is refused as a
    duplicate, or with ``upsert`` (the demo) updates that record. ``pairing``: the pairing when
    the values name none. The record's ``outcome`` is created, updated or unchanged."""
    opts = writes.Options(
        mode=writes.UPSERT if upsert else writes.CREATE,
        via=via,
        default_pairing=pairing,
        check_rate=_interactive(via),
    )
    return _one(ltype, Row(values=dict(values)), actor=actor, opts=opts)


def update_record(
    ltype: LedgerType, *, actor: Any, record: LedgerRecord, values: Mapping[str, Any], via: str = "web"
) -> Any:
    """Update ``record`` from ``values`` (a person column may be :data:`KEEP_PERSON`)."""
    opts = writes.Options(mode=writes.UPDATE, via=via, check_rate=_interactive(via))
    return _one(ltype, Row(values=dict(values), record=record), actor=actor, opts=opts)


def save_record(
    ltype: LedgerType,
    *,
    actor: Any,
    values: Mapping[str, Any],
    record: LedgerRecord | None = None,
    via: str = "web",
    upsert: bool = False,
    pairing: Pairing | None = None,
) -> Any:
    """A form's or API call's save: :func:`update_record` of ``record`` when given, else
    :func:`create_record`."""
    if record is not None:
        return update_record(ltype, actor=actor, record=record, values=values, via=via)
    return create_record(ltype, actor=actor, values=values, pairing=pairing, upsert=upsert, via=via)


def import_rows(
    ltype: LedgerType,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    actor: Any,
    pairing: Pairing | None = None,
    via: str = "import",
    seen: dict[str, int] | None = None,
    parsed: bool = True,
) -> list[Row]:
    """Write a batch of (row number, values) as an import does: a row whose natural key exists
    updates that record, a row repeating an earlier one of the same file (``seen``, kept by the
    caller across batches) is refused, one audit entry for the batch. Returns every row with its
    ``outcome`` (created / updated / unchanged) or its ``errors`` / ``refused``.

    ``parsed``: the values come from the tabular reader (cells already cleaned and coded).
    """
    out = [Row(values=dict(values), number=number) for number, values in rows]
    opts = writes.Options(
        mode=writes.UPSERT,
        via=via,
        default_pairing=pairing,
        parsed=parsed,
        audit_each=False,
        seen=seen if seen is not None else {},
    )
    writes.write(ltype, out, actor=actor, opts=opts)
    return out


def require_unlocked(ltype: LedgerType, record: LedgerRecord) -> None:
    """Refuse a change to a record of a locked period."""
    keys = {(record.pairing_id, record.side, record.year, record.period_no)}
    if resolve.locked_periods(ltype.key, keys):
        raise RecordInvalid([("", LOCKED_ZH, LOCKED_EN)])


def delete_record(ltype: LedgerType, *, actor: Any, record: LedgerRecord, via: str = "web") -> None:
    require(scope_for(actor, "ledger", "change"), [record.region_code])
    with transaction.atomic():
        require_unlocked(ltype, record)
        snap = audit.snapshot(record)
        pk = record.pk
        PersonCheck.objects.filter(ledger=ltype.key, record_id=pk).delete()
        Attachment.objects.filter(ledger=ltype.key, record_id=pk).delete()
        record.delete()
        audit.record(
            actor=actor,
            action="delete",
            object_type=ltype.key,
            object_id=pk,
            object_repr=f"{ltype.zh} #{pk}",
            region_code=snap.get("region_code"),
            changes=audit.diff(snap, {}),
            via=via,
        )


def may_confirm(user: Any, ltype: LedgerType, record: LedgerRecord) -> bool:
    if ltype.confirm_side is None:
        return False
    scope = scope_for(user, "ledger", "change")
    return any(scope.contains(code) for code, _lv in side_regions(record.pairing, ltype.confirm_side))


def confirm_record(
    ltype: LedgerType, *, actor: Any, record: LedgerRecord, confirmed: bool, note: str = "", via: str = "web"
) -> LedgerRecord:
    """The other side confirms (or disputes) a record, e.g. the helped finance office an arrival."""
    if not may_confirm(actor, ltype, record):
        raise ScopeError("not the confirming side")
    require_unlocked(ltype, record)
    if not confirmed and not note.strip():
        raise RecordInvalid([("note", "有异议时请说明原因", "say why when disputing")])
    with transaction.atomic():
        before = audit.snapshot(record, ["confirmation", "confirm_note"])
        record.confirmation = LedgerRecord.CONFIRMED if confirmed else LedgerRecord.DISPUTED
        record.confirmed_by = actor if getattr(actor, "is_authenticated", False) else None
        record.confirmed_at = timezone.now()
        record.confirm_note = note.strip()[:500]
        record.save(
            update_fields=["confirmation", "confirmed_by", "confirmed_at", "confirm_note", "updated_at"]
        )
        audit.record(
            actor=actor,
            action="confirm" if confirmed else "dispute",
            object_type=ltype.key,
            object_id=record.pk,
            object_repr=f"{ltype.zh} #{record.pk}",
            region_code=record.region_code,
            changes=audit.diff(before, audit.snapshot(record, ["confirmation", "confirm_note"])),
            via=via,
        )
    return record


def people_of(ltype: LedgerType, records: Iterable[LedgerRecord]) -> dict[int, list[PersonCheck]]:
    ids = [r.pk for r in records]
    out: dict[int, list[PersonCheck]] = {}
    for c in PersonCheck.objects.filter(ledger=ltype.key, record_id__in=ids).order_by("field", "id"):
        out.setdefault(c.record_id, []).append(c)
    return out


# Periods and attachments, re-exported for the callers that know them here (imported last: they
# use what this module defines).
from xiezuo.ledgers.attachments import (  # noqa: E402
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT,
    add_attachment,
    add_period_attachment,
    may_attach_to_period,
)
from xiezuo.ledgers.periods import (  # noqa: E402
    _period_action,
    advance_period,
    get_period,
    grant_unlock,
    may_advance,
    may_grant_unlock,
    may_request_unlock,
    may_return,
    next_step,
    request_unlock,
    return_period,
)

__all__ = [
    "ATTACHMENT_TYPES",
    "HELPED",
    "HELPER",
    "KEEP_PERSON",
    "LOCKED_ZH",
    "MAX_ATTACHMENT",
    "Error",
    "RecordInvalid",
    "_period_action",
    "add_attachment",
    "add_period_attachment",
    "advance_period",
    "confirm_record",
    "create_record",
    "delete_record",
    "get_period",
    "grant_unlock",
    "import_rows",
    "may_advance",
    "may_attach_to_period",
    "may_grant_unlock",
    "may_request_unlock",
    "may_return",
    "natural_key",
    "next_step",
    "records_for",
    "request_unlock",
    "return_period",
    "save_record",
    "update_record",
    "verify",
]
