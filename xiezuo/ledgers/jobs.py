"""Job kind ``ledger.import``: the import of an uploaded ledger sheet, as the user who queued it (D9)."""

from __future__ import annotations

from typing import Any

from xiezuo.core.jobs import Progress, job
from xiezuo.core.models import Job
from xiezuo.core.tabular.readers import TabularError
from xiezuo.pairings.models import Pairing
from xiezuo.registry.services import ERRORS_NAME, upload_path

IMPORT_JOB = "ledger.import"


class ImportFailed(Exception):
    """An import refused as a whole; the message (Chinese) is the job's message."""


@job(IMPORT_JOB)
def ledger_import(obj: Job, progress: Progress) -> dict[str, Any]:
    from xiezuo.ledgers.importing import import_ledger

    params = obj.params
    actor = obj.created_by
    if actor is None:
        raise ImportFailed("导入任务缺少提交人，无法确定导入范围")
    path = upload_path(str(params["file"]))
    errors_out = path.parent / ERRORS_NAME
    pairing = Pairing.objects.filter(pk=params.get("pairing")).first() if params.get("pairing") else None
    try:
        result = import_ledger(
            params["ledger"],
            path,
            actor=actor,
            pairing=pairing,
            unit=params.get("unit") or None,
            dry_run=bool(params.get("dry_run")),
            errors_out=errors_out,
            progress=progress,
            via="job",
        )
    except TabularError as exc:
        Job.objects.filter(pk=obj.pk).update(message=exc.message_zh[:300])
        raise ImportFailed(exc.message_zh) from None
    if result.rejected == 0:
        errors_out.unlink(missing_ok=True)
    return {
        "ledger": params["ledger"],
        "counts": result.counts(),
        "notes": list(result.notes),
        "errors_file": ERRORS_NAME if result.rejected else None,
        "dry_run": result.dry_run,
        "file_name": params.get("file_name") or path.name,
    }
