"""Pages of the web shell: home dashboard, jobs, audit log and the public page.

Views parse, call a read and render. Every read starts from what the user may see (DESIGN.md D2);
out of scope is the same 404 as missing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required, login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from xiezuo.accounts.roles import NATIONAL, ROLES, SYSADMIN
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import active_grants, can, get_or_404, scope_for
from xiezuo.regions.models import LEVEL_DIGITS, Region, full_code, subtree_range
from xiezuo.web import public as public_tables
from xiezuo.web import workbench
from xiezuo.web.job_display import result_view

AUDIT_PAGE = 50
HOME_JOBS = 5

# ---------------------------------------------------------------------------------------------
# Reads


def jobs_for(user: Any) -> QuerySet[Job]:
    """Jobs the user may see: their own; national coordinators and system administrators also see
    the jobs of their regions (all jobs with a whole-country grant)."""
    ranges: list[tuple[int, int]] = []
    for grant in active_grants(user):
        if grant.role not in (NATIONAL, SYSADMIN):
            continue
        if grant.region is None:
            return Job.objects.all()
        ranges.append(subtree_range(grant.region.code, grant.region.level))
    visible = Q(created_by=user)
    for low, high in ranges:
        visible |= Q(region_code__gte=low, region_code__lt=high)
    return Job.objects.filter(visible)


def audit_for(user: Any) -> QuerySet[AuditEntry]:
    """Audit entries in the auditor's scope; entries without a region only for whole-country grants.

    Raises Http404 for users who may not read the audit log at all.
    """
    scope = scope_for(user, "audit", "view")
    if scope.is_empty:
        raise Http404
    # Scope.q is a range on region_code, which never matches a null code: national-only entries
    # stay out unless the scope is the whole country.
    return AuditEntry.objects.filter(scope.q("region_code"))


def region_names(codes: set[int]) -> dict[int, str]:
    """Names of regions by 12-digit code (the highest level wins where codes coincide)."""
    names: dict[int, str] = {}
    for code, name in Region.objects.filter(code__in=codes).order_by("-level").values_list("code", "name"):
        names[code] = name
    return names


# ---------------------------------------------------------------------------------------------
# Home


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from xiezuo.pairings.selectors import pairings_for

    user = request.user
    grants = sorted(active_grants(user), key=lambda g: (g.region.code if g.region else 0, g.role))
    context = {
        "pairing_count": pairings_for(user).count(),
        "grants": [
            {
                "role": ROLES.get(g.role, g.role),
                "region": g.region,
                "expires_on": g.expires_on,
                "expires_soon": g.expires_on is not None
                and g.expires_on <= timezone.localdate() + dt.timedelta(days=30),
            }
            for g in grants
        ],
        "jobs": list(Job.objects.filter(created_by_id=user.pk).order_by("-created_at", "-id")[:HOME_JOBS]),
        "can_audit": can(user, "audit", "view"),
    }
    context.update(work(user))
    return render(request, "web/home.html", context)


def work(user: Any) -> dict[str, Any]:
    """The home page's work blocks (xiezuo.web.workbench): due, waiting for me, imports, progress."""
    today = timezone.localdate()
    own = workbench.own_pairings(user)
    zh = (get_language() or "zh-hans").lower().startswith("zh")
    progress = workbench.progress(own, today, zh=zh)
    return {
        "today": today,
        "due": workbench.due_periods(user, today, own)[: workbench.MAX_ROWS],
        "to_confirm": workbench.to_confirm(user),
        "disputed": workbench.disputed(user),
        "to_approve": workbench.periods_to_approve(user),
        "unlocks": workbench.unlock_requests(user),
        "imports": workbench.recent_imports(user),
        "progress": progress,
        "has_progress": any(p["items"] for p in progress),
    }


# ---------------------------------------------------------------------------------------------
# Jobs


@login_required
@require_GET
def jobs(request: HttpRequest) -> HttpResponse:
    qs = jobs_for(request.user).select_related("created_by").order_by("-created_at", "-id")
    rows = list(qs[:200])
    for job in rows:
        job.view = result_view(job)  # type: ignore[attr-defined]
    return render(request, "web/jobs.html", {"jobs": rows})


@login_required
@require_GET
def job_row(request: HttpRequest, job_id: int) -> HttpResponse:
    """One row of the jobs table; rows of unfinished jobs poll this every 2 s through htmx."""
    job = get_or_404(jobs_for(request.user).select_related("created_by"), pk=job_id)
    job.view = result_view(job)
    return render(request, "web/partials/job_row.html", {"job": job})


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_or_404(jobs_for(request.user).select_related("created_by"), pk=job_id)
    # The failure is the people-facing message only; the traceback stays in the log (ADR 0012).
    return render(request, "web/job.html", {"job": job, "view": result_view(job, request.user)})


# ---------------------------------------------------------------------------------------------
# Audit log


def _region_filter(value: str) -> tuple[int, int]:
    text = value.strip()
    levels = {width: level for level, width in LEVEL_DIGITS.items()}
    if len(text) not in levels or not text.isdigit():
        raise forms.ValidationError(_("Enter a region code of 2, 4, 6, 9 or 12 digits."))
    return subtree_range(full_code(text), levels[len(text)])


class AuditFilter(forms.Form):
    region = forms.CharField(label=_("Region code"), required=False, max_length=12)
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object ID"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean_region(self) -> tuple[int, int] | None:
        value = self.cleaned_data.get("region") or ""
        return _region_filter(value) if value.strip() else None

    def filter(self, qs: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        if data.get("region"):
            low, high = data["region"]
            qs = qs.filter(region_code__gte=low, region_code__lt=high)
        if data.get("user"):
            qs = qs.filter(actor_name__iexact=data["user"].strip())
        if data.get("object_type"):
            qs = qs.filter(object_type=data["object_type"].strip())
        if data.get("object_id"):
            qs = qs.filter(object_id=data["object_id"].strip())
        tz = timezone.get_current_timezone()
        if data.get("date_from"):
            qs = qs.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time.min, tzinfo=tz))
        if data.get("date_to"):
            end = data["date_to"] + dt.timedelta(days=1)
            qs = qs.filter(at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz))
        return qs


@login_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, 50 a page with keyset paging on id (``before`` / ``after``)."""
    base = audit_for(request.user)
    form = AuditFilter(request.GET or None)
    entries: list[AuditEntry] = []
    has_older = has_newer = False
    if form.is_bound and not form.is_valid():
        qs = base.none()
    else:
        qs = form.filter(base) if form.is_bound else base
        before = form.cleaned_data.get("before") if form.is_bound else None
        after = form.cleaned_data.get("after") if form.is_bound else None
        if after is not None and before is None:
            entries = list(qs.filter(id__gt=after).order_by("id")[: AUDIT_PAGE + 1])
            has_newer = len(entries) > AUDIT_PAGE
            entries = entries[:AUDIT_PAGE][::-1]
            has_older = bool(entries) and qs.filter(id__lt=entries[-1].pk).exists()
        else:
            page = qs.filter(id__lt=before) if before is not None else qs
            entries = list(page.order_by("-id")[: AUDIT_PAGE + 1])
            has_older = len(entries) > AUDIT_PAGE
            entries = entries[:AUDIT_PAGE]
            has_newer = before is not None and bool(entries) and qs.filter(id__gt=entries[0].pk).exists()
    keep = request.GET.copy()
    keep.pop("before", None)
    keep.pop("after", None)
    filters = keep.urlencode()
    names = region_names({e.region_code for e in entries if e.region_code is not None})
    rows = [
        {
            "entry": e,
            **audit_labels(e),
            "region_name": names.get(e.region_code, "") if e.region_code is not None else "",
            "changes": json.dumps(e.changes, ensure_ascii=False, sort_keys=True) if e.changes else "",
            "batch": json.dumps(e.batch, ensure_ascii=False, sort_keys=True) if e.batch else "",
        }
        for e in entries
    ]
    context = {
        "form": form,
        "rows": rows,
        "filters": filters,
        "older": entries[-1].pk if has_older and entries else None,
        "newer": entries[0].pk if has_newer and entries else None,
        "page_size": AUDIT_PAGE,
    }
    return render(request, "web/audit.html", context)


def audit_labels(entry: AuditEntry) -> dict[str, str]:
    """What an audit entry's codes mean, in the page's language (code lists audit_action,
    audit_object, audit_via; a ledger record is named by its ledger type)."""
    from xiezuo.core.codelists import label
    from xiezuo.ledgers import types as ledger_types

    lang = get_language() or "zh-hans"
    try:
        ltype = ledger_types.get(entry.object_type)
    except KeyError:
        what = label("audit_object", entry.object_type, lang)
    else:
        what = ltype.en if lang.startswith("en") else ltype.zh
    return {
        "action_label": label("audit_action", entry.action, lang),
        "object_label": what,
        "via_label": label("audit_via", entry.via, lang),
    }


# ---------------------------------------------------------------------------------------------
# Public page


@login_not_required
@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """Published aggregates only, for everyone; cells below XIEZUO_PUBLIC_MIN_CELL are suppressed."""
    min_cell = settings.XIEZUO_PUBLIC_MIN_CELL
    pairings = public_tables.pairings_by_programme_and_level(min_cell=min_cell)
    counties, province_names = public_tables.poverty_counties_by_province_and_exit_year(min_cell=min_cell)
    county_rows = [
        {"name": province_names.get(code, str(code)[:2]), "cells": cells, "total": total}
        for code, cells, total in zip(counties.row_keys, counties.cells, counties.row_totals, strict=True)
    ]
    pairing_rows = [
        {"programme": key, "cells": cells, "total": total}
        for key, cells, total in zip(pairings.row_keys, pairings.cells, pairings.row_totals, strict=True)
    ]
    context = {
        "min_cell": min_cell,
        "pairings": pairings,
        "pairing_rows": pairing_rows,
        "counties": counties,
        "county_rows": county_rows,
        "complementary": public_tables.COMPLEMENTARY,
    }
    return render(request, "web/public.html", context)
