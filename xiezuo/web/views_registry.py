"""Registry pages: household list and page, unmask, imports of the registry and monitoring sheets
(upload, error report, template).

Every read starts from ``households_for(request.user)`` (DESIGN.md D2): a household out of scope
is the same 404 as a missing one. Pages show masked IDs and names and ages, never birth dates
(D3); unmasking is a POST, in scope, audited.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError, can, get_or_404, scope_for
from xiezuo.core.tabular.spec import write_template
from xiezuo.regions.models import Region
from xiezuo.regions.selectors import region_by_short_code
from xiezuo.registry import imports as registry_imports
from xiezuo.registry.columns import HOUSEHOLD_NUMBER, REGISTRY
from xiezuo.registry.exporting import export_members
from xiezuo.registry.help import help_received
from xiezuo.registry.idnumbers import MESSAGES_EN, MESSAGES_ZH
from xiezuo.registry.models import Household
from xiezuo.registry.monitoring_columns import MONITORING
from xiezuo.registry.selectors import (
    HouseholdFilters,
    current_heads,
    filter_households,
    household_counts,
    household_counts_for,
    household_detail,
    households_for,
    id_key,
    keyset_page,
    name_key,
    parse_cursor,
    people_count_for,
)
from xiezuo.registry.services import unmask_member
from xiezuo.web import views_imports
from xiezuo.web.forms_pairings import code_choices, set_choices
from xiezuo.web.views import region_names

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A sheet a spreadsheet program still opens comfortably; a county's registry is well below it.
EXPORT_MAX_PEOPLE = 200_000
PEOPLE_COUNTED_UP_TO = 200_000  # households
YEARS = (2013, 2100)

MONITORED_CHOICES = [
    ("", gettext_lazy("either")),
    ("yes", gettext_lazy("monitored")),
    ("no", gettext_lazy("not monitored")),
]


class HouseholdFilterForm(forms.Form):
    """GET filters and searches of the household list; every field optional.

    The name and the ID number become keyed hashes here (D3): what was typed is compared with the
    members' ``name_hmac`` / ``id_hmac``, never stored, logged or matched in clear.
    """

    number = forms.CharField(
        label=gettext_lazy("Household number"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("the whole number or its beginning"),
    )
    name = forms.CharField(
        label=gettext_lazy("Member's full name"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("the exact full name"),
    )
    id_number = forms.CharField(label=gettext_lazy("Member's ID number"), required=False, max_length=40)
    region = forms.CharField(
        label=gettext_lazy("Region code"),
        required=False,
        max_length=12,
        help_text=gettext_lazy("2, 4, 6, 9 or 12 digits; households in its subtree"),
    )
    status = forms.ChoiceField(label=gettext_lazy("Poverty status"), required=False)
    attribute = forms.ChoiceField(label=gettext_lazy("Household attribute"), required=False)
    main_cause = forms.ChoiceField(label=gettext_lazy("Main poverty cause"), required=False)
    monitored = forms.ChoiceField(label=gettext_lazy("Monitoring"), required=False, choices=MONITORED_CHOICES)
    exit_year = forms.IntegerField(
        label=gettext_lazy("Exit year"), required=False, min_value=YEARS[0], max_value=YEARS[1]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "status", code_choices("poverty_status", blank=_("any status")))
        set_choices(self, "attribute", code_choices("household_attribute", blank=_("any attribute")))
        set_choices(self, "main_cause", code_choices("poverty_cause", blank=_("any cause")))

    def clean_region(self) -> Region | None:
        code = "".join(self.cleaned_data.get("region", "").split())
        if not code:
            return None
        region = region_by_short_code(Region.objects.all(), code)
        if region is None:
            raise forms.ValidationError(_("No region has this code."))
        return region

    def clean_number(self) -> str:
        number = "".join(self.cleaned_data.get("number", "").split())
        if number and not re.fullmatch(HOUSEHOLD_NUMBER, number):
            raise forms.ValidationError(_("A household number has letters, digits, '-' and '_' only."))
        return number

    def clean_name(self) -> str | None:
        return name_key(self.cleaned_data.get("name", ""))

    def clean_id_number(self) -> str | None:
        text = self.cleaned_data.get("id_number", "").strip()
        if not text:
            return None
        key, check = id_key(text)
        if key is None:
            messages = MESSAGES_ZH if (get_language() or "").startswith("zh") else MESSAGES_EN
            raise forms.ValidationError(messages.get(check.error or "", _("This is not a valid ID number.")))
        return key

    def filters(self) -> HouseholdFilters:
        data = self.cleaned_data
        monitored = {"yes": True, "no": False}.get(data.get("monitored") or "")
        return HouseholdFilters(
            number_prefix=data.get("number") or None,
            name_hmac=data.get("name"),
            id_hmac=data.get("id_number"),
            region=data["region"].subtree if data.get("region") else None,
            status=data.get("status") or None,
            attribute=data.get("attribute") or None,
            main_cause=data.get("main_cause") or None,
            monitored=monitored,
            exit_year=data.get("exit_year"),
        )


def _listed(request: HttpRequest) -> tuple[HouseholdFilterForm, QuerySet[Household], HouseholdFilters | None]:
    """The form, the user's households under its filters and searches, and the filters (None when
    the form is invalid: then nothing is listed)."""
    form = HouseholdFilterForm(request.GET or None)
    qs = households_for(request.user)
    filters: HouseholdFilters | None = HouseholdFilters()
    if form.is_valid():
        filters = form.filters()
        qs = filter_households(qs, filters)
    elif form.is_bound:
        qs = qs.none()
        filters = None
    return form, qs, filters


def may_export(user: Any) -> bool:
    """Registry exports (masked) are for the roles that keep the registry: helped-side
    coordinators and county clerks."""
    return can(user, "registry", "change")


@login_required
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    form, qs, filters = _listed(request)
    after = None
    if request.GET.get("after"):
        try:
            after = parse_cursor(request.GET["after"])
        except ValueError:
            after = None
    page = keyset_page(qs, after=after)
    total, by_status = household_counts_for(request.user, filters) if filters else household_counts(qs)
    # People are counted member by member (no maintained aggregate): for any result up to a large
    # county's size; a province's whole list shows its household counts only.
    people = people_count_for(request.user, filters) if filters and total <= PEOPLE_COUNTED_UP_TO else None
    names = region_names({h.region_code for h in page.rows})
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "web/registry/list.html",
        {
            "form": form,
            "households": [(h, names.get(h.region_code, "")) for h in page.rows],
            "next": page.next,
            "first_page": after is None,
            "query": query.urlencode(),
            "total": total,
            "people": people,
            "by_status": list(by_status.items()),
            "can_import": can(request.user, "registry", "change"),
            "can_export": may_export(request.user) and filters is not None,
        },
    )


@login_required
@require_GET
def household_export(request: HttpRequest) -> HttpResponse:
    """The members of the listed households (the same filters and searches) as a sheet, masked;
    audited with the counts, never with what was searched for (names and IDs are personal)."""
    if not may_export(request.user):
        raise Http404
    _form, qs, filters = _listed(request)
    if filters is None:
        raise Http404
    people = people_count_for(request.user, filters)
    if people > EXPORT_MAX_PEOPLE:
        messages.error(
            request,
            _(
                "The result holds {n} people, more than {max} can be exported at once. Narrow the search."
            ).format(n=people, max=EXPORT_MAX_PEOPLE),
        )
        return redirect(f"{reverse('web:households')}?{request.GET.urlencode()}")
    with tempfile.TemporaryDirectory() as tmp:
        path, rows = export_members(qs, Path(tmp) / "export.xlsx")
        content = path.read_bytes()
    audit.record(
        actor=request.user,
        action="export",
        object_type="registry",
        object_repr=_("Registered households"),
        batch={"rows": rows, "searched": filters.searches},
        via="web",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="registry.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def household_page(request: HttpRequest, pk: int) -> HttpResponse:
    household = get_or_404(households_for(request.user), pk=pk)
    detail = household_detail(household)
    names_by_member = {m.id: m.name_masked for m in detail.members}
    zh = (get_language() or "").startswith("zh")
    help_rows = [
        {
            "ledger": row.ledger,
            "label": row.ledger_zh if zh else row.ledger_en,
            "record_id": row.record_id,
            "year": row.year,
            "member": names_by_member.get(row.member_id or 0, ""),
            "on_date": row.on_date,
            "ok": row.ok,
            "reason": row.reason,
        }
        for row in help_received(request.user, household)
    ]
    unmask_scope = scope_for(request.user, "registry", "unmask")
    code = household.region_code
    names = region_names({code, code // 1000 * 1000, code // 10**6 * 10**6})
    places = [names[c] for c in (code // 10**6 * 10**6, code // 1000 * 1000, code) if c in names]
    return render(
        request,
        "web/registry/household.html",
        {
            "detail": detail,
            "h": household,
            "place": " ".join(dict.fromkeys(places)),
            "can_unmask": unmask_scope.contains(household.region_code),
            "heads": current_heads(detail.members),
            "help_rows": help_rows,
        },
    )


@login_required
@require_POST
def member_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """The clear ID number and name of one member, once (an htmx fragment), audited."""
    try:
        clear = unmask_member(actor=request.user, member_id=pk, via="web")
    except ScopeError:
        raise Http404 from None
    response = render(request, "web/registry/unmasked.html", {"clear": clear})
    response["Cache-Control"] = "no-store"
    return response


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    data_year = forms.IntegerField(label=gettext_lazy("Data year"), min_value=YEARS[0], max_value=YEARS[1])
    as_of = forms.DateField(label=gettext_lazy("As-of date"), widget=forms.DateInput(attrs={"type": "date"}))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check and count, write nothing"), required=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "registry", "change"):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        options = {
            "data_year": form.cleaned_data["data_year"],
            "as_of": form.cleaned_data["as_of"].isoformat(),
        }
        done = views_imports.upload(request, registry_imports.REGISTRY, form, options)
        if done is not None:
            return done
    return views_imports.page(
        request,
        form=form,
        title=_("Import registry data"),
        lead=_(
            "One row per member, as the county keeps the sheet. The import runs in the background; "
            "rejected rows come back in an error report you can fix and import again."
        ),
        crumbs=[(reverse("web:households"), _("Registered households"))],
        template_url=reverse("web:registry_template"),
        rows=views_imports.recent(
            request.user, registry_imports.REGISTRY, views_imports.errors_link("web:registry_import_errors")
        ),
    )


@login_required
@require_GET
def registry_import_errors(request: HttpRequest, job_id: int) -> FileResponse:
    """The error report of an import, for the user who started it only; the download is audited."""
    return views_imports.errors_download(request, registry_imports.REGISTRY, job_id, "registry_import_errors")


class MonitoringImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check and count, write nothing"), required=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def monitoring_import(request: HttpRequest) -> HttpResponse:
    """Upload the monitoring sheet (help measures, risk removal) of households in the registry."""
    if not can(request.user, "registry", "change"):
        raise Http404
    form = MonitoringImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        done = views_imports.upload(request, registry_imports.MONITORING, form, {})
        if done is not None:
            return done
    return views_imports.page(
        request,
        form=form,
        title=_("Import monitoring data"),
        lead=_(
            "One row per help measure of a monitored household already in the registry. The import "
            "runs in the background; rejected rows come back in an error report you can fix and "
            "import again. Importing the same file again changes nothing."
        ),
        crumbs=[(reverse("web:households"), _("Registered households"))],
        template_url=reverse("web:monitoring_template"),
        rows=views_imports.recent(
            request.user,
            registry_imports.MONITORING,
            views_imports.errors_link("web:monitoring_import_errors"),
        ),
    )


@login_required
@require_GET
def monitoring_import_errors(request: HttpRequest, job_id: int) -> FileResponse:
    """The error report of a monitoring import, for the user who started it only; audited."""
    return views_imports.errors_download(
        request, registry_imports.MONITORING, job_id, "monitoring_import_errors"
    )


@login_required
@require_GET
def monitoring_template(request: HttpRequest) -> HttpResponse:
    """The empty monitoring template (headers, drop-downs, code sheet; no personal data)."""
    with tempfile.TemporaryDirectory() as tmp:
        content = write_template(MONITORING, Path(tmp) / "template.xlsx").read_bytes()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="monitoring-template.xlsx"'
    return response


@login_required
@require_GET
def registry_template(request: HttpRequest) -> HttpResponse:
    """The empty import template (no personal data: headers, drop-downs, code sheet)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_template(REGISTRY, Path(tmp) / "template.xlsx")
        content = path.read_bytes()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response
