"""Pairing browser: list with filters, detail, create/edit, and the flow map (DESIGN.md D2, D14).

Every read starts from ``pairings_for(request.user)``; a pairing out of scope is the same 404 as
a missing one.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError, can, get_or_404
from xiezuo.pairings.models import Pairing, PairingDocument, PairingSide
from xiezuo.pairings.selectors import organisations_for, pairings_for, sides_of
from xiezuo.pairings.services import add_document, save_pairing
from xiezuo.web import maps
from xiezuo.web.forms_pairings import MapFilterForm, PairingFilterForm, PairingForm, members_text

PAGE_SIZE = 25


def _with_sides(qs: QuerySet[Pairing]) -> QuerySet[Pairing]:
    return qs.prefetch_related("sides__region", "sides__organisation__region")


def _active_in(qs: QuerySet[Pairing], year: int | None) -> QuerySet[Pairing]:
    if year is None:
        return qs
    return qs.filter(Q(end_year__isnull=True) | Q(end_year__gte=year), start_year__lte=year)


def filter_pairings(qs: QuerySet[Pairing], data: dict[str, Any]) -> QuerySet[Pairing]:
    """Apply the cleaned filters of ``PairingFilterForm`` to an already scoped queryset."""
    if data.get("programme"):
        qs = qs.filter(programme=data["programme"])
    if data.get("level"):
        qs = qs.filter(level=data["level"])
    qs = _active_in(qs, data.get("year"))
    region = data.get("region")
    if region is not None:
        low, high = region.subtree
        sides = PairingSide.objects.filter(region_code__gte=low, region_code__lt=high)
        if data.get("side"):
            sides = sides.filter(side=data["side"])
        qs = qs.filter(pk__in=sides.values("pairing_id"))
    text = (data.get("q") or "").strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(source__icontains=text))
    return qs


@login_required
def pairing_list(request: HttpRequest) -> HttpResponse:
    form = PairingFilterForm(request.GET or None)
    qs = pairings_for(request.user)
    if form.is_valid():
        qs = filter_pairings(qs, form.cleaned_data)
    elif form.is_bound:
        qs = qs.none()
    page = Paginator(_with_sides(qs).order_by("programme", "level", "name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/pairings/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_change": can(request.user, "pairing", "change"),
        },
    )


def _map_payload(pairings: QuerySet[Pairing]) -> dict[str, Any]:
    return maps.flow_data(_with_sides(pairings), url_for=lambda p: reverse("web:pairing", args=[p.pk]))


def _rollup_year(pairing: Pairing) -> int:
    """The year the pairing's ledger summary opens on: last year, within the pairing's years."""
    import datetime as dt

    year = dt.date.today().year - 1
    if pairing.end_year is not None:
        year = min(year, pairing.end_year)
    return max(year, pairing.start_year)


@login_required
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visible = pairings_for(request.user)
    pairing: Pairing = get_or_404(visible.select_related("parent"), pk=pk)
    parent = pairing.parent if pairing.parent_id and visible.filter(pk=pairing.parent_id).exists() else None
    return render(
        request,
        "web/pairings/detail.html",
        {
            "pairing": pairing,
            "sides": sides_of(pairing),
            "parent": parent,
            "children": visible.filter(parent=pairing).order_by("name"),
            "documents": pairing.documents.order_by("-year", "title"),
            "can_change": pairings_for(request.user, "change").filter(pk=pairing.pk).exists(),
            "map_data": _map_payload(visible.filter(pk=pairing.pk)),
            "rollup_year": _rollup_year(pairing) if can(request.user, "ledger", "view") else None,
        },
    )


@login_required
def pairing_map(request: HttpRequest) -> HttpResponse:
    form = MapFilterForm(request.GET or None)
    qs = pairings_for(request.user)
    if form.is_valid():
        if form.cleaned_data.get("programme"):
            qs = qs.filter(programme=form.cleaned_data["programme"])
        qs = _active_in(qs, form.cleaned_data.get("year"))
    data = _map_payload(qs)
    return render(request, "web/pairings/map.html", {"form": form, "map_data": data, "count": qs.count()})


def _edit(request: HttpRequest, pairing: Pairing | None) -> HttpResponse:
    organisations = organisations_for(request.user)
    visible = pairings_for(request.user)
    initial: dict[str, Any] = {}
    if pairing is not None:
        sides = sides_of(pairing)
        initial = {
            "programme": pairing.programme,
            "level": pairing.level,
            "start_year": pairing.start_year,
            "end_year": pairing.end_year,
            "helper": members_text([s.region or s.organisation for s in sides[PairingSide.HELPER]]),
            "helped": members_text([s.region or s.organisation for s in sides[PairingSide.HELPED]]),
            "parent": pairing.parent_id,
            "source": pairing.source,
        }
    form = PairingForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        organisations=organisations,
        pairings=visible,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = save_pairing(
                actor=request.user,
                programme=data["programme"],
                level=data["level"],
                start_year=data["start_year"],
                end_year=data["end_year"],
                helper=data["helper"],
                helped=data["helped"],
                parent=data["parent"],
                source=data["source"],
                pairing=pairing,
            )
        except ScopeError:
            raise Http404 from None
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            return redirect("web:pairing", pk=saved.pk)
    return render(request, "web/pairings/form.html", {"form": form, "pairing": pairing})


@login_required
def pairing_create(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "pairing", "change"):
        raise Http404
    return _edit(request, None)


@login_required
def pairing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pairing: Pairing = get_or_404(pairings_for(request.user, "change"), pk=pk)
    return _edit(request, pairing)


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a document to a pairing the user may change; out of scope is 404."""
    pairing: Pairing = get_or_404(pairings_for(request.user, "change"), pk=pk)
    year_text = request.POST.get("year", "").strip()
    try:
        add_document(
            actor=request.user,
            pairing=pairing,
            title=request.POST.get("title", ""),
            year=int(year_text) if year_text.isdigit() else None,
            upload=request.FILES.get("file"),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except (ScopeError, AttributeError):
        raise Http404 from None
    return redirect("web:pairing", pk=pairing.pk)


@login_required
def document_download(request: HttpRequest, pk: int, doc: int) -> FileResponse:
    """A pairing's document, for users who may see the pairing; every download is audited."""
    pairing: Pairing = get_or_404(pairings_for(request.user), pk=pk)
    document: PairingDocument = get_or_404(pairing.documents.all(), pk=doc)
    audit.record(
        actor=request.user,
        action="download",
        object_type="pairing_document",
        object_id=document.pk,
        object_repr=document.title,
        region_code=pairing.sides.values_list("region_code", flat=True).first(),
    )
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=PurePath(document.file.name).name
    )
