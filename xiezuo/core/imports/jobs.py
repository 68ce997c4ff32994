"""The one job function of every import kind (DESIGN.md D9).

It runs the kind's import as the user who queued it (their scope, their audit entries) on the
stored upload, writes the error report beside it and returns the counts. A refused import (bad
file, no right, no data) fails the job with the Chinese reason as its message.
"""

from __future__ import annotations

from typing import Any

from xiezuo.core import job_messages
from xiezuo.core.imports import kinds, store
from xiezuo.core.imports.result import ImportRefused
from xiezuo.core.jobs import JobFailed, Progress
from xiezuo.core.models import Job
from xiezuo.core.tabular.readers import TabularError


class ImportFailed(JobFailed):
    """An import refused as a whole; people read the reason (Chinese, for the clerk)."""

    def __init__(self, zh: str) -> None:
        super().__init__(job_messages.REFUSED, reason=zh)


def _fail(obj: Job, zh: str) -> ImportFailed:
    Job.objects.filter(pk=obj.pk).update(message=zh[:300])
    return ImportFailed(zh)


def run_import(obj: Job, progress: Progress) -> dict[str, Any]:
    """Run the import a job names; the result holds the counts, notes and the error report's name."""
    params = obj.params
    kind = kinds.of_job(params, obj.kind)
    actor = obj.created_by
    if actor is None:
        # Never fall back to the system's national scope for a user's upload.
        raise _fail(obj, "导入任务缺少提交人，无法确定导入范围")
    path = store.path_of(str(params["file"]))
    errors_out = path.parent / store.ERRORS_NAME
    try:
        result = kind.run(
            path,
            actor=actor,
            options=params,
            dry_run=bool(params.get("dry_run")),
            errors_out=errors_out,
            progress=progress,
            via="job",
        )
    except ImportRefused as exc:
        raise _fail(obj, exc.zh) from None
    except TabularError as exc:
        raise _fail(obj, exc.message_zh) from None
    if result.rejected == 0:
        errors_out.unlink(missing_ok=True)  # an empty report helps nobody
    return {
        "kind": kind.key,
        **kind.tags,
        "counts": result.counts(),
        "notes": list(result.notes),
        "errors_file": store.ERRORS_NAME if result.rejected else None,
        "dry_run": result.dry_run,
        "file_name": params.get("file_name") or path.name,
        **result.details(),
    }
