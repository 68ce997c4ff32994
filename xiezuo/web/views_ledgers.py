"""Ledger pages, one set for every ledger type (xiezuo.ledgers.types): list, record, form, import,
template, export, approval periods and the pairing roll-up.

Reads start from ``records_for(user, ltype)`` (D2): a record of a pairing the user cannot see is the
same 404 as a missing one. Writes go through ``xiezuo.ledgers.services``; a refused write (scope)
is 404, a bad value re-shows the form with the reason on its field.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiezuo.core import audit, figures
from xiezuo.core.codelists import label as code_label
from xiezuo.core.scope import ScopeError, can, get_or_404, scope_for
from xiezuo.ledgers import flows, services, types
from xiezuo.ledgers import imports as ledger_imports
from xiezuo.ledgers import periods as period_flow
from xiezuo.ledgers.exporting import export_records, template
from xiezuo.ledgers.models import Attachment, LedgerRecord, Period
from xiezuo.ledgers.rollup import export_rollup, figure, rollup, unit_of
from xiezuo.pairings.models import Pairing
from xiezuo.web import views_imports
from xiezuo.web.forms_ledgers import (
    RecordForm,
    changeable_pairing_ids,
    display,
    initial_values,
    record_cell,
    region_codes,
    region_options,
)
from xiezuo.web.forms_pairings import code_choices
from xiezuo.web.views import region_names

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 50


def ledger_or_404(key: str) -> types.LedgerType:
    try:
        return types.get(key)
    except KeyError:
        raise Http404 from None


def _zh() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def _period_of(ltype: types.LedgerType, record: LedgerRecord) -> Period | None:
    return Period.objects.filter(
        ledger=ltype.key,
        pairing_id=record.pairing_id,
        side=record.side,
        year=record.year,
        period_no=record.period_no,
    ).first()


# --- pages ------------------------------------------------------------------------------------


@login_required
@require_GET
def ledger_index(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "ledger", "view"):
        raise Http404
    areas: dict[str, list[tuple[types.LedgerType, int]]] = {}
    for t in types.all_types():
        areas.setdefault(t.area, []).append((t, services.records_for(request.user, t).count()))
    return render(
        request,
        "web/ledgers/index.html",
        {"areas": [(types.AREAS[a][0] if _zh() else types.AREAS[a][1], rows) for a, rows in areas.items()]},
    )


class ListFilter(forms.Form):
    pairing = forms.IntegerField(label=gettext_lazy("Pairing"), required=False, widget=forms.HiddenInput)
    year = forms.IntegerField(label=gettext_lazy("Year"), required=False, min_value=1996, max_value=2100)
    region = forms.CharField(label=gettext_lazy("Region code"), required=False, max_length=12)
    flagged = forms.ChoiceField(
        label=gettext_lazy("Registry check"),
        required=False,
        choices=[("", gettext_lazy("any")), ("yes", gettext_lazy("failed")), ("no", gettext_lazy("passed"))],
    )
    confirmation = forms.ChoiceField(label=gettext_lazy("Confirmation"), required=False)

    def __init__(self, ltype: types.LedgerType, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirmation"].choices = code_choices("confirmation", blank=_("any"))  # type: ignore[attr-defined]
        for key in ltype.filters:
            c = ltype.full_spec.column(key)
            if c.code_list:
                self.fields[key] = forms.ChoiceField(
                    label=c.header, required=False, choices=code_choices(c.code_list, blank=_("any"))
                )

    def apply(self, qs: QuerySet[Any], ltype: types.LedgerType) -> QuerySet[Any]:
        from xiezuo.ledgers.rollup import subtree_ids

        d = self.cleaned_data
        if d.get("pairing"):
            p = Pairing.objects.filter(pk=d["pairing"]).first()
            qs = qs.filter(pairing_id__in=subtree_ids(p)) if p else qs.none()
        if d.get("year"):
            qs = qs.filter(year=d["year"])
        region = "".join((d.get("region") or "").split())
        if region:
            if not region.isdigit() or len(region) not in (2, 4, 6, 9, 12):
                return qs.none()
            low = int(region.ljust(12, "0"))
            qs = qs.filter(region_code__gte=low, region_code__lt=low + 10 ** (12 - len(region)))
        if d.get("flagged"):
            qs = qs.filter(flagged=d["flagged"] == "yes")
        if d.get("confirmation"):
            qs = qs.filter(confirmation=d["confirmation"])
        for key in ltype.filters:
            if d.get(key):
                qs = qs.filter(**{key: d[key]})
        return qs


@login_required
@require_GET
def record_list(request: HttpRequest, key: str) -> HttpResponse:
    ltype = ledger_or_404(key)
    if not can(request.user, "ledger", "view"):
        raise Http404
    form = ListFilter(ltype, request.GET or None)
    qs = services.records_for(request.user, ltype).select_related("pairing")
    if form.is_valid():
        qs = form.apply(qs, ltype)
    elif form.is_bound:
        qs = qs.none()
    total = qs.count()
    after = request.GET.get("after", "")
    page_qs = qs.order_by("-id")
    if after.isdigit():
        page_qs = page_qs.filter(id__lt=int(after))
    rows = list(page_qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    people = services.people_of(ltype, rows)
    names = region_names(region_codes(ltype, rows))
    # 结对关系 and 归属年度 lead every list; a ledger that lists them itself gets them once
    columns = ["pairing", "year", *[k for k in ltype.list_columns if k not in ("pairing", "year")]]
    headers = [ltype.full_spec.column(k).header for k in columns]
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "web/ledgers/list.html",
        {
            "ltype": ltype,
            "form": form,
            "headers": headers,
            "rows": [
                (r, [record_cell(ltype, r, k, people.get(r.pk, []), names) for k in columns]) for r in rows
            ],
            "total": total,
            "next": rows[-1].pk if more and rows else None,
            "query": query.urlencode(),
            "first_page": not after,
            "can_add": bool(changeable_pairing_ids(request.user, ltype)),
        },
    )


@login_required
@require_GET
def record_detail(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ltype = ledger_or_404(key)
    record = get_or_404(services.records_for(request.user, ltype).select_related("pairing"), pk=pk)
    people = services.people_of(ltype, [record]).get(record.pk, [])
    show_ids = services.may_see_people(request.user, record)
    names = region_names(region_codes(ltype, [record]))
    fields = [
        (c.header, record_cell(ltype, record, c.key, people, names))
        for c in ltype.columns
        if c.key not in ltype.person_columns
    ]
    period = _period_of(ltype, record)
    person_rows = [
        {
            "column": ltype.spec.column(c.field).header,
            "masked": c.id_masked if show_ids else "",
            "ok": c.ok,
            "reason": code_label("verify_reason", c.reason, get_language() or "zh-hans"),
            "on": c.on_date,
            "dataset": c.dataset_id,
        }
        for c in people
    ]
    change = scope_for(request.user, "ledger", "change").contains(record.region_code)
    locked = period is not None and period.locked
    can_match = False
    if ltype.key == "postings":  # the labour staff of the helped counties match labourers to it
        from xiezuo.labour.selectors import staff_counties

        can_match = bool(staff_counties(request.user, record.pairing))
    return render(
        request,
        "web/ledgers/detail.html",
        {
            "ltype": ltype,
            "r": record,
            "fields": fields,
            "place": names.get(record.region_code, ""),
            "people": person_rows,
            "show_ids": show_ids,
            "can_edit": change and not locked,
            "can_confirm": services.may_confirm(request.user, ltype, record) and not locked,
            "can_attach": (change or services.may_confirm(request.user, ltype, record)) and not locked,
            "can_match": can_match,
            "locked": locked,
            "period": period,
            "attachments": Attachment.objects.filter(ledger=ltype.key, record_id=record.pk).order_by("id"),
            "kinds": code_choices("attachment_kind"),
            "side_label": code_label("ledger_side", record.side, get_language() or "zh-hans"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, key: str, pk: int | None = None) -> HttpResponse:
    ltype = ledger_or_404(key)
    record = None
    if pk is not None:
        record = get_or_404(services.records_for(request.user, ltype, "change"), pk=pk)
    elif not changeable_pairing_ids(request.user, ltype):
        raise Http404
    initial = initial_values(ltype, record) if record is not None else {"year": dt.date.today().year}
    checks = services.people_of(ltype, [record]).get(record.pk, []) if record is not None else []
    stored = {c.field: c.id_masked for c in checks}
    period = _period_of(ltype, record) if record is not None else None
    locked = period is not None and period.locked
    form = RecordForm(ltype, request.user, request.POST or None, initial=initial, stored_people=stored)
    options = region_options(request.user, changeable_pairing_ids(request.user, ltype))
    _name_regions(form, ltype, record)
    _offer_unmask(form, request.user, checks)
    if locked:
        # read-only: the page says why; a POST changes nothing
        for form_field in form.fields.values():
            form_field.disabled = True
        if request.method == "POST":
            return render(
                request,
                "web/ledgers/form.html",
                {"ltype": ltype, "form": form, "record": record, "locked": True, "regions": options},
                status=400,
            )
    elif request.method == "POST" and form.is_valid():
        try:
            obj = services.save_record(
                ltype, actor=request.user, values=form.values(), record=record, via="web"
            )
        except ScopeError:
            raise Http404 from None
        except services.RecordInvalid as exc:
            for field, message in exc.messages():
                form.add_error(field if field in form.fields else None, message)
        else:
            return redirect("web:ledger_record", key=ltype.key, pk=obj.pk)
    return render(
        request,
        "web/ledgers/form.html",
        {"ltype": ltype, "form": form, "record": record, "locked": locked, "regions": options},
    )


def _offer_unmask(form: RecordForm, user: Any, checks: list[Any]) -> None:
    """A registered person's clear ID number may be revealed (once, logged: registry.member_unmask)
    by those with the unmask right over the person's household."""
    from xiezuo.registry.models import Household

    matched = {c.household_id for c in checks if c.member_id and c.household_id}
    if not matched:
        return
    scope = scope_for(user, "registry", "unmask")
    places = dict(Household.objects.filter(pk__in=matched).values_list("pk", "region_code"))
    for c in checks:
        if c.member_id and c.household_id in places and scope.contains(places[c.household_id]):
            form.fields[c.field].reveal_member = c.member_id  # type: ignore[attr-defined]


def _name_regions(form: RecordForm, ltype: types.LedgerType, record: LedgerRecord | None) -> None:
    """Beside each region field of an edited record, the name of the region it holds."""
    if record is None:
        return
    keys = ["region_code", *ltype.regions]
    codes = {int(getattr(record, k)) for k in keys if getattr(record, k, None)}
    names = region_names(codes)
    for key in keys:
        code = getattr(record, key, None)
        if code and int(code) in names:
            now = _("Now: {name}").format(name=names[int(code)])
            field = form.fields[key]
            field.help_text = f"{now} · {field.help_text}" if field.help_text else now


@login_required
@require_POST
def record_delete(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ltype = ledger_or_404(key)
    record = get_or_404(services.records_for(request.user, ltype, "change"), pk=pk)
    try:
        services.delete_record(ltype, actor=request.user, record=record, via="web")
    except ScopeError:
        raise Http404 from None
    except services.RecordInvalid as exc:
        return render(
            request, "web/ledgers/refused.html", {"ltype": ltype, "messages_": exc.messages()}, status=400
        )
    return redirect("web:ledger_list", key=ltype.key)


@login_required
@require_POST
def record_confirm(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ltype = ledger_or_404(key)
    record = get_or_404(services.records_for(request.user, ltype).select_related("pairing"), pk=pk)
    try:
        services.confirm_record(
            ltype,
            actor=request.user,
            record=record,
            confirmed=request.POST.get("decision") != "dispute",
            note=request.POST.get("note", ""),
            via="web",
        )
    except ScopeError:
        raise Http404 from None
    except services.RecordInvalid as exc:
        return render(
            request, "web/ledgers/refused.html", {"ltype": ltype, "messages_": exc.messages()}, status=400
        )
    return redirect("web:ledger_record", key=ltype.key, pk=record.pk)


@login_required
@require_POST
def record_attach(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    ltype = ledger_or_404(key)
    record = get_or_404(services.records_for(request.user, ltype).select_related("pairing"), pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        return render(
            request,
            "web/ledgers/refused.html",
            {"ltype": ltype, "messages_": [("file", _("Choose a file."))]},
            status=400,
        )
    try:
        services.add_attachment(
            ltype,
            actor=request.user,
            record=record,
            kind=request.POST.get("kind", ""),
            upload=upload,
            title=request.POST.get("title", ""),
            via="web",
        )
    except ScopeError:
        raise Http404 from None
    except services.RecordInvalid as exc:
        return render(
            request, "web/ledgers/refused.html", {"ltype": ltype, "messages_": exc.messages()}, status=400
        )
    return redirect("web:ledger_record", key=ltype.key, pk=record.pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    att = Attachment.objects.filter(pk=pk).select_related("period").first()
    if att is None:
        raise Http404
    ltype = ledger_or_404(att.ledger)
    if att.record_id is not None:
        record = get_or_404(services.records_for(request.user, ltype), pk=att.record_id)
        region_code = record.region_code
    else:
        assert att.period is not None
        pairing = get_or_404(services.visible_pairings(request.user), pk=att.period.pairing_id)
        region_code = services.side_regions(pairing, att.period.side)[0][0]
    audit.record(
        actor=request.user,
        action="download",
        object_type="attachment",
        object_id=att.pk,
        object_repr=att.title,
        region_code=region_code,
        via="web",
    )
    return FileResponse(att.file.open("rb"), as_attachment=True, filename=Path(att.file.name).name)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    pairing = forms.ChoiceField(
        label=gettext_lazy("Pairing (for sheets without a 结对关系 column)"), required=False
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Money unit where the sheet states none"),
        required=False,
        choices=[("", gettext_lazy("as the headers say")), ("元", "元"), ("万元", "万元"), ("亿元", "亿元")],
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check and count, write nothing"), required=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest, key: str) -> HttpResponse:
    ltype = ledger_or_404(key)
    ids = changeable_pairing_ids(request.user, ltype)
    if not ids:
        raise Http404
    kind = ledger_imports.kind(ltype.key)
    form = ImportForm(request.POST or None, request.FILES or None)
    form.fields["pairing"].choices = [  # type: ignore[attr-defined]
        ("", "—"),
        *[(str(p.pk), p.name) for p in Pairing.objects.filter(pk__in=ids).order_by("level", "name")[:500]],
    ]
    if request.method == "POST" and form.is_valid():
        pairing = form.cleaned_data.get("pairing")
        options = {
            "pairing": int(pairing) if pairing else None,
            "unit": form.cleaned_data.get("unit") or None,
        }
        done = views_imports.upload(request, kind, form, options)
        if done is not None:
            return done
    name = ltype.en if not _zh() else ltype.zh
    return views_imports.page(
        request,
        form=form,
        title=_("Import: {ledger}").format(ledger=name),
        lead=_(
            "The import runs in the background; rejected rows come back in an error report you can fix "
            "and import again. Importing the same file again changes nothing."
        ),
        crumbs=[
            (reverse("web:ledgers"), _("Cooperation ledgers")),
            (reverse("web:ledger_list", args=[ltype.key]), name),
        ],
        template_url=reverse("web:ledger_template", args=[ltype.key]),
        rows=views_imports.recent(
            request.user, kind, views_imports.errors_link("web:ledger_import_errors", ltype.key)
        ),
    )


@login_required
@require_GET
def ledger_import_errors(request: HttpRequest, key: str, job_id: int) -> FileResponse:
    """The error report of a ledger import, for the user who started it only; audited."""
    ltype = ledger_or_404(key)
    return views_imports.errors_download(
        request, ledger_imports.kind(ltype.key), job_id, "ledger_import_errors"
    )


@login_required
@require_GET
def ledger_template(request: HttpRequest, key: str) -> HttpResponse:
    ltype = ledger_or_404(key)
    with tempfile.TemporaryDirectory() as tmp:
        content = template(ltype, Path(tmp) / "template.xlsx").read_bytes()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{ltype.key}-template.xlsx"'
    return response


@login_required
@require_GET
def ledger_export(request: HttpRequest, key: str) -> HttpResponse:
    """The filtered records as a sheet with the template's headers (people masked); audited."""
    ltype = ledger_or_404(key)
    if not can(request.user, "ledger", "view"):
        raise Http404
    form = ListFilter(ltype, request.GET or None)
    qs = services.records_for(request.user, ltype).select_related("pairing")
    if form.is_valid():
        qs = form.apply(qs, ltype)
    records = list(qs.order_by("id")[:100_000])
    with tempfile.TemporaryDirectory() as tmp:
        content = export_records(ltype, records, Path(tmp) / "export.xlsx", user=request.user).read_bytes()
    audit.record(
        actor=request.user,
        action="export",
        object_type=ltype.key,
        object_repr=ltype.zh,
        batch={"rows": len(records), "query": request.GET.urlencode()[:500]},
        via="web",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{ltype.key}.xlsx"'
    return response


# --- approval periods and the roll-up ---------------------------------------------------------


@login_required
@require_GET
def periods(request: HttpRequest) -> HttpResponse:
    """Reporting periods of the pairings the user sees, for a year: state, deadline, the user's actions."""
    if not can(request.user, "ledger", "view"):
        raise Http404
    year = int(request.GET["year"]) if request.GET.get("year", "").isdigit() else dt.date.today().year - 1
    pairing_id = request.GET.get("pairing", "")
    visible = services.visible_pairings(request.user)
    pairings = list(visible.filter(pk=int(pairing_id))) if pairing_id.isdigit() else []
    rows = []
    for pairing in pairings:
        for t in types.all_types():
            for side in t.sides:
                flow = flows.flow_for(t.key, side)
                nos = (
                    [0] if flow.period == "year" else list(range(1, flows.PERIODS_PER_YEAR[flow.period] + 1))
                )
                existing = {
                    p.period_no: p
                    for p in Period.objects.filter(ledger=t.key, pairing=pairing, side=side, year=year)
                }
                for no in nos:
                    p = existing.get(no) or Period(
                        ledger=t.key, pairing=pairing, side=side, year=year, period_no=no
                    )
                    step = period_flow.next_step(p)
                    rows.append(
                        {
                            "ltype": t,
                            "pairing": pairing,
                            "p": p,
                            "side_label": code_label("ledger_side", side, get_language() or "zh-hans"),
                            "label": flow.label(year, no),
                            "deadline": flow.deadline_of(year, no),
                            "steps": flow.steps,
                            "next": step,
                            "can_advance": period_flow.may_advance(request.user, p),
                            "can_return": period_flow.may_return(request.user, p),
                            "can_request": period_flow.may_request_unlock(request.user, p),
                            "can_unlock": period_flow.may_grant_unlock(request.user, p),
                            "can_attach": services.may_attach_to_period(request.user, p),
                            "attachments": list(p.attachments.order_by("id")) if p.pk else [],
                        }
                    )
    return render(
        request,
        "web/ledgers/periods.html",
        {
            "rows": rows,
            "year": year,
            "pairing_id": pairing_id,
            "pairings": list(visible.order_by("level", "name")[:300]),
        },
    )


@login_required
@require_POST
def period_action(request: HttpRequest, action: str) -> HttpResponse:
    try:
        ltype = ledger_or_404(request.POST.get("ledger", ""))
        pairing = get_or_404(
            services.visible_pairings(request.user), pk=int(request.POST.get("pairing", "0"))
        )
        year = int(request.POST.get("year", "0"))
        period_no = int(request.POST.get("period_no", "0"))
    except ValueError:
        raise Http404 from None
    if not 1996 <= year <= 2100:
        raise Http404
    try:
        period_flow.take_action(
            action,
            actor=request.user,
            ltype=ltype,
            pairing=pairing,
            side=request.POST.get("side") or ltype.sides[0],
            year=year,
            period_no=period_no,
            note=request.POST.get("note", ""),
        )
    except ScopeError:
        raise Http404 from None
    except period_flow.Refused as exc:
        back = f"{reverse('web:ledger_periods')}?pairing={pairing.pk}&year={year}"
        return render(
            request,
            "web/ledgers/refused.html",
            {"ltype": ltype, "messages_": [("", exc.message)], "code": exc.code, "back": back},
            status=403,
        )
    except services.RecordInvalid as exc:
        return render(
            request, "web/ledgers/refused.html", {"ltype": ltype, "messages_": exc.messages()}, status=400
        )
    return redirect(f"{reverse('web:ledger_periods')}?pairing={pairing.pk}&year={year}")


@login_required
@require_POST
def period_attach(request: HttpRequest) -> HttpResponse:
    """A stamped scan (盖章扫描件) or other evidence for a reporting period, by those who take its steps."""
    try:
        ltype = ledger_or_404(request.POST.get("ledger", ""))
        pairing = get_or_404(
            services.visible_pairings(request.user), pk=int(request.POST.get("pairing", "0"))
        )
        year = int(request.POST.get("year", "0"))
        period_no = int(request.POST.get("period_no", "0"))
    except ValueError:
        raise Http404 from None
    side = request.POST.get("side") or ltype.sides[0]
    if side not in ltype.sides or not 1996 <= year <= 2100:
        raise Http404
    period = Period.objects.filter(
        ledger=ltype.key, pairing=pairing, side=side, year=year, period_no=period_no
    ).first() or Period(ledger=ltype.key, pairing=pairing, side=side, year=year, period_no=period_no)
    if not services.may_attach_to_period(request.user, period):
        raise Http404
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise services.RecordInvalid([("file", "请选择文件", "choose a file")])
        services.add_period_attachment(
            period,
            actor=request.user,
            kind=request.POST.get("kind", "stamped_scan"),
            upload=upload,
            via="web",
        )
    except ScopeError:
        raise Http404 from None
    except services.RecordInvalid as exc:
        return render(
            request, "web/ledgers/refused.html", {"ltype": ltype, "messages_": exc.messages()}, status=400
        )
    return redirect(f"{reverse('web:ledger_periods')}?pairing={pairing.pk}&year={year}")


@login_required
@require_GET
def pairing_rollup(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """One screen per pairing and year: every ledger against the agreement's targets, with sub-pairings."""
    pairing = get_or_404(services.visible_pairings(request.user), pk=pk)
    if not 1996 <= year <= 2100:
        raise Http404
    r = rollup(pairing, year)
    areas = []
    for area, lines in r.by_area():
        rows = []
        for line in lines:
            split = []
            if line.split:
                col = line.ledger.full_spec.column(line.metric.split) if line.metric.split else None
                for code, v in line.split.items():
                    name = display(col, code) if col is not None else code
                    split.append((name or "—", figure(line, v)))
            rows.append(
                {
                    "ledger": line.ledger,
                    "key": line.metric.key,
                    "label": line.metric.zh if _zh() else line.metric.en,
                    # the unit the summary declares (rollup.MONEY_UNIT): 万元, "10k yuan" in English
                    "unit": _("10k yuan") if line.metric.unit == "money" else unit_of(line),
                    "total": figure(line, line.total),
                    "raw": line.total,
                    "own": figure(line, line.own),
                    "children": [(c, figure(line, v)) for c, v in line.children],
                    "target": figure(line, line.target),
                    "ratio": figures.ratio(line.ratio),
                    "split": split,
                }
            )
        areas.append((types.AREAS[area][0] if _zh() else types.AREAS[area][1], rows))
    children = list(Pairing.objects.filter(parent=pairing).order_by("name"))
    return render(
        request,
        "web/ledgers/rollup.html",
        {
            "pairing": pairing,
            "year": year,
            "areas": areas,
            "children": children,
            "prev": year - 1,
            "next": year + 1,
        },
    )


@login_required
@require_GET
def pairing_rollup_export(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """The annual summary as a sheet: the page's figures, exact, formatted as the page shows them."""
    pairing = get_or_404(services.visible_pairings(request.user), pk=pk)
    if not 1996 <= year <= 2100:
        raise Http404
    with tempfile.TemporaryDirectory() as tmp:
        content = export_rollup(rollup(pairing, year), Path(tmp) / "summary.xlsx").read_bytes()
    audit.record(
        actor=request.user,
        action="export",
        object_type="pairing_rollup",
        object_id=pairing.pk,
        object_repr=f"{pairing.name} {year}",
        via="web",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="summary-{pairing.pk}-{year}.xlsx"'
    return response
