"""Starting an import and finding its job and error report again, for the pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from xiezuo.core.imports import store
from xiezuo.core.imports.kinds import ImportKind
from xiezuo.core.jobs import enqueue
from xiezuo.core.models import Job
from xiezuo.core.scope import ScopeError, scope_for


def start_import(
    kind: ImportKind,
    *,
    actor: Any,
    upload: UploadedFile,
    options: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    via: str = "web",
) -> Job:
    """Store an upload privately and queue its import as the actor (their scope, their audit).

    ``options`` are the kind's JSON-able options (data year, pairing, unit …). Raises ScopeError
    when the actor may not import this kind anywhere, UploadRefused on a file the store refuses.
    """
    scope = scope_for(actor, *kind.right)
    if scope.is_empty:
        raise ScopeError("out of scope")
    name = store.save(upload)
    # One county (or one prefecture…) of change scope names the job's region; several leave it open.
    region_code = scope.ranges[0][0] if not scope.national and len(scope.ranges) == 1 else None
    return enqueue(
        actor=actor,
        kind=kind.job_kind,
        params={
            "kind": kind.key,
            **kind.tags,
            "file": name,
            "file_name": PurePath(name).name,
            **(options or {}),
            "dry_run": dry_run,
        },
        region_code=region_code,
        via=via,
    )


def jobs_for(user: Any, kind: ImportKind) -> QuerySet[Job]:
    """The imports of this kind the user started (nobody else's, whatever their scope)."""
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    qs = Job.objects.filter(kind=kind.job_kind, created_by=user)
    for key, value in kind.tags.items():
        qs = qs.filter(**{f"params__{key}": value})
    return qs


def errors_report(job: Job) -> Path | None:
    """The error report of an import job, if it wrote one (resolved by the store, nowhere else)."""
    name = (job.result or {}).get("errors_file")
    if not name:
        return None
    try:
        path = store.errors_path(str(job.params["file"]))
    except (KeyError, ValueError):
        return None
    return path if path.is_file() else None
