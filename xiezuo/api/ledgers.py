"""Cooperation ledgers: one set of typed endpoints per ledger type, schemas from its column spec.

``/v1/ledgers/<key>/records`` lists (keyset by id), creates; ``…/records/<id>`` reads, replaces,
deletes; ``…/confirm`` is the other side's confirmation. Money is integer fen (D4) in fields
ending ``_fen``; codes are code-list codes (labels and aliases are accepted on input); people are
ID numbers on input and only the registry check result (plus the masked ID for the helped area's
registry viewers) on output (D2, D3). Writes go through ``xiezuo.ledgers.services``: the same
rules, lock and audit as the pages; out of scope is 404.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import create_model

from xiezuo.api.auth import user_of
from xiezuo.api.schemas import MAX_ID, ErrorOut
from xiezuo.core.scope import get_or_404
from xiezuo.core.tabular.spec import Column
from xiezuo.ledgers import periods as period_flow
from xiezuo.ledgers import services, types
from xiezuo.ledgers.models import LedgerRecord, Period
from xiezuo.ledgers.rollup import as_dict, rollup

router = Router(tags=["ledgers"])
ERRORS = {400: ErrorOut, 404: ErrorOut}
MAX_LIMIT = 500


class PersonOut(Schema):
    field: str = Field(description="the column that names the person")
    id_masked: str | None = Field(
        description="masked ID number, for registry viewers of the helped area only"
    )
    verify: bool = Field(description="whether the registry check applies to this column")
    ok: bool | None = Field(description="the registry check matched (null: not checked)")
    reason: str = Field(description="code list verify_reason")
    on_date: dt.date | None = Field(description="the date that counted")
    dataset: int | None = Field(description="registry dataset checked against")


class LedgerColumnOut(Schema):
    key: str
    header: str = Field(description="Chinese header of the template and import")
    kind: str
    code_list: str | None
    required: bool


class LedgerOut(Schema):
    key: str
    area: str
    zh: str
    en: str
    side: str = Field(description="the side that enters records: helper or helped")
    confirm_side: str | None
    natural_key: list[str]
    columns: list[LedgerColumnOut]


class ConfirmIn(Schema):
    confirmed: bool
    note: str = ""


class PeriodIn(Schema):
    ledger: str
    pairing: int = Field(ge=1, le=MAX_ID)
    year: int = Field(ge=1996, le=2100)
    period_no: int = Field(0, ge=0, le=12)
    side: str | None = Field(None, description="helper or helped; needed only for ledgers both sides keep")
    note: str = ""


class PeriodOut(Schema):
    id: int
    ledger: str
    pairing: int
    side: str
    year: int
    period_no: int
    state: str = Field(description="open, submitted or approved")
    step: int = Field(description="steps taken")
    locked: bool
    unlock_requested: bool


def _py_type(c: Column) -> Any:
    return {
        "int": int,
        "year": int,
        "money": int,
        "decimal": Decimal,
        "date": dt.date,
        "bool": bool,
    }.get(c.kind, str)


def _description(c: Column, ltype: types.LedgerType) -> str:
    out = c.header
    if c.code_list:
        out += f" (code list {c.code_list})"
    if c.kind == "money":
        out += " — fen"
    if c.key in ltype.person_columns:
        out += " — ID number; only the check result is returned"
    if c.key in ltype.orgs:
        out += " — organisation name or unified social credit code"
    if c.key in ltype.regions:
        out += " — 12-digit region code"
    return out


def _schemas(ltype: types.LedgerType) -> tuple[type[Schema], type[Schema], type[Schema]]:
    name = "".join(p.capitalize() for p in ltype.key.split("_"))
    fields_in: dict[str, Any] = {
        "pairing": (int | str, Field(description="pairing id (or its display name)")),
        "year": (int, Field(ge=1996, le=2100, description="归属年度: the year the record counts for")),
        "region_code": (
            str | int | None,
            Field(None, description="region code (2–12 digits) or name; default the pairing side's region"),
        ),
    }
    fields_out: dict[str, Any] = {
        "id": (int, ...),
        "pairing": (int, ...),
        "year": (int, ...),
        "region_code": (str, ...),
        "side": (str, ...),
        "confirmation": (str, Field(description="code list confirmation")),
        "flagged": (bool, Field(description="a person on the record failed the registry check")),
        "source": (str, ...),
        "people": (list[PersonOut], ...),
    }
    for c in ltype.spec.columns:
        t = _py_type(c) if c.key not in ltype.regions else str | int
        desc = _description(c, ltype)
        if c.required:
            fields_in[c.key] = (t, Field(description=desc))
        else:
            fields_in[c.key] = (t | None, Field(None, description=desc))
        if c.key not in ltype.person_columns:
            out_t = str if (c.key in ltype.orgs or c.key in ltype.regions) else t
            fields_out[c.key] = (out_t | None, Field(None, description=desc))
    rin = create_model(f"{name}In", __base__=Schema, **fields_in)
    rout = create_model(f"{name}Out", __base__=Schema, **fields_out)
    page = create_model(
        f"{name}Page",
        __base__=Schema,
        items=(list[rout], ...),  # type: ignore[valid-type]
        next=(int | None, Field(description="pass as `after` for the next page")),
    )
    return rin, rout, page


def record_out(ltype: types.LedgerType, record: LedgerRecord, user: Any) -> dict[str, Any]:
    show = services.may_see_people(user, record)
    people = services.people_of(ltype, [record]).get(record.pk, [])
    out: dict[str, Any] = {
        "id": record.pk,
        "pairing": record.pairing_id,
        "year": record.year,
        "region_code": str(record.region_code),
        "side": record.side,
        "confirmation": record.confirmation,
        "flagged": record.flagged,
        "source": record.source,
        "people": [
            {
                "field": p.field,
                "id_masked": p.id_masked if show else None,
                "verify": p.verify,
                "ok": p.ok,
                "reason": p.reason,
                "on_date": p.on_date,
                "dataset": p.dataset_id,
            }
            for p in people
        ],
    }
    for c in ltype.spec.columns:
        if c.key in ltype.person_columns:
            continue
        value = getattr(record, c.key)
        if c.key in ltype.orgs:
            value = value.name if value is not None else None
        elif c.key in ltype.regions:
            value = str(value) if value else None
        out[c.key] = value
    return out


def _save(
    ltype: types.LedgerType, request: HttpRequest, payload: Schema, record: LedgerRecord | None = None
) -> LedgerRecord:
    values = payload.dict()
    try:
        return services.save_record(ltype, actor=user_of(request), values=values, record=record, via="api")
    except services.RecordInvalid as exc:
        raise exc.as_validation_error() from None


def _routes(ltype: types.LedgerType) -> None:
    rin, rout, page = _schemas(ltype)
    base = f"/ledgers/{ltype.key}/records"
    op = f"ledger_{ltype.key}"
    summary = f"{ltype.en} ({ltype.zh})"

    @router.get(base, response={200: page, **ERRORS}, operation_id=f"{op}_list", summary=f"List {summary}")
    def list_records(
        request: HttpRequest,
        pairing: int | None = Query(
            None, ge=1, le=MAX_ID, description="records of this pairing and its sub-pairings"
        ),
        year: int | None = Query(None, ge=1996, le=2100),
        flagged: bool | None = Query(
            None, description="only records whose registry check failed (true) or passed"
        ),
        after: int | None = Query(None, ge=0, le=MAX_ID, description="id from `next` of the previous page"),
        limit: int = Query(100, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        from xiezuo.ledgers.rollup import subtree_ids

        user = user_of(request)
        qs = services.records_for(user, ltype).select_related("pairing")
        if pairing is not None:
            p = services.visible_pairings(user).filter(pk=pairing).first()
            qs = qs.filter(pairing_id__in=subtree_ids(p)) if p else qs.none()
        if year is not None:
            qs = qs.filter(year=year)
        if flagged is not None:
            qs = qs.filter(flagged=flagged)
        if after is not None:
            qs = qs.filter(id__lt=after)
        rows = list(qs.order_by("-id")[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [record_out(ltype, r, user) for r in rows],
            "next": rows[-1].pk if more and rows else None,
        }

    @router.get(
        f"{base}/{{record_id}}",
        response={200: rout, **ERRORS},
        operation_id=f"{op}_get",
        summary=f"One record of {summary}",
    )
    def get_record(request: HttpRequest, record_id: int) -> dict[str, Any]:
        user = user_of(request)
        r = get_or_404(services.records_for(user, ltype).select_related("pairing"), pk=record_id)
        return record_out(ltype, r, user)

    @router.post(
        base,
        response={201: rout, **ERRORS},
        operation_id=f"{op}_create",
        summary=f"Create a record of {summary}",
    )
    def create_record(request: HttpRequest, payload: rin) -> Status[dict[str, Any]]:  # type: ignore[valid-type]
        r = _save(ltype, request, payload)
        return Status(201, record_out(ltype, r, user_of(request)))

    @router.put(
        f"{base}/{{record_id}}",
        response={200: rout, **ERRORS},
        operation_id=f"{op}_update",
        summary=f"Replace a record of {summary}",
    )
    def update_record(request: HttpRequest, record_id: int, payload: rin) -> dict[str, Any]:  # type: ignore[valid-type]
        user = user_of(request)
        r = get_or_404(services.records_for(user, ltype, "change"), pk=record_id)
        r = _save(ltype, request, payload, r)
        return record_out(ltype, r, user)

    @router.delete(
        f"{base}/{{record_id}}",
        response={204: None, **ERRORS},
        operation_id=f"{op}_delete",
        summary=f"Delete a record of {summary}",
    )
    def delete_record(request: HttpRequest, record_id: int) -> Status[None]:
        user = user_of(request)
        r = get_or_404(services.records_for(user, ltype, "change"), pk=record_id)
        try:
            services.delete_record(ltype, actor=user, record=r, via="api")
        except services.RecordInvalid as exc:
            raise exc.as_validation_error() from None
        return Status(204, None)

    if ltype.confirm_side is not None:

        @router.post(
            f"{base}/{{record_id}}/confirm",
            response={200: rout, **ERRORS},
            operation_id=f"{op}_confirm",
            summary=f"Confirm or dispute a record of {summary} (the {ltype.confirm_side} side)",
        )
        def confirm(request: HttpRequest, record_id: int, payload: ConfirmIn) -> dict[str, Any]:
            user = user_of(request)
            r = get_or_404(services.records_for(user, ltype).select_related("pairing"), pk=record_id)
            try:
                services.confirm_record(
                    ltype, actor=user, record=r, confirmed=payload.confirmed, note=payload.note, via="api"
                )
            except services.RecordInvalid as exc:
                raise exc.as_validation_error() from None
            return record_out(ltype, r, user)


@router.get(
    "/ledgers",
    response=list[LedgerOut],
    operation_id="ledger_types",
    summary="The ledger types and their columns",
)
def ledger_types(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "key": t.key,
            "area": t.area,
            "zh": t.zh,
            "en": t.en,
            "side": t.side,
            "confirm_side": t.confirm_side,
            "natural_key": list(t.natural_key),
            "columns": [
                {
                    "key": c.key,
                    "header": c.header,
                    "kind": c.kind,
                    "code_list": c.code_list,
                    "required": c.required,
                }
                for c in t.columns
            ],
        }
        for t in types.all_types()
    ]


@router.get(
    "/pairings/{pairing_id}/rollup",
    response={200: dict[str, Any], **ERRORS},
    operation_id="pairing_rollup",
    summary="Every ledger of a pairing and year, over its sub-pairings, against targets (fen)",
)
def pairing_rollup(
    request: HttpRequest, pairing_id: int, year: int = Query(..., ge=1996, le=2100)
) -> dict[str, Any]:
    p = get_or_404(services.visible_pairings(user_of(request)), pk=pairing_id)
    return as_dict(rollup(p, year))


def _period_out(p: Period) -> dict[str, Any]:
    return {
        "id": p.pk,
        "ledger": p.ledger,
        "pairing": p.pairing_id,
        "side": p.side,
        "year": p.year,
        "period_no": p.period_no,
        "state": p.state,
        "step": p.step,
        "locked": p.locked,
        "unlock_requested": p.unlock_requested,
    }


class RefusedOut(ErrorOut):
    code: str = Field(
        description="why: four_eyes_earlier_step, four_eyes_entered_records or four_eyes_unlock_requester"
    )


@router.post(
    "/periods/{action}",
    response={200: PeriodOut, 403: RefusedOut, **ERRORS},
    operation_id="period_action",
    summary="Take a step on a reporting period: advance, return, request_unlock, unlock",
    description="A step the role allows but four eyes forbids is refused with 403 and a code.",
)
def period_action(request: HttpRequest, action: str, payload: PeriodIn) -> Any:
    user = user_of(request)
    try:
        ltype = types.get(payload.ledger)
    except KeyError:
        raise services.RecordInvalid(
            [("ledger", "未知台账", "unknown ledger")]
        ).as_validation_error() from None
    pairing = get_or_404(services.visible_pairings(user), pk=payload.pairing)
    side = payload.side or ltype.sides[0]
    if side not in ltype.sides:
        raise services.RecordInvalid([("side", "填报方无效", "unknown side")]).as_validation_error()
    try:
        period = period_flow.take_action(
            action,
            actor=user,
            ltype=ltype,
            pairing=pairing,
            side=side,
            year=payload.year,
            period_no=payload.period_no,
            note=payload.note,
            via="api",
        )
    except period_flow.Refused as exc:
        return Status(403, {"detail": exc.message, "code": exc.code, "errors": []})
    except services.RecordInvalid as exc:
        raise exc.as_validation_error() from None
    return _period_out(period)


def build() -> Router:
    """Add one set of routes per registered ledger type (called once, when the API is built)."""
    for t in types.all_types():
        _routes(t)
    return router
