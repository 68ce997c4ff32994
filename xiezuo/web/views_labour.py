"""Labour pages: matching a job posting with the registered labourers of a county.

Parse → call → render: the scope, the query and the audit entry are in
:func:`xiezuo.labour.selectors.match_posting`; anyone who is not the county's labour staff gets
the same 404 as for a posting that does not exist (DESIGN.md D2).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xiezuo.labour.selectors import MATCH_LIMIT, match_posting
from xiezuo.regions.models import full_code
from xiezuo.web.views import region_names


def _county(text: str | None) -> int | None:
    """A county from the query string (``130821`` or its 12-digit form); None when unusable."""
    text = (text or "").strip()
    if len(text) not in (6, 12) or not text.isdigit():
        return None
    return full_code(text)


@login_required
@require_GET
def posting_match(request: HttpRequest, pk: int) -> HttpResponse:
    match = match_posting(request.user, pk, county=_county(request.GET.get("county")), via="web")
    posting = match.posting
    names = region_names({*match.counties, posting.workplace_region})
    response = render(
        request,
        "labour/match.html",
        {
            "match": match,
            "posting": posting,
            "workplace": names.get(posting.workplace_region, ""),
            "counties": [(c, names.get(c, "")) for c in match.counties],
            "county_name": names.get(match.county, ""),
            "limit": MATCH_LIMIT,
        },
    )
    response["Cache-Control"] = "no-store"
    return response
