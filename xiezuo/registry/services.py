"""Writes and audited reads of the registry (DESIGN.md D2, D3, D10).

Unmasking personal data is a right of its own (``registry``/``unmask``), exercised in scope and
logged: the audit entry names the member by id and masked ID, never the clear ID or name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from xiezuo.core import audit
from xiezuo.core.crypto import get_cipher
from xiezuo.core.jobs import enqueue
from xiezuo.core.models import Job
from xiezuo.core.scope import ScopeError, scope_for
from xiezuo.registry.models import Member
from xiezuo.registry.selectors import IMPORT_JOB


@dataclass(frozen=True)
class Unmasked:
    """The clear ID number and name of a member. Show once; never log or store."""

    member_id: int
    id_number: str
    name: str

    def __repr__(self) -> str:  # keep clear values out of tracebacks and logs
        return f"Unmasked(member_id={self.member_id})"


def unmask_member(*, actor: Any, member_id: int, via: str = "web") -> Unmasked:
    """Decrypt a member's ID number and name for ``actor``, with an audit entry "unmask".

    Raises ScopeError when the member is missing or outside the actor's unmask scope (the caller
    answers both with the same "not found").
    """
    scope = scope_for(actor, "registry", "unmask")
    if scope.is_empty:
        raise ScopeError("out of scope")
    member = Member.objects.filter(scope.q("region_code"), pk=member_id).first()
    if member is None or not scope.contains(member.region_code):
        raise ScopeError("out of scope")
    cipher = get_cipher()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="unmask",
            object_type="member",
            object_id=member.pk,
            object_repr=member.id_masked,
            region_code=member.region_code,
            batch={"fields": ["id_number", "name"], "household": member.household_id},
            via=via,
        )
    return Unmasked(
        member_id=member.pk,
        id_number=cipher.decrypt(member.id_cipher),
        name=cipher.decrypt(member.name_cipher),
    )


# --- imports through the job queue ----------------------------------------------------------

UPLOAD_DIR = "imports"
ERRORS_NAME = "errors.xlsx"
UPLOAD_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".zip"})
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


class UploadRefused(ValueError):
    """An upload that is not taken at all (type or size); the message is for the user."""


def upload_root() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR


def upload_path(relative: str) -> Path:
    """The absolute path of a stored upload, refusing anything outside the upload folder."""
    root = upload_root().resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if root not in path.parents:
        raise ValueError("not an upload path")
    return path


def _safe_name(name: str) -> str:
    """The upload's own name, made safe to store (CJK kept, path parts and odd characters dropped).

    >>> _safe_name("../../承德县 2019.xlsx"), _safe_name("a/b.csv")
    ('承德县_2019.xlsx', 'b.csv')
    """
    base = PurePath(name.replace("\\", "/")).name
    suffix = PurePath(base).suffix.lower()
    try:
        stem = get_valid_filename(PurePath(base).stem)
    except SuspiciousFileOperation:
        stem = "upload"
    return f"{stem[:80]}{suffix}"


def start_import(
    *,
    actor: Any,
    upload: UploadedFile,
    data_year: int | None,
    as_of: dt.date | None,
    dry_run: bool = False,
    via: str = "web",
) -> Job:
    """Store an uploaded registry file privately and queue its import as the actor.

    The file goes to ``MEDIA_ROOT/imports/<uuid>/``; the error report is later written beside it.
    Raises ScopeError when the actor may not import registry data anywhere, UploadRefused on a
    file type or size the import cannot take.
    """
    scope = scope_for(actor, "registry", "change")
    if scope.is_empty:
        raise ScopeError("out of scope")
    name = _safe_name(upload.name or "upload")
    if PurePath(name).suffix not in UPLOAD_SUFFIXES:
        raise UploadRefused(_("Upload a CSV, XLSX, XLS, Parquet or ZIP file."))
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise UploadRefused(_("The file is larger than {n} MB.").format(n=MAX_UPLOAD_BYTES // 2**20))
    folder = upload_root() / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / name
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    # One county (or one prefecture…) of change scope names the job's region; several leave it open.
    region_code = scope.ranges[0][0] if not scope.national and len(scope.ranges) == 1 else None
    return enqueue(
        actor=actor,
        kind=IMPORT_JOB,
        params={
            "file": str(target.relative_to(settings.MEDIA_ROOT)),
            "file_name": name,
            "data_year": data_year,
            "as_of": as_of.isoformat() if as_of else None,
            "dry_run": dry_run,
        },
        region_code=region_code,
        via=via,
    )


def errors_report(job: Job) -> Path | None:
    """The error report of an import job, if it wrote one."""
    name = (job.result or {}).get("errors_file")
    if not name or job.kind != IMPORT_JOB:
        return None
    try:
        path = upload_path(str(PurePath(job.params["file"]).parent / name))
    except (KeyError, ValueError):
        return None
    return path if path.is_file() else None
