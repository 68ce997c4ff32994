"""The registry (建档立卡): households in your scope, masked; imports through the job queue.

Helper-side roles hold no registry right: their lists are empty and every id is "not found"
(DESIGN.md D2). Members come masked (D3): masked ID number and name, age instead of birth date.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile

from xiezuo.api.auth import user_of
from xiezuo.api.parsing import bad, code_or_error, region_or_error
from xiezuo.api.schemas import MAX_ID, ErrorOut
from xiezuo.core.imports.service import start_import
from xiezuo.core.imports.store import UploadRefused
from xiezuo.core.models import Job
from xiezuo.core.scope import ScopeError, get_or_404
from xiezuo.registry import imports as registry_imports
from xiezuo.registry.models import Household
from xiezuo.registry.selectors import (
    HouseholdFilters,
    filter_households,
    household_detail,
    households_for,
    import_jobs_for,
    keyset_page,
    parse_cursor,
)

router = Router(tags=["registry"])
ERRORS = {400: ErrorOut, 404: ErrorOut}
YEARS = (2013, 2100)


class HouseholdOut(Schema):
    id: int
    number: str = Field(description="户编号")
    region_code: str = Field(description="12-digit code of the village")
    status: str = Field(description="code list poverty_status")
    attribute: str = Field(description="code list household_attribute")
    main_cause: str = Field(description="code list poverty_cause")
    other_causes: list[str]
    standard: str = Field(description="code list identification_standard")
    registered_year: int | None
    planned_exit_year: int | None
    exit_year: int | None
    monitored: bool
    pathway: str = Field(description="code list pathway")
    size: int
    income_per_capita_fen: int | None = Field(description="latest net income per person, fen")


class HouseholdPage(Schema):
    items: list[HouseholdOut]
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")


class MemberOut(Schema):
    id: int
    id_masked: str = Field(description="address code, stars, last two characters")
    name_masked: str
    age: int = Field(description="whole years today (the birth date is not given out)")
    sex: str = Field(description="1 male, 2 female")
    relation: str = Field(description="code list relation")
    entry_reason: str = Field(description="code list member_entry")
    entered_on: dt.date | None
    leave_reason: str = Field(description="code list member_exit")
    left_on: dt.date | None


class StatusOut(Schema):
    status: str = Field(description="code list poverty_status")
    start: dt.date
    end: dt.date | None = Field(description="exclusive; null while current")
    reason: str


class IncomeOut(Schema):
    year: int
    wages_fen: int | None
    business_fen: int | None
    property_fen: int | None
    dividends_fen: int | None
    transfers_fen: int | None
    costs_fen: int | None
    net_per_capita_fen: int | None


class MeasureOut(Schema):
    channel: str = Field(description="code list help_channel")
    started_on: dt.date
    ended_on: dt.date | None


class MonitoringOut(Schema):
    kind: str = Field(description="code list monitoring_type")
    identified_on: dt.date
    risks: list[str]
    removed_on: dt.date | None
    removal: str = Field(description="code list risk_removal")
    measures: list[MeasureOut]


class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]
    statuses: list[StatusOut]
    incomes: list[IncomeOut]
    monitorings: list[MonitoringOut]


class ImportJobOut(Schema):
    id: int
    status: str = Field(
        description="queued, running, done, failed, or quarantined (set aside: workers died under it twice)"
    )
    progress_done: int
    progress_total: int | None
    message: str = Field(description="progress, or why the job failed (Chinese, for people; no traceback)")
    counts: dict[str, int] = Field(description="read, accepted, rejected, created, updated, unchanged")
    notes: list[str]
    errors_file: str | None = Field(description="name of the error report when rows were rejected")


def _household_fields(h: Household) -> dict[str, object]:
    return {
        "id": h.pk,
        "number": h.number,
        "region_code": str(h.region_code),
        "status": h.status,
        "attribute": h.attribute,
        "main_cause": h.main_cause,
        "other_causes": [str(c) for c in h.other_causes or []],
        "standard": h.standard,
        "registered_year": h.registered_year,
        "planned_exit_year": h.planned_exit_year,
        "exit_year": h.exit_year,
        "monitored": h.monitored,
        "pathway": h.pathway,
        "size": h.size,
        "income_per_capita_fen": h.income_per_capita_fen,
    }


def _code(list_key: str, value: str | None, field: str) -> str | None:
    return code_or_error(list_key, value, field) if value is not None else None


@router.get("/registry/households", response={200: HouseholdPage, **ERRORS})
def list_households(
    request: HttpRequest,
    region: str | None = Query(None, max_length=12, description="households in this region's subtree"),
    status: str | None = Query(None, max_length=64, description="code list poverty_status"),
    attribute: str | None = Query(None, max_length=64, description="code list household_attribute"),
    main_cause: str | None = Query(None, max_length=64, description="code list poverty_cause"),
    monitored: bool | None = Query(None, description="under monitoring against return to poverty"),
    exit_year: int | None = Query(None, ge=YEARS[0], le=YEARS[1]),
    after: str | None = Query(
        None, max_length=40, description="`next` of the previous page: <region_code>:<id>"
    ),
    limit: int = Query(100, ge=1, le=500),
) -> HouseholdPage:
    """Households in your scope in (village code, id) order, one page at a time."""
    filters = HouseholdFilters(
        region=region_or_error(region, "region").subtree if region is not None else None,
        status=_code("poverty_status", status, "status"),
        attribute=code_or_error("household_attribute", attribute, "attribute")
        if attribute is not None
        else None,
        main_cause=code_or_error("poverty_cause", main_cause, "main_cause")
        if main_cause is not None
        else None,
        monitored=monitored,
        exit_year=exit_year,
    )
    cursor = None
    if after is not None:
        try:
            cursor = parse_cursor(after)
        except ValueError:
            raise bad("after", _("The cursor is the `next` value of the previous page.")) from None
    page = keyset_page(
        filter_households(households_for(user_of(request)), filters), after=cursor, limit=limit
    )
    return HouseholdPage(
        items=[HouseholdOut(**_household_fields(h)) for h in page.rows],  # type: ignore[arg-type]
        next=page.next,
    )


@router.get("/registry/households/{id}", response={200: HouseholdDetailOut, **ERRORS})
def get_household(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> HouseholdDetailOut:
    """One household with its members (masked), status intervals, incomes and monitoring."""
    household = get_or_404(households_for(user_of(request)), pk=id)
    detail = household_detail(household)
    return HouseholdDetailOut(
        **_household_fields(household),  # type: ignore[arg-type]
        members=[
            MemberOut(
                id=m.id,
                id_masked=m.id_masked,
                name_masked=m.name_masked,
                age=m.age,
                sex=m.sex,
                relation=m.relation,
                entry_reason=m.entry_reason,
                entered_on=m.entered_on,
                leave_reason=m.leave_reason,
                left_on=m.left_on,
            )
            for m in detail.members
        ],
        statuses=[
            StatusOut(status=s.status, start=s.start, end=s.end, reason=s.reason) for s in detail.statuses
        ],
        incomes=[IncomeOut.from_orm(i) for i in detail.incomes],
        monitorings=[
            MonitoringOut(
                kind=m.kind,
                identified_on=m.identified_on,
                risks=[str(r) for r in m.risks or []],
                removed_on=m.removed_on,
                removal=m.removal,
                measures=[MeasureOut.from_orm(x) for x in m.measures.all()],
            )
            for m in detail.monitorings
        ],
    )


def _job_out(job: Job) -> ImportJobOut:
    result = job.result or {}
    return ImportJobOut(
        id=job.pk,
        status=job.status,
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        message=job.message,
        counts=dict(result.get("counts") or {}),
        notes=list(result.get("notes") or []),
        errors_file=result.get("errors_file"),
    )


@router.post("/registry/imports", response={202: ImportJobOut, **ERRORS})
def post_import(
    request: HttpRequest,
    file: File[UploadedFile],
    data_year: Form[int],
    as_of: Form[dt.date],
    dry_run: Form[bool] = False,
) -> Status[ImportJobOut]:
    """Upload a registry file (multipart: ``file``, ``data_year``, ``as_of`` = 数据截止日期, ``dry_run``)
    and queue its import as you; poll ``GET /registry/imports/{job_id}`` for its counts."""
    if not YEARS[0] <= data_year <= YEARS[1]:
        raise bad(
            "data_year", _("The data year lies between {low} and {high}.").format(low=YEARS[0], high=YEARS[1])
        )
    try:
        job = start_import(
            registry_imports.REGISTRY,
            actor=user_of(request),
            upload=file,
            options={"data_year": data_year, "as_of": as_of.isoformat()},
            dry_run=dry_run,
            via="api",
        )
    except ScopeError:
        raise  # → the same 404 as anything out of scope
    except UploadRefused as exc:
        raise ValidationError({"file": [str(exc)]}) from None
    return Status(202, _job_out(job))


@router.get("/registry/imports/{job_id}", response={200: ImportJobOut, **ERRORS})
def get_import(request: HttpRequest, job_id: int = Path(..., ge=1, le=MAX_ID)) -> ImportJobOut:
    """An import you started: status, progress and, when done, its counts."""
    return _job_out(get_or_404(import_jobs_for(user_of(request)), pk=job_id))
