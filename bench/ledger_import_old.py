# ruff: noqa
# mypy: ignore-errors
# The per-row ledger write as it was before ADR 0015: xiezuo/ledgers/services.py of commit 89c6774,
# copied verbatim below for bench/ledger_import.py (the side-by-side run) and reachable from nowhere
# else. Do not import it from the application.
"""Writes of ledger records, confirmations, periods and attachments: the one way in (D2, D10).

Forms, the API, imports and the demo all call :func:`save_record`. It resolves the pairing, year
and place, checks scope (out of scope raises ``ScopeError``, which pages and the API turn into 404),
refuses rows of a locked period ("该期间已审核锁定"), runs the ledger's own checks, registers unknown
organisations, checks the people named against the registry, and writes the record, its person
checks and one audit entry in one transaction. Errors are ``(column key, zh, en)`` triples so that
a form shows them by field, an import writes them in Chinese and the API answers in English.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from xiezuo.core import audit
from xiezuo.core.codelists import lookup
from xiezuo.core.crypto import get_cipher, mask_id
from xiezuo.core.scope import ScopeError, require, scope_for
from xiezuo.ledgers import flows, verify
from xiezuo.ledgers.models import Attachment, LedgerRecord, Period, PeriodAction, PersonCheck
from xiezuo.ledgers.types import BOTH, HELPED, HELPER, LedgerType
from xiezuo.pairings.models import Organisation, Pairing, PairingSide
from xiezuo.regions.models import Region, subtree_range

LOCKED_ZH = "该期间已审核锁定"
LOCKED_EN = "the period is approved and locked"
Error = tuple[str, str, str]


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
    scope = scope_for(user, "ledger", "view")
    if scope.national:
        return Pairing.objects.all()
    if scope.is_empty:
        return Pairing.objects.none()
    return Pairing.objects.filter(
        Exists(PairingSide.objects.filter(scope.q("region_code"), pairing=OuterRef("pk")))
    )


def may_see_people(user: Any, record: LedgerRecord) -> bool:
    """Masked IDs of the people on a record are shown to registry viewers of its helped area only;
    everyone else (the helper side) sees the check result alone (D2)."""
    scope = scope_for(user, "registry", "view")
    return any(scope.contains(code) for code, _lv in side_regions(record.pairing, HELPED))


# --- resolving cells ---------------------------------------------------------------------------


def resolve_pairing(value: Any, actor: Any) -> Pairing | None:
    """A pairing the actor may see, by instance, id or display name (None when there is none)."""
    if value is None or value == "":
        return None
    qs = visible_pairings(actor)
    if isinstance(value, Pairing):
        return qs.filter(pk=value.pk).first()
    text = str(value).strip()
    if text.isdigit():
        return qs.filter(pk=int(text)).first()
    norm = text.replace("->", "→").replace(" ", "")
    for p in qs.filter(name__icontains=norm.split("→")[-1][:6]).order_by("level")[:50]:
        if p.name.replace(" ", "") == norm:
            return p
    return None


def resolve_region(value: Any) -> int | None:
    """A 12-digit code from a code of 2–12 digits or an unambiguous region name."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        if len(text) in (2, 4, 6, 9, 12):
            code = int(text.ljust(12, "0"))
            return code if Region.objects.filter(code=code).exists() else None
        return None
    codes = list(Region.objects.filter(name=text).values_list("code", flat=True)[:2])
    return codes[0] if len(codes) == 1 else None


def _region_obj(code: int) -> Region:
    return Region.objects.filter(code=code).order_by("-level").first()  # type: ignore[return-value]


def resolve_org(value: Any, kind: str, region_code: int, actor: Any, via: str) -> Organisation:
    """An organisation by unified social credit code or exact name; an unknown name is registered."""
    from xiezuo.pairings.services import clean_uscc, create_organisation

    if isinstance(value, Organisation):
        return value
    text = " ".join(str(value).split())
    if len(text) == 18 and text.isalnum():
        try:
            code = clean_uscc(text)
        except ValidationError:
            code = None
        if code:
            org = Organisation.objects.filter(uscc=code).first()
            if org is not None:
                return org
    org = Organisation.objects.filter(name=text).order_by("id").first()
    if org is not None:
        return org
    return create_organisation(actor=actor, kind=kind, name=text, region=_region_obj(region_code), via=via)


# --- saving ------------------------------------------------------------------------------------


def _default_side(ltype: LedgerType, pairing: Pairing, actor: Any) -> str:
    """The side a record goes to when the row names no place: the ledger's own side, or for
    ledgers both sides keep, the side the writer may change (the helper side when both)."""
    if ltype.side != BOTH:
        return ltype.side
    scope = scope_for(actor, "ledger", "change")
    for side in (HELPER, HELPED):
        if any(scope.contains(code) for code, _lv in side_regions(pairing, side)):
            return side
    return HELPER


def natural_key(ltype: LedgerType, values: Mapping[str, Any]) -> str:
    """Hash of the ledger key and its natural-key values (person columns as their keyed hash)."""
    parts = [ltype.key]
    for k in ltype.natural_key:
        v = values.get(k)
        if isinstance(v, models.Model):
            v = v.pk
        parts.append("" if v is None else str(v).strip())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class _Person:
    column: str
    id_hmac: str
    id_masked: str
    verify: bool
    on: dt.date | None
    accept_exited: bool


_ADDRESS_CODES: tuple[float, frozenset[int]] | None = None
ADDRESS_CODES_TTL = 300.0


def address_codes() -> frozenset[int]:
    """Our regions' and code history's 6-digit codes, read at most every five minutes (they change
    only when regions are loaded)."""
    global _ADDRESS_CODES
    import time

    from xiezuo.registry.idnumbers import known_address_codes

    now = time.monotonic()
    if _ADDRESS_CODES is None or now - _ADDRESS_CODES[0] > ADDRESS_CODES_TTL:
        _ADDRESS_CODES = (now, known_address_codes())
    return _ADDRESS_CODES[1]


def plain_id(raw: object) -> str | None:
    """The ID number when ``raw`` is a plain, valid 18-character one (the usual case), else None.

    One value through the vectorised validator costs milliseconds of set-up; this answers the
    common case in microseconds with the same rules (checksum, real birth date not in the future
    and not before 1900, known address code). Anything else goes to ``validate_id`` for its message.
    """
    from xiezuo.registry.idnumbers import EARLIEST_BIRTH_YEAR, check_character, stdnum_address_codes

    if not isinstance(raw, str):
        return None
    text = raw.strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return None
    if check_character(text[:17]) != text[17]:
        return None
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None
    if birth.year < EARLIEST_BIRTH_YEAR or birth > timezone.localdate():
        return None
    address = int(text[:6])
    if address not in stdnum_address_codes() and address not in address_codes():
        return None
    return text


class _Keep:
    """The person already on the record (see :data:`KEEP_PERSON`)."""

    def __repr__(self) -> str:
        return "KEEP_PERSON"


KEEP_PERSON: Any = _Keep()
"""A person column's value on update meaning "keep the person the record names": the edit form
shows only the masked ID number, so a clerk who changes another field does not retype it."""


def _people(
    ltype: LedgerType,
    values: Mapping[str, Any],
    year: int,
    errors: list[Error],
    kept: Mapping[str, PersonCheck] | None = None,
) -> list[_Person]:
    from xiezuo.registry.idnumbers import validate_id

    out = []
    cipher = get_cipher()
    for p in ltype.people:
        raw = values.get(p.column)
        header = ltype.spec.column(p.column).header
        on = values.get(p.date_column) if p.date_column else None
        if not isinstance(on, dt.date):
            on = min(dt.date(year, 12, 31), timezone.localdate())
        if raw is KEEP_PERSON:
            prior = (kept or {}).get(p.column)
            if prior is not None:
                out.append(_Person(p.column, prior.id_hmac, prior.id_masked, p.verify, on, p.accept_exited))
            elif p.required:
                errors.append((p.column, "必填，不能为空", "required"))
            continue
        if raw is None or str(raw).strip() == "":
            if p.required:
                errors.append((p.column, "必填，不能为空", "required"))
            continue
        number = plain_id(raw)
        if number is None:
            check = validate_id(raw, extra_codes=address_codes())
            if not check.ok or check.normalised is None:
                errors.append(
                    (p.column, check.message_zh or f"{header}无效", f"invalid ID number ({check.error})")
                )
                continue
            number = check.normalised
        out.append(
            _Person(
                p.column,
                cipher.hmac(number),
                mask_id(number),
                p.verify,
                on,
                p.accept_exited,
            )
        )
    return out


def _value_for_field(ltype: LedgerType, key: str, value: Any) -> Any:
    field = ltype.model._meta.get_field(key)
    if isinstance(field, models.DecimalField) and value is not None and field.decimal_places is not None:
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
    if value is None and not field.null:
        if field.has_default():
            return field.get_default()
        if isinstance(field, (models.CharField, models.TextField)):
            return ""
    return value


def period_for(
    ltype: LedgerType, pairing: Pairing, year: int, values: Mapping[str, Any], side: str | None = None
) -> tuple[int, Period | None]:
    side = side or ltype.side
    flow = flows.flow_for(ltype.key, side)
    date = values.get(ltype.date_column) if ltype.date_column else None
    no = flow.period_no(date if isinstance(date, dt.date) else None)
    period = Period.objects.filter(
        ledger=ltype.key, pairing=pairing, side=side, year=year, period_no=no
    ).first()
    return no, period


def save_record(
    ltype: LedgerType,
    *,
    actor: Any,
    values: Mapping[str, Any],
    record: LedgerRecord | None = None,
    via: str = "web",
    upsert: bool = False,
    pairing: Pairing | None = None,
    check_rate: bool | None = None,
    seen: dict[str, int] | None = None,
    row: int = 0,
    cache: dict[Any, Any] | None = None,
) -> Any:
    """Create or update one record from parsed ``values`` (see the module docstring).

    ``record``: the record a form or API call edits. ``upsert``: a row whose natural key exists
    updates that record (imports, the demo); otherwise it is refused as a duplicate. The returned
    record has ``outcome`` set to created, updated or unchanged. ``seen`` and ``row``: natural keys
    already taken by earlier rows of the same file. ``cache``: a dict an import keeps across its
    rows, so pairings and their sides are read once per file, not once per row.
    """
    errors: list[Error] = []
    values = dict(values)

    chosen = None
    if values.get("pairing") not in (None, ""):
        raw_pairing = values.get("pairing")
        token = ("pairing", raw_pairing.pk if isinstance(raw_pairing, Pairing) else str(raw_pairing).strip())
        if cache is not None and token in cache:
            chosen = cache[token]
        else:
            chosen = resolve_pairing(raw_pairing, actor)
            if cache is not None:
                cache[token] = chosen
    if values.get("pairing") not in (None, "") and chosen is None:
        errors.append(("pairing", f"结对关系「{values.get('pairing')}」不存在或无权访问", "unknown pairing"))
    chosen = chosen or pairing or (record.pairing if record is not None else None)
    if chosen is None and not errors:
        errors.append(("pairing", "必填：请填写结对关系（编号或名称）", "a pairing is required"))
    year = values.get("year") or (record.year if record is not None else None)
    if not year:
        errors.append(("year", "必填，不能为空", "required"))
    elif chosen is not None and not chosen.active_in(int(year)):
        errors.append(("year", f"该结对关系在{year}年不在有效期内", f"the pairing is not active in {year}"))
    if errors:
        raise RecordInvalid(errors)
    assert chosen is not None and year is not None
    year = int(year)
    values["pairing"], values["year"] = chosen, year

    raw_region = values.get("region_code")
    side = ltype.side
    if raw_region in (None, ""):
        if record is not None:
            region_code, side = record.region_code, record.side
        else:
            side = _default_side(ltype, chosen, actor)
            region_code = side_regions(chosen, side)[0][0]
    else:
        resolved = resolve_region(raw_region)
        if resolved is None:
            raise RecordInvalid(
                [("region_code", f"「{raw_region}」不是有效的行政区划代码或名称", "unknown region")]
            )
        region_code = resolved
        if ltype.side == BOTH:
            side = HELPER if in_side(chosen, HELPER, region_code) else HELPED
    if not in_side(chosen, side, region_code):
        side_zh = {HELPER: "帮扶方", HELPED: "受帮扶方"}[side] if ltype.side != BOTH else "任何一方"
        raise RecordInvalid(
            [
                (
                    "region_code",
                    f"行政区划不在该结对关系的{side_zh}范围内",
                    f"the region is not on the pairing's {ltype.side} side",
                )
            ]
        )
    values["region_code"] = region_code
    # Scope before anything that looks at other data (D2): out of scope is "not found".
    require(scope_for(actor, "ledger", "change"), [region_code])
    if record is not None:
        require(scope_for(actor, "ledger", "change"), [record.region_code])

    fields: dict[str, Any] = {}
    for column in ltype.field_columns():
        value = values.get(column.key)
        if value in ("", None) and column.required:
            errors.append((column.key, "必填，不能为空", "required"))
        if isinstance(value, str):
            value = " ".join(value.split()) or None
        if column.kind == "code" and value is not None:
            entry = lookup(column.code_list or "", value)
            if entry is None:
                errors.append(
                    (
                        column.key,
                        f"「{value}」不是有效的{column.header}",
                        f"{value!r} is not a valid {column.key}",
                    )
                )
            else:
                value = entry.code
        if column.non_negative and isinstance(value, (int, Decimal)) and value < 0:
            errors.append((column.key, "不能为负数", "must not be negative"))
        if column.key in ltype.regions and value not in (None, ""):
            code = resolve_region(value)
            if code is None:
                errors.append((column.key, f"「{value}」不是有效的行政区划代码或名称", "unknown region"))
            value = code
        fields[column.key] = value
    if ltype.check is not None:
        errors.extend(ltype.check({**values, **fields}))
    kept = (
        {c.field: c for c in PersonCheck.objects.filter(ledger=ltype.key, record_id=record.pk)}
        if record is not None and record.pk is not None
        else None
    )
    people = _people(ltype, values, year, errors, kept)
    hmacs = {p.column: p.id_hmac for p in people}
    no, period = period_for(ltype, chosen, year, values, side)
    if period is not None and period.locked:
        errors.append(("", LOCKED_ZH, LOCKED_EN))
    key_values = {**values, **fields, **hmacs}
    for k in ltype.orgs:
        if isinstance(key_values.get(k), str):
            key_values[k] = " ".join(key_values[k].split())
    key = natural_key(ltype, key_values)
    if seen is not None and key in seen:
        raise RecordInvalid([("", f"与第 {seen[key]} 行重复", f"duplicates row {seen[key]}")])
    existing = ltype.model.objects.filter(key=key).first()
    if existing is not None and (record is None or existing.pk != record.pk):
        if record is None and upsert:
            record = existing
        else:
            errors.append(
                (
                    "",
                    f"已存在相同记录（记录号 {existing.pk}）",
                    f"a record with the same key exists (#{existing.pk})",
                )
            )
    if record is not None and record.pk is not None and ltype.model.objects.filter(pk=record.pk).exists():
        locked_old = Period.objects.filter(
            ledger=ltype.key,
            pairing_id=record.pairing_id,
            side=record.side,
            year=record.year,
            period_no=record.period_no,
            locked=True,
        ).exists()
        if locked_old and (LOCKED_ZH not in {e[1] for e in errors}):
            errors.append(("", LOCKED_ZH, LOCKED_EN))
    if errors:
        raise RecordInvalid(errors)
    if seen is not None:
        seen[key] = row

    with transaction.atomic():
        for k, kind in ltype.orgs.items():
            if fields.get(k) not in (None, ""):
                # An unknown organisation is registered where the row places it (an employer at its
                # workplace) when the writer may register organisations there, else in the record's place.
                place = fields.get(ltype.org_regions[k]) if k in ltype.org_regions else None
                if place is None or not scope_for(actor, "organisation", "change").contains(place):
                    place = region_code
                fields[k] = resolve_org(fields[k], kind, place, actor, via)
            else:
                fields[k] = None
        created = record is None
        obj: Any = record if record is not None else ltype.model()
        before = {} if created else audit.snapshot(obj)
        obj.pairing = chosen
        obj.year = year
        obj.period_no = no
        obj.region_code = region_code
        obj.side = side
        obj.key = key
        for k, v in fields.items():
            setattr(obj, k, _value_for_field(ltype, k, v))
        if created:
            obj.source = (
                via
                if via in ("form", "import", "api", "demo")
                else {"web": "form", "cli": "import", "job": "import"}.get(via, "form")
            )
            obj.created_by = actor if getattr(actor, "is_authenticated", False) else None
        after = audit.snapshot(obj)
        changes = audit.diff(before, after)
        old_people = (
            {}
            if created
            else {
                (c.field, c.id_hmac) for c in PersonCheck.objects.filter(ledger=ltype.key, record_id=obj.pk)
            }
        )
        new_people = {(p.column, p.id_hmac) for p in people}
        if not created and not changes and old_people == new_people:
            obj.outcome = "unchanged"
            return obj
        if ltype.confirm_side is not None:
            obj.confirmation = LedgerRecord.PENDING
            obj.confirmed_by, obj.confirmed_at = None, None
        obj.save()
        _write_people(ltype, obj, people, actor=actor, via=via, check_rate=check_rate)
        audit.record(
            actor=actor,
            action="create" if created else "update",
            object_type=ltype.key,
            object_id=obj.pk,
            object_repr=f"{ltype.zh} #{obj.pk}",
            region_code=region_code,
            changes={
                **changes,
                **({"people": ["[personal]", "[personal]"]} if old_people != new_people else {}),
            },
            via=via,
        )
        obj.outcome = "created" if created else "updated"
    return obj


def _write_people(
    ltype: LedgerType,
    obj: LedgerRecord,
    people: list[_Person],
    *,
    actor: Any,
    via: str,
    check_rate: bool | None,
) -> None:
    PersonCheck.objects.filter(ledger=ltype.key, record_id=obj.pk).delete()
    to_check = [p for p in people if p.verify]
    if to_check and (check_rate if check_rate is not None else via in ("web", "form", "api")):
        try:
            verify.rate_limit(actor, len(to_check))
        except verify.RateLimited:
            raise RecordInvalid(
                [("", "核验过于频繁，请一分钟后再试", "too many registry checks; try again in a minute")]
            ) from None
    area = verify.helped_area(side_regions(obj.pairing, HELPED))
    results = verify.check_people(
        [verify.Query(p.id_hmac, p.on or dt.date(obj.year, 12, 31), area, p.accept_exited) for p in to_check]
    )
    by_column = dict(zip([(p.column, p.id_hmac) for p in to_check], results, strict=True))
    rows = []
    for p in people:
        r = by_column.get((p.column, p.id_hmac))
        rows.append(
            PersonCheck(
                ledger=ltype.key,
                record_id=obj.pk,
                field=p.column,
                id_hmac=p.id_hmac,
                id_masked=p.id_masked,
                verify=p.verify,
                ok=r.ok if r else None,
                reason=r.reason if r else "not_checked",
                on_date=p.on,
                member_id=r.member_id if r else None,
                household_id=r.household_id if r else None,
                dataset_id=r.dataset_id if r else None,
            )
        )
    PersonCheck.objects.bulk_create(rows)
    flagged = any(r.ok is False for r in rows)
    if flagged != obj.flagged:
        obj.flagged = flagged
        type(obj).objects.filter(pk=obj.pk).update(flagged=flagged)  # type: ignore[attr-defined]
    verify.log_checks(actor=actor, ledger=ltype.key, n=len(to_check), via=via, region_code=obj.region_code)


def _require_unlocked(ltype: LedgerType, record: LedgerRecord) -> None:
    if Period.objects.filter(
        ledger=ltype.key,
        pairing_id=record.pairing_id,
        side=record.side,
        year=record.year,
        period_no=record.period_no,
        locked=True,
    ).exists():
        raise RecordInvalid([("", LOCKED_ZH, LOCKED_EN)])


def delete_record(ltype: LedgerType, *, actor: Any, record: LedgerRecord, via: str = "web") -> None:
    require(scope_for(actor, "ledger", "change"), [record.region_code])
    _require_unlocked(ltype, record)
    with transaction.atomic():
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
    _require_unlocked(ltype, record)
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


# --- periods and approval ----------------------------------------------------------------------


def get_period(ledger: str, pairing: Pairing, side: str, year: int, period_no: int = 0) -> Period:
    period, _ = Period.objects.get_or_create(
        ledger=ledger, pairing=pairing, side=side, year=year, period_no=period_no
    )
    return period


def next_step(period: Period) -> flows.Step | None:
    flow = flows.flow_for(period.ledger, period.side)
    return flow.steps[period.step] if period.step < len(flow.steps) else None


def may_advance(user: Any, period: Period) -> bool:
    step = next_step(period)
    return (
        step is not None
        and not period.locked
        and flows.may_take(user, step, side_regions(period.pairing, period.side))
    )


def may_return(user: Any, period: Period) -> bool:
    return period.step > 0 and not period.locked and may_advance(user, period)


def may_request_unlock(user: Any, period: Period) -> bool:
    flow = flows.flow_for(period.ledger, period.side)
    return (
        period.locked
        and not period.unlock_requested
        and flows.may_take(user, flow.steps[0], side_regions(period.pairing, period.side))
    )


def may_grant_unlock(user: Any, period: Period) -> bool:
    """The approving role unlocks a locked period once a lower level has asked for it."""
    flow = flows.flow_for(period.ledger, period.side)
    return (
        period.locked
        and period.unlock_requested
        and flows.may_take(user, flow.steps[-1], side_regions(period.pairing, period.side))
    )


def _period_action(
    period: Period, *, actor: Any, action: str, role: str, note: str, via: str, before: dict[str, Any]
) -> None:
    PeriodAction.objects.create(
        period=period,
        action=action,
        step=period.step,
        role=role,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:500],
    )
    audit.record(
        actor=actor,
        action=f"period.{action}",
        object_type="period",
        object_id=period.pk,
        object_repr=str(period),
        region_code=side_regions(period.pairing, period.side)[0][0],
        changes=audit.diff(before, audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])),
        via=via,
    )


def advance_period(period: Period, *, actor: Any, note: str = "", via: str = "web") -> Period:
    """Take the next step (submit, review, approve); the last one locks the period."""
    if not may_advance(actor, period):
        raise ScopeError("may not take this step")
    flow = flows.flow_for(period.ledger, period.side)
    step = flow.steps[period.step]
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.step += 1
        period.locked = period.step == len(flow.steps)
        period.state = Period.APPROVED if period.locked else Period.SUBMITTED
        period.save()
        _period_action(
            period, actor=actor, action=step.action, role=step.role, note=note, via=via, before=before
        )
    return period


def return_period(period: Period, *, actor: Any, note: str, via: str = "web") -> Period:
    """A reviewer sends the period back for correction (open again)."""
    if not may_return(actor, period):
        raise ScopeError("may not return this period")
    if not note.strip():
        raise RecordInvalid([("note", "退回时请说明原因", "say why when returning")])
    step = next_step(period)
    assert step is not None
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.step, period.state = 0, Period.OPEN
        period.save()
        _period_action(
            period, actor=actor, action="return", role=step.role, note=note, via=via, before=before
        )
    return period


def request_unlock(period: Period, *, actor: Any, reason: str, via: str = "web") -> Period:
    if not may_request_unlock(actor, period):
        raise ScopeError("may not ask for an unlock")
    if not reason.strip():
        raise RecordInvalid([("note", "申请解锁时请说明原因", "say why the period must be unlocked")])
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.unlock_requested, period.unlock_reason = True, reason.strip()[:500]
        period.save()
        _period_action(
            period,
            actor=actor,
            action="unlock_request",
            role=flow.steps[0].role,
            note=reason,
            via=via,
            before=before,
        )
    return period


def grant_unlock(period: Period, *, actor: Any, note: str = "", via: str = "web") -> Period:
    if not may_grant_unlock(actor, period):
        raise ScopeError("may not unlock")
    flow = flows.flow_for(period.ledger, period.side)
    with transaction.atomic():
        before = audit.snapshot(period, ["state", "step", "locked", "unlock_requested"])
        period.locked, period.step, period.state, period.unlock_requested = False, 0, Period.OPEN, False
        period.save()
        _period_action(
            period, actor=actor, action="unlock", role=flow.steps[-1].role, note=note, via=via, before=before
        )
    return period


# --- attachments -------------------------------------------------------------------------------

ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".ofd", ".doc", ".docx", ".xls", ".xlsx"}
MAX_ATTACHMENT = 20 * 1024 * 1024


def add_attachment(
    ltype: LedgerType,
    *,
    actor: Any,
    record: LedgerRecord,
    kind: str,
    upload: Any,
    title: str = "",
    via: str = "web",
) -> Attachment:
    """Attach a stamped scan, receipt … to a record (either side of its pairing that may change ledgers)."""
    from xiezuo.core.codelists import lookup

    scope = scope_for(actor, "ledger", "change")
    if not (scope.contains(record.region_code) or may_confirm(actor, ltype, record)):
        raise ScopeError("out of scope")
    _require_unlocked(ltype, record)
    name = PurePath(getattr(upload, "name", "") or "").name
    errors: list[Error] = []
    if PurePath(name).suffix.lower() not in ATTACHMENT_TYPES:
        errors.append(
            ("file", "文件类型不支持，请上传 PDF、图片、OFD 或 Office 文件", "unsupported file type")
        )
    if getattr(upload, "size", 0) > MAX_ATTACHMENT:
        errors.append(("file", "文件超过 20 MB", "file larger than 20 MB"))
    entry = lookup("attachment_kind", kind)
    if entry is None:
        errors.append(("kind", "附件类型无效", "unknown attachment kind"))
    if errors:
        raise RecordInvalid(errors)
    assert entry is not None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    with transaction.atomic():
        att = Attachment(
            ledger=ltype.key,
            record_id=record.pk,
            kind=entry.code,
            title=(title or name)[:200],
            sha256=digest.hexdigest(),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        att.file.save(name, upload, save=False)
        att.save()
        audit.record(
            actor=actor,
            action="attach",
            object_type=ltype.key,
            object_id=record.pk,
            object_repr=att.title,
            region_code=record.region_code,
            changes={"attachment": [None, att.sha256]},
            via=via,
        )
    return att


def may_attach_to_period(user: Any, period: Period) -> bool:
    """Whoever takes a step of the period's flow may attach its stamped scans (盖章扫描件)."""
    flow = flows.flow_for(period.ledger, period.side)
    regions = side_regions(period.pairing, period.side)
    return any(flows.may_take(user, step, regions) for step in flow.steps)


def add_period_attachment(
    period: Period, *, actor: Any, kind: str, upload: Any, title: str = "", via: str = "web"
) -> Attachment:
    """Attach a stamped scan or other evidence to a reporting period (kept when the period locks)."""
    from xiezuo.core.codelists import lookup

    if not may_attach_to_period(actor, period):
        raise ScopeError("may not attach to this period")
    name = PurePath(getattr(upload, "name", "") or "").name
    errors: list[Error] = []
    if PurePath(name).suffix.lower() not in ATTACHMENT_TYPES:
        errors.append(
            ("file", "文件类型不支持，请上传 PDF、图片、OFD 或 Office 文件", "unsupported file type")
        )
    if getattr(upload, "size", 0) > MAX_ATTACHMENT:
        errors.append(("file", "文件超过 20 MB", "file larger than 20 MB"))
    entry = lookup("attachment_kind", kind)
    if entry is None:
        errors.append(("kind", "附件类型无效", "unknown attachment kind"))
    if errors:
        raise RecordInvalid(errors)
    assert entry is not None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    with transaction.atomic():
        if period.pk is None:
            period.save()
        att = Attachment(
            ledger=period.ledger,
            period=period,
            kind=entry.code,
            title=(title or name)[:200],
            sha256=digest.hexdigest(),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        att.file.save(name, upload, save=False)
        att.save()
        audit.record(
            actor=actor,
            action="attach",
            object_type="period",
            object_id=period.pk,
            object_repr=att.title,
            region_code=side_regions(period.pairing, period.side)[0][0],
            changes={"attachment": [None, att.sha256]},
            via=via,
        )
    return att


def people_of(ltype: LedgerType, records: Iterable[LedgerRecord]) -> dict[int, list[PersonCheck]]:
    ids = [r.pk for r in records]
    out: dict[int, list[PersonCheck]] = {}
    for c in PersonCheck.objects.filter(ledger=ltype.key, record_id__in=ids).order_by("field", "id"):
        out.setdefault(c.record_id, []).append(c)
    return out


__all__ = [
    "HELPED",
    "HELPER",
    "LOCKED_ZH",
    "RecordInvalid",
    "add_attachment",
    "advance_period",
    "confirm_record",
    "delete_record",
    "get_period",
    "grant_unlock",
    "records_for",
    "request_unlock",
    "return_period",
    "save_record",
]
