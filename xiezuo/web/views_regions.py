"""Region browser: the tree with htmx-loaded children, search, each region's page, and the form
that maintains user-maintained flags (DESIGN.md D5). Regions are reference data every
signed-in user reads; the pairings shown on a region page follow the user's scope."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiezuo.core.codelists import label
from xiezuo.core.scope import ScopeError, scope_for
from xiezuo.pairings.models import PairingSide
from xiezuo.pairings.selectors import pairings_for
from xiezuo.regions import selectors
from xiezuo.regions.models import Region
from xiezuo.regions.services import MAINTAINED_FLAGS, set_region_flag
from xiezuo.web.forms_pairings import set_choices

LEVEL_LABELS = {
    1: gettext_lazy("province"),
    2: gettext_lazy("prefecture"),
    3: gettext_lazy("county"),
    4: gettext_lazy("township"),
    5: gettext_lazy("village"),
}


class RegionFlagForm(forms.Form):
    """Set or remove one maintained flag of a region."""

    flag = forms.ChoiceField(label=gettext_lazy("Flag"))
    value = forms.CharField(label=gettext_lazy("Value"), required=False, max_length=64)
    source = forms.CharField(label=gettext_lazy("Source"), required=False, max_length=500)
    remove = forms.BooleanField(label=gettext_lazy("Remove this flag"), required=False)

    def __init__(self, *args: object, region: Region, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        language = get_language() or "zh-hans"
        set_choices(
            self,
            "flag",
            [
                (code, label("region_flag", code, language))
                for code, levels in MAINTAINED_FLAGS.items()
                if region.level in levels
            ],
        )


def _region_or_404(request: HttpRequest, code: str) -> Region:
    region = selectors.region_by_short_code(selectors.regions_for(request.user).select_related(), code)
    if region is None:
        raise Http404
    return region


@login_required
def region_index(request: HttpRequest) -> HttpResponse:
    visible = selectors.regions_for(request.user)
    text = request.GET.get("q", "").strip()[:100]
    results = list(selectors.search(visible, text)) if text else None
    for r in results or []:
        r.level_label = LEVEL_LABELS[r.level]  # type: ignore[attr-defined]
    return render(
        request,
        "web/regions/index.html",
        {
            "q": text,
            "results": results,
            "limit": selectors.SEARCH_LIMIT,
            "roots": selectors.children_of(visible, None),
        },
    )


@login_required
def region_children(request: HttpRequest, code: str) -> HttpResponse:
    """htmx partial: the children of one node of the tree."""
    region = _region_or_404(request, code)
    children = selectors.children_of(selectors.regions_for(request.user), region)
    return render(request, "web/regions/_children.html", {"children": children})


def _flag_rows(region: Region) -> list[dict[str, object]]:
    language = get_language() or "zh-hans"
    rows: list[dict[str, object]] = []
    for flag in selectors.flags_of(region):
        value = label("belt", flag.value, language) if flag.flag == "belt" else flag.value
        rows.append({"flag": flag, "label": label("region_flag", flag.flag, language), "value": value})
    return rows


def _region_page(
    request: HttpRequest, region: Region, flag_form: RegionFlagForm | None = None
) -> HttpResponse:
    visible_pairings = pairings_for(request.user)
    low, high = region.subtree
    chain = selectors.ancestors(region)
    within = visible_pairings.filter(
        pk__in=PairingSide.objects.filter(region_code__gte=low, region_code__lt=high).values("pairing_id")
    )
    above = visible_pairings.filter(
        pk__in=PairingSide.objects.filter(region__in=chain).values("pairing_id")
    ).exclude(pk__in=within.values("pk"))
    own_history, older_history = selectors.code_history(region)
    may_change = scope_for(request.user, "region", "change").contains(region.code)
    if flag_form is None and may_change:
        flag_form = RegionFlagForm(region=region)
    return render(
        request,
        "web/regions/detail.html",
        {
            "region": region,
            "chain": chain,
            "level_label": LEVEL_LABELS[region.level],
            "kind_label": label("region_kind", region.kind, get_language() or "zh-hans"),
            "flags": _flag_rows(region),
            "own_history": own_history,
            "older_history": older_history,
            "children": selectors.children_of(selectors.regions_for(request.user), region),
            "counts": [
                (LEVEL_LABELS[level], n) for level, n in sorted(selectors.subtree_counts(region).items())
            ],
            "pairings_within": within.order_by("programme", "level", "name"),
            "pairings_above": above.order_by("programme", "level", "name"),
            "flag_form": flag_form if may_change else None,
        },
    )


@login_required
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _region_page(request, _region_or_404(request, code))


@login_required
@require_POST
def region_flag(request: HttpRequest, code: str) -> HttpResponse:
    region = _region_or_404(request, code)
    form = RegionFlagForm(request.POST, region=region)
    if form.is_valid():
        data = form.cleaned_data
        try:
            set_region_flag(
                actor=request.user,
                region=region,
                flag=data["flag"],
                value=None if data["remove"] else data["value"],
                source=data["source"],
            )
        except ScopeError:
            raise Http404 from None
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("web:region", code=region.short_code)
    if not form.errors:
        form.add_error(None, _("The flag was not changed."))
    return _region_page(request, region, form)
