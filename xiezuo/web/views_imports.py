"""What every import page shares (registry, monitoring, every ledger): the upload through the one
store and job (xiezuo.core.imports), the list of the user's recent imports with their counts, and
the error report's download.

The error report is served only to the user who started the import (their own job, found through
``jobs_for``), and only while their scope still covers the job's region; anyone else gets the same
404 as for a missing job. The file is resolved by the store; the download is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from xiezuo.core import audit
from xiezuo.core.imports import store
from xiezuo.core.imports.kinds import ImportKind
from xiezuo.core.imports.service import errors_report, jobs_for, start_import
from xiezuo.core.models import Job
from xiezuo.core.scope import ScopeError, get_or_404, scope_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECENT = 10


def upload(
    request: HttpRequest, kind: ImportKind, form: forms.Form, options: Mapping[str, Any]
) -> HttpResponse | None:
    """Store the form's file and queue its import; the redirect to the job, or None when the store
    refused the file (the reason is then on the form's file field)."""
    try:
        job = start_import(
            kind,
            actor=request.user,
            upload=form.cleaned_data["file"],
            options=options,
            dry_run=bool(form.cleaned_data.get("dry_run")),
            via="web",
        )
    except ScopeError:
        raise Http404 from None
    except store.UploadRefused as exc:
        form.add_error("file", str(exc))
        return None
    return redirect("web:job", job_id=job.pk)


def recent(user: Any, kind: ImportKind, errors_url: Callable[[Job], str]) -> list[dict[str, Any]]:
    """The user's last imports of a kind: the job, its counts and its error report's link."""
    rows = []
    for job in jobs_for(user, kind).order_by("-created_at", "-id")[:RECENT]:
        result = job.result or {}
        rows.append(
            {
                "job": job,
                "counts": result.get("counts") or {},
                "errors_url": errors_url(job) if errors_report(job) is not None else "",
            }
        )
    return rows


def page(
    request: HttpRequest,
    *,
    form: forms.Form,
    title: str,
    lead: str,
    crumbs: list[tuple[str, str]],
    template_url: str,
    rows: list[dict[str, Any]],
) -> HttpResponse:
    """The import page: the upload form beside the user's recent imports of the kind."""
    return render(
        request,
        "web/imports/page.html",
        {
            "form": form,
            "title": title,
            "lead": lead,
            "crumbs": crumbs,
            "template_url": template_url,
            "recent": rows,
            "accept": store.ACCEPT,
            "action": request.path,
        },
    )


def errors_download(request: HttpRequest, kind: ImportKind, job_id: int, object_type: str) -> FileResponse:
    """The error report of one of the user's own imports; audited; 404 when there is none."""
    job = get_or_404(jobs_for(request.user, kind), pk=job_id)
    # The report holds the rejected rows as typed (ID numbers included): only while the user still
    # may import this kind where the job ran (a lapsed or narrowed grant gets the same 404).
    scope = scope_for(request.user, *kind.right)
    if scope.is_empty or (job.region_code is not None and not scope.contains(job.region_code)):
        raise Http404
    path = errors_report(job)
    if path is None:
        raise Http404
    audit.record(
        actor=request.user,
        action="download",
        object_type=object_type,
        object_id=job.pk,
        object_repr=path.name,
        region_code=job.region_code,
        via="web",
    )
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"errors-{job.pk}.xlsx", content_type=XLSX
    )
    response["Cache-Control"] = "no-store"
    return response


def errors_link(name: str, *args: Any) -> Callable[[Job], str]:
    """The URL of a job's error report under the route ``name`` (its other arguments first)."""
    return lambda job: reverse(name, args=[*args, job.pk])
