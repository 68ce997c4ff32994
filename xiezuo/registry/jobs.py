"""Job kinds of the registry: the import of an uploaded file (DESIGN.md D9).

``registry.import`` runs ``import_registry`` as the user who queued it (their scope, their audit
entries) on a private upload under ``MEDIA_ROOT/imports/<uuid>/`` and writes the error report
beside it as ``errors.xlsx``. Registered from ``RegistryConfig.ready`` so the worker knows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiezuo.core.jobs import Progress, job
from xiezuo.core.models import Job
from xiezuo.core.tabular.readers import TabularError
from xiezuo.registry.importing import ImportRefused, import_registry
from xiezuo.registry.selectors import IMPORT_JOB
from xiezuo.registry.services import ERRORS_NAME, upload_path


class ImportFailed(Exception):
    """An import refused as a whole; the message (Chinese, for the clerk) is the job's message."""


@job(IMPORT_JOB)
def registry_import(obj: Job, progress: Progress) -> dict[str, Any]:
    """Import the uploaded file; the result holds the counts, notes and the error report's name."""
    params = obj.params
    actor = obj.created_by
    if actor is None:
        # Never fall back to the system's national scope for a user's upload.
        raise ImportFailed("导入任务缺少提交人，无法确定导入范围")
    path = upload_path(str(params["file"]))
    errors_out = path.parent / ERRORS_NAME
    as_of = dt.date.fromisoformat(params["as_of"]) if params.get("as_of") else None
    try:
        result = import_registry(
            path,
            actor=actor,
            data_year=params.get("data_year"),
            as_of=as_of,
            dry_run=bool(params.get("dry_run")),
            errors_out=errors_out,
            progress=progress,
            via="job",
        )
    except ImportRefused as exc:
        Job.objects.filter(pk=obj.pk).update(message=exc.zh[:300])
        raise ImportFailed(exc.zh) from None
    except TabularError as exc:
        Job.objects.filter(pk=obj.pk).update(message=exc.message_zh[:300])
        raise ImportFailed(exc.message_zh) from None
    if result.rejected == 0:
        errors_out.unlink(missing_ok=True)  # an empty report helps nobody
    return {
        "counts": result.counts(),
        "households": {"created": result.households_created, "updated": result.households_updated},
        "notes": list(result.notes),
        "errors_file": ERRORS_NAME if result.rejected else None,
        "data_year": result.data_year,
        "as_of": result.as_of.isoformat() if result.as_of else None,
        "dry_run": result.dry_run,
        "dataset": result.dataset_id,
        "file_name": params.get("file_name") or path.name,
    }
