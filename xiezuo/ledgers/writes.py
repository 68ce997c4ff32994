"""The one internal write of ledger records (docs/adr/0015-ledger-writes-in-batches.md).

:func:`write` takes a batch of rows (one for a form or an API call, a few hundred for an import)
and, in one transaction: resolves what the rows refer to with one query per kind
(``resolve.py``), applies the pure rules (``rules.py``) row by row, re-checks the writer's scope,
refuses rows of locked periods, registers unknown organisations, checks the people named against
the registry, writes the records set-based (``bulk_create`` / ``bulk_update``) with their person
checks, and writes the audit: one entry per record for a single write, one entry for an import
batch (DESIGN.md D10). The number of queries does not depend on the number of rows.

A row that fails keeps its errors (``Row.errors``, or ``Row.refused`` when out of scope); the
others are written. The public actions in ``services.py`` wrap this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from xiezuo.core import audit
from xiezuo.core.codelists import lookup
from xiezuo.core.crypto import get_cipher, mask_id
from xiezuo.core.scope import scope_for
from xiezuo.ledgers import resolve, rules, tables, verify
from xiezuo.ledgers.models import LedgerRecord, PersonCheck
from xiezuo.ledgers.rules import LOCKED_EN, LOCKED_ZH, Error
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType
from xiezuo.pairings.models import Organisation, Pairing

CREATE, UPDATE, UPSERT = "create", "update", "upsert"


class _Keep:
    """The person already on the record (see :data:`KEEP_PERSON`)."""

    def __repr__(self) -> str:
        return "KEEP_PERSON"


KEEP_PERSON: Any = _Keep()
"""A person column's value on update meaning "keep the person the record names": the edit form
shows only the masked ID number, so a clerk who changes another field does not retype it."""


@dataclass
class Person:
    column: str
    id_hmac: str
    id_masked: str
    verify: bool
    on: dt.date
    accept_exited: bool


@dataclass
class Row:
    """One row of a write: its values in, and what became of it."""

    values: dict[str, Any]
    number: int = 0
    record: Any = None
    """The record a form or API call edits (update), or the one an upsert found."""
    errors: list[Error] = field(default_factory=list)
    refused: bool = False
    """Out of the writer's scope (pages answer 404, imports say so in Chinese)."""
    obj: Any = None
    outcome: str = ""
    # resolved on the way
    pairing: Pairing | None = None
    year: int = 0
    region_code: int = 0
    side: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    period_no: int = 0
    key: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    people_changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.refused


@dataclass
class Options:
    mode: str = CREATE
    via: str = "web"
    default_pairing: Pairing | None = None
    parsed: bool = False
    """Values come from the tabular reader: text cleaned, codes resolved, negatives refused."""
    check_rate: bool = False
    """Interactive registry checks are rate-limited per user (forms, API)."""
    audit_each: bool = True
    """One audit entry per record (forms, API); False: one entry for the batch (imports)."""
    seen: dict[str, int] | None = None
    """Natural keys taken by earlier rows of the same file → their row number."""


def write(ltype: LedgerType, rows: Sequence[Row], *, actor: Any, opts: Options) -> Sequence[Row]:
    """Write ``rows`` (see the module docstring); every row ends with errors, refused or an outcome."""
    with transaction.atomic():
        _prepare(ltype, rows, actor, opts)
        _save(ltype, [r for r in rows if r.ok], actor, opts)
    return rows


def _prepare(ltype: LedgerType, rows: Sequence[Row], actor: Any, opts: Options) -> None:
    change = scope_for(actor, "ledger", "change")
    # 1. pairing and year
    found = resolve.pairings(
        {t for r in rows if (t := rules.pairing_token(r.values.get("pairing"))) is not None}, actor
    )
    for r in rows:
        raw = r.values.get("pairing")
        token = rules.pairing_token(raw)
        chosen = found.get(token) if token is not None else None
        if token is not None and chosen is None:
            r.errors.append(("pairing", f"结对关系「{raw}」不存在或无权访问", "unknown pairing"))
        chosen = chosen or opts.default_pairing or (r.record.pairing if r.record is not None else None)
        if chosen is None and not r.errors:
            r.errors.append(("pairing", "必填：请填写结对关系（编号或名称）", "a pairing is required"))
        year = r.values.get("year") or (r.record.year if r.record is not None else None)
        if not year:
            r.errors.append(rules.required("year"))
        elif chosen is not None and not chosen.active_in(int(year)):
            r.errors.append(
                ("year", f"该结对关系在{year}年不在有效期内", f"the pairing is not active in {year}")
            )
        if not r.errors:
            assert chosen is not None and year
            r.pairing, r.year = chosen, int(year)
            r.values["pairing"], r.values["year"] = chosen, r.year
    live = [r for r in rows if r.ok]
    resolve.load_sides(r.pairing for r in live if r.pairing is not None)

    # 2. place and side; scope before anything that looks at other data (D2)
    tokens = set()
    for r in live:
        for k in ("region_code", *ltype.regions):
            if (t := rules.region_token(r.values.get(k))) is not None:
                tokens.add(t)
    codes = resolve.regions(tokens)
    for r in live:
        assert r.pairing is not None
        sides = r.pairing.__dict__["_side_regions"]
        raw = r.values.get("region_code")
        if raw in (None, ""):
            if r.record is not None:
                r.region_code, r.side = r.record.region_code, r.record.side
            else:
                r.side = rules.default_side(ltype, sides, change.contains)
                r.region_code = sides[r.side][0][0]
        else:
            code = codes.get(t) if (t := rules.region_token(raw)) is not None else None
            if code is None:
                r.errors.append(rules.unknown_region("region_code", raw))
                continue
            r.region_code = code
            r.side = rules.side_of(ltype, code, _ranges(sides.get(HELPER, ())))
        if not rules.in_ranges(r.region_code, _ranges(sides.get(r.side, ()))):
            r.errors.append(rules.off_side(ltype))
            continue
        r.values["region_code"] = r.region_code
        if not change.contains(r.region_code) or (
            r.record is not None and not change.contains(r.record.region_code)
        ):
            r.refused = True
    live = [r for r in live if r.ok]

    # 3. cells, people, period, key
    kept = resolve.person_checks(
        ltype.key, [r.record.pk for r in live if r.record is not None and r.record.pk is not None]
    )
    raws = [
        (r, p, r.values.get(p.column))
        for r in live
        for p in ltype.people
        if r.values.get(p.column) is not KEEP_PERSON and str(r.values.get(p.column) or "").strip() != ""
    ]
    checked = resolve.validate_numbers([raw for _r, _p, raw in raws])
    numbers: dict[tuple[int, str], tuple[str | None, str | None]] = {
        (id(r), p.column): c for (r, p, _raw), c in zip(raws, checked, strict=True)
    }
    hmacs = dict(
        zip(
            (n for n, _e in checked if n is not None),
            get_cipher().hmac_many([n for n, _e in checked if n is not None]),
            strict=True,
        )
    )
    today = timezone.localdate()
    columns = ltype.field_columns()
    for r in live:
        fields, errors = rules.normalise_fields(
            ltype, r.values, parsed=opts.parsed, lookup=lookup, regions=codes, columns=columns
        )
        if ltype.check is not None:
            errors.extend(ltype.check({**r.values, **fields}))
        prior = {c.field: c for c in kept.get(r.record.pk, [])} if r.record is not None else {}
        r.people = _people(ltype, r, prior, numbers, hmacs, errors, today)
        r.fields = fields
        r.period_no = rules.period_no(ltype, r.side, r.values)
        r.key = rules.natural_key(
            ltype, rules.key_values(ltype, r.values, fields, {p.column: p.id_hmac for p in r.people})
        )
        r.errors = errors

    # 4. existing records, locks, duplicates (in row order: an earlier row takes a key first)
    by_key, by_pk = resolve.records(
        ltype.model,
        {r.key for r in live},
        {r.record.pk for r in live if r.record is not None and r.record.pk is not None},
    )
    for r in live:
        existing = by_key.get(r.key)
        if existing is not None and r.record is None and opts.mode == UPSERT:
            r.record = existing
    periods = {(r.pairing.pk, r.side, r.year, r.period_no) for r in live if r.pairing is not None}
    olds = {(r.record.pairing_id, r.record.side, r.record.year, r.record.period_no) for r in live if r.record}
    locked = resolve.locked_periods(ltype.key, periods | olds)
    seen = opts.seen if opts.seen is not None else {}
    for r in live:
        assert r.pairing is not None
        if (r.pairing.pk, r.side, r.year, r.period_no) in locked:
            r.errors.append(("", LOCKED_ZH, LOCKED_EN))
        if r.key in seen:
            r.errors = [("", f"与第 {seen[r.key]} 行重复", f"duplicates row {seen[r.key]}")]
            continue
        existing = by_key.get(r.key)
        if existing is not None and (r.record is None or existing.pk != r.record.pk):
            r.errors.append(
                (
                    "",
                    f"已存在相同记录（记录号 {existing.pk}）",
                    f"a record with the same key exists (#{existing.pk})",
                )
            )
        old = r.record
        if old is not None and old.pk is not None and old.pk in by_pk:
            if (old.pairing_id, old.side, old.year, old.period_no) in locked and (
                LOCKED_ZH not in {e[1] for e in r.errors}
            ):
                r.errors.append(("", LOCKED_ZH, LOCKED_EN))
        if not r.errors:
            seen[r.key] = r.number

    # 5. organisations: known ones by code or name, unknown ones registered where the row places
    # them (an employer at its workplace) when the writer may register organisations there, else
    # in the record's place.
    live = [r for r in live if r.ok]
    _organisations(ltype, live, actor, opts)


def _ranges(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    from xiezuo.regions.models import subtree_range

    return [subtree_range(c, lv) for c, lv in pairs]


def _people(
    ltype: LedgerType,
    r: Row,
    prior: Mapping[str, PersonCheck],
    numbers: Mapping[tuple[int, str], tuple[str | None, str | None]],
    hmacs: Mapping[str, str],
    errors: list[Error],
    today: dt.date,
) -> list[Person]:
    from xiezuo.registry.idnumbers import MESSAGES_ZH

    out = []
    for p in ltype.people:
        raw = r.values.get(p.column)
        on = rules.person_date(r.values, p.date_column, r.year, today)
        if raw is KEEP_PERSON:
            kept = prior.get(p.column)
            if kept is not None:
                out.append(Person(p.column, kept.id_hmac, kept.id_masked, p.verify, on, p.accept_exited))
            elif p.required:
                errors.append(rules.required(p.column))
            continue
        if raw is None or str(raw).strip() == "":
            if p.required:
                errors.append(rules.required(p.column))
            continue
        number, error = numbers[(id(r), p.column)]
        if number is None:
            header = ltype.spec.column(p.column).header
            errors.append(
                (
                    p.column,
                    MESSAGES_ZH.get(error or "", "") or f"{header}无效",
                    f"invalid ID number ({error})",
                )
            )
            continue
        out.append(Person(p.column, hmacs[number], mask_id(number), p.verify, on, p.accept_exited))
    return out


def _organisations(ltype: LedgerType, live: Sequence[Row], actor: Any, opts: Options) -> None:
    if not ltype.orgs or not live:
        return
    texts: set[str] = set()
    for r in live:
        for k in ltype.orgs:
            v = r.fields.get(k)
            if v not in (None, "") and not isinstance(v, Organisation):
                r.fields[k] = " ".join(str(v).split())
                texts.add(r.fields[k])
    known = resolve.organisations(texts)
    org_scope = scope_for(actor, "organisation", "change")
    wanted: dict[str, tuple[str, int]] = {}
    for r in live:
        for k, kind in ltype.orgs.items():
            v = r.fields.get(k)
            if v in (None, "") or isinstance(v, Organisation) or v in known:
                continue
            if v in wanted:
                continue
            place = r.fields.get(ltype.org_regions[k]) if k in ltype.org_regions else None
            if place is None or not org_scope.contains(place):
                place = r.region_code
            if not org_scope.contains(place):
                r.refused = True
                continue
            wanted[v] = (kind, place)
    known.update(resolve.register_organisations(wanted, actor=actor, via=opts.via))
    for r in live:
        for k in ltype.orgs:
            v = r.fields.get(k)
            if v in (None, ""):
                r.fields[k] = None
            elif not isinstance(v, Organisation):
                if v not in known:
                    r.refused = True
                else:
                    r.fields[k] = known[v]


def _save(ltype: LedgerType, live: Sequence[Row], actor: Any, opts: Options) -> None:
    model_fields = {f.name: f for f in ltype.model._meta.concrete_fields}
    user = actor if getattr(actor, "is_authenticated", False) else None
    olds = resolve.person_checks(ltype.key, [r.record.pk for r in live if r.record is not None])
    to_write: list[Row] = []
    for r in live:
        created = r.record is None
        obj: Any = ltype.model() if created else r.record
        before = {} if created else audit.snapshot(obj)
        obj.pairing = r.pairing
        obj.year, obj.period_no, obj.region_code, obj.side, obj.key = (
            r.year,
            r.period_no,
            r.region_code,
            r.side,
            r.key,
        )
        for k, v in r.fields.items():
            setattr(obj, k, rules.value_for_field(model_fields[k], v))
        if created:
            obj.source = rules.source_for(opts.via)
            obj.created_by = user
        if not created or opts.audit_each:
            r.changes = audit.diff(before, audit.snapshot(obj))
        old_people = set() if created else {(c.field, c.id_hmac) for c in olds.get(obj.pk, [])}
        r.people_changed = old_people != {(p.column, p.id_hmac) for p in r.people}
        r.obj = obj
        if not created and not r.changes and not r.people_changed:
            r.outcome = "unchanged"
            continue
        r.outcome = "created" if created else "updated"
        if ltype.confirm_side is not None:
            obj.confirmation = LedgerRecord.PENDING
            obj.confirmed_by, obj.confirmed_at = None, None
        obj.derive()
        to_write.append(r)
    if not to_write:
        return

    # registry checks of everyone on a written record: one batch
    checks = [(r, p) for r in to_write for p in r.people if p.verify]
    if checks and opts.check_rate:
        try:
            verify.rate_limit(actor, len(checks))
        except verify.RateLimited:
            from xiezuo.ledgers.services import RecordInvalid

            raise RecordInvalid(
                [("", "核验过于频繁，请一分钟后再试", "too many registry checks; try again in a minute")]
            ) from None
    areas: dict[int, tuple[tuple[int, int], ...]] = {}
    queries = []
    for r, p in checks:
        assert r.pairing is not None
        if r.pairing.pk not in areas:
            areas[r.pairing.pk] = verify.helped_area(r.pairing.__dict__["_side_regions"].get(HELPED, []))
        queries.append(verify.Query(p.id_hmac, p.on, areas[r.pairing.pk], p.accept_exited))
    results = dict(zip([(id(r), p.column) for r, p in checks], verify.check_people(queries), strict=True))
    for r in to_write:
        r.obj.flagged = any(
            (res := results.get((id(r), p.column))) is not None and res.ok is False for p in r.people
        )

    # the records, set-based
    new = [r.obj for r in to_write if r.outcome == "created"]
    changed = [r.obj for r in to_write if r.outcome == "updated"]
    tables.insert(ltype.model, new)
    tables.set_pks(ltype.model, new)
    if changed:
        tables.update(ltype.model, changed, exclude=("created_at",))
        PersonCheck.objects.filter(ledger=ltype.key, record_id__in=[o.pk for o in changed]).delete()
    tables.insert_checks(
        (
            ltype.key,
            r.obj.pk,
            p.column,
            p.id_hmac,
            p.id_masked,
            p.verify,
            res.ok if res else None,
            res.reason if res else "not_checked",
            p.on,
            res.member_id if res else None,
            res.household_id if res else None,
            res.dataset_id if res else None,
        )
        for r in to_write
        for p in r.people
        for res in [results.get((id(r), p.column)) if p.verify else None]
    )
    _audit(ltype, to_write, actor, opts)
    if checks:
        verify.log_checks(
            actor=actor, ledger=ltype.key, n=len(checks), via=opts.via, region_code=to_write[0].region_code
        )


def _audit(ltype: LedgerType, written: Sequence[Row], actor: Any, opts: Options) -> None:
    def changes(r: Row) -> dict[str, Any]:
        return {**r.changes, **({"people": ["[personal]", "[personal]"]} if r.people_changed else {})}

    if opts.audit_each:
        for r in written:
            audit.record(
                actor=actor,
                action="create" if r.outcome == "created" else "update",
                object_type=ltype.key,
                object_id=r.obj.pk,
                object_repr=f"{ltype.zh} #{r.obj.pk}",
                region_code=r.region_code,
                changes=changes(r),
                via=opts.via,
            )
        return
    # An import batch: one entry with compact change rows (D10).
    numbers = [r.number for r in written]
    audit.record(
        actor=actor,
        action="import",
        object_type=ltype.key,
        object_repr=f"{ltype.zh} 第 {min(numbers)}–{max(numbers)} 行",
        region_code=written[0].region_code if len({r.region_code for r in written}) == 1 else None,
        batch={
            "created": [r.obj.pk for r in written if r.outcome == "created"],
            "updated": {str(r.obj.pk): changes(r) for r in written if r.outcome == "updated"},
        },
        via=opts.via,
    )
