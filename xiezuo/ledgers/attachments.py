"""Attachments of ledger records and reporting periods (moved out of ``services.py``, which
re-exports them): stamped scans, receipts, minutes, notices."""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Any

from django.db import transaction

from xiezuo.core import audit
from xiezuo.core.scope import ScopeError, scope_for
from xiezuo.ledgers import flows
from xiezuo.ledgers.models import Attachment, LedgerRecord, Period
from xiezuo.ledgers.services import Error, RecordInvalid, may_confirm, require_unlocked, side_regions
from xiezuo.ledgers.types import LedgerType

# --- attachments -------------------------------------------------------------------------------

ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".ofd", ".doc", ".docx", ".xls", ".xlsx"}
MAX_ATTACHMENT = 20 * 1024 * 1024


def _checked_upload(upload: Any, kind: str) -> tuple[str, str, str]:
    """The upload's file name, the attachment kind's code and the file's SHA-256, or RecordInvalid
    with every problem found (type, size, kind)."""
    from xiezuo.core.codelists import lookup

    name = PurePath(getattr(upload, "name", "") or "").name
    errors: list[Error] = []
    if PurePath(name).suffix.lower() not in ATTACHMENT_TYPES:
        errors.append(
            ("file", "文件类型不支持，请上传 PDF、图片、OFD 或 Office 文件", "unsupported file type")
        )
    if getattr(upload, "size", 0) > MAX_ATTACHMENT:
        errors.append(("file", "文件超过 20 MB", "file larger than 20 MB"))
    entry = lookup("attachment_kind", kind)
    if entry is None:
        errors.append(("kind", "附件类型无效", "unknown attachment kind"))
    if errors:
        raise RecordInvalid(errors)
    assert entry is not None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return name, entry.code, digest.hexdigest()


def add_attachment(
    ltype: LedgerType,
    *,
    actor: Any,
    record: LedgerRecord,
    kind: str,
    upload: Any,
    title: str = "",
    via: str = "web",
) -> Attachment:
    """Attach a stamped scan, receipt … to a record (either side of its pairing that may change ledgers)."""
    scope = scope_for(actor, "ledger", "change")
    if not (scope.contains(record.region_code) or may_confirm(actor, ltype, record)):
        raise ScopeError("out of scope")
    require_unlocked(ltype, record)
    name, code, sha256 = _checked_upload(upload, kind)
    with transaction.atomic():
        att = Attachment(
            ledger=ltype.key,
            record_id=record.pk,
            kind=code,
            title=(title or name)[:200],
            sha256=sha256,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        att.file.save(name, upload, save=False)
        att.save()
        audit.record(
            actor=actor,
            action="attach",
            object_type=ltype.key,
            object_id=record.pk,
            object_repr=att.title,
            region_code=record.region_code,
            changes={"attachment": [None, att.sha256]},
            via=via,
        )
    return att


def may_attach_to_period(user: Any, period: Period) -> bool:
    """Whoever takes a step of the period's flow may attach its stamped scans (盖章扫描件)."""
    flow = flows.flow_for(period.ledger, period.side)
    regions = side_regions(period.pairing, period.side)
    return any(flows.may_take(user, step, regions) for step in flow.steps)


def add_period_attachment(
    period: Period, *, actor: Any, kind: str, upload: Any, title: str = "", via: str = "web"
) -> Attachment:
    """Attach a stamped scan or other evidence to a reporting period (kept when the period locks)."""
    if not may_attach_to_period(actor, period):
        raise ScopeError("may not attach to this period")
    name, code, sha256 = _checked_upload(upload, kind)
    with transaction.atomic():
        if period.pk is None:
            period.save()
        att = Attachment(
            ledger=period.ledger,
            period=period,
            kind=code,
            title=(title or name)[:200],
            sha256=sha256,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        att.file.save(name, upload, save=False)
        att.save()
        audit.record(
            actor=actor,
            action="attach",
            object_type="period",
            object_id=period.pk,
            object_repr=att.title,
            region_code=side_regions(period.pairing, period.side)[0][0],
            changes={"attachment": [None, att.sha256]},
            via=via,
        )
    return att
