"""The one upload store of every import (DESIGN.md D3, D9; docs/adr/0010-one-import-pipeline.md).

An upload is kept privately at ``MEDIA_ROOT/imports/<uuid>/<safe name>`` (folder 0700, file
0600); a job names it by that path *relative to MEDIA_ROOT* (``imports/<uuid>/<name>``), and
:func:`path_of` is the one place that turns such a name back into a file, refusing anything outside
the upload folder. The error report of the import is written beside it as ``errors.xlsx``. Uploads
older than ``XIEZUO_UPLOAD_RETENTION_DAYS`` are removed when the next upload is stored.

Files are served only by the import views, after the job was found among the user's own jobs.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

UPLOAD_DIR = "imports"
ERRORS_NAME = "errors.xlsx"
SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".zip"})
ACCEPT = ",".join(sorted(SUFFIXES))
"""The ``accept`` attribute of an upload field."""

# What a file of each type starts with (a type check by content, not by name alone).
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".xlsx": _ZIP,
    ".xlsm": _ZIP,
    ".zip": _ZIP,
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".parquet": (b"PAR1",),
    ".pq": (b"PAR1",),
}


class UploadRefused(ValueError):
    """An upload that is not taken at all (type, content or size); the message is for the user."""


def max_bytes() -> int:
    """The size limit of one upload (``XIEZUO_UPLOAD_MAX_MB``)."""
    return int(settings.XIEZUO_UPLOAD_MAX_MB) * 2**20


def root() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR


def path_of(name: str) -> Path:
    """The absolute path of a stored upload named relative to MEDIA_ROOT; ValueError outside it.

    The one path resolution of uploads: the store names files this way, jobs and downloads read
    them this way.
    """
    base = root().resolve()
    path = (Path(settings.MEDIA_ROOT) / name).resolve()
    if base not in path.parents:
        raise ValueError("not an upload path")
    return path


def errors_path(name: str) -> Path:
    """Where the error report of the upload ``name`` is (or will be) written."""
    return path_of(name).parent / ERRORS_NAME


def safe_name(name: str) -> str:
    """The upload's own name, made safe to store (CJK kept, path parts and odd characters dropped).

    >>> safe_name("../../承德县 2019.xlsx"), safe_name("a/b.CSV")
    ('承德县_2019.xlsx', 'b.csv')
    """
    base = PurePath(name.replace("\\", "/")).name
    suffix = PurePath(base).suffix.lower()
    try:
        stem = get_valid_filename(PurePath(base).stem)
    except SuspiciousFileOperation:
        stem = "upload"
    return f"{stem[:80]}{suffix}"


def _content_fits(suffix: str, head: bytes) -> bool:
    """Whether the first bytes fit the file type its name claims.

    >>> _content_fits(".xlsx", b"PK\\x03\\x04..."), _content_fits(".xlsx", b"MZ")
    (True, False)
    >>> _content_fits(".csv", "户编号,姓名".encode()), _content_fits(".csv", b"MZ\\x90\\x00")
    (True, False)
    """
    magic = _MAGIC.get(suffix)
    if magic is not None:
        return head.startswith(magic)
    return b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))  # text, maybe UTF-16


def save(upload: UploadedFile) -> str:
    """Store an upload privately and return its name for the job (relative to MEDIA_ROOT).

    Raises UploadRefused on a type, content or size the imports cannot take; nothing is kept then.
    """
    name = safe_name(upload.name or "upload")
    suffix = PurePath(name).suffix
    if suffix not in SUFFIXES:
        raise UploadRefused(_("Upload a CSV, XLSX, XLS, Parquet or ZIP file."))
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise UploadRefused(_("The file is larger than {n} MB.").format(n=limit // 2**20))
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head:
        raise UploadRefused(_("The file is empty."))
    if not _content_fits(suffix, head):
        raise UploadRefused(_("The file's content is not a {kind} file.").format(kind=suffix[1:].upper()))
    purge_expired()
    folder = root() / uuid.uuid4().hex
    folder.mkdir(mode=0o700, parents=True, exist_ok=False)
    target = folder / name
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    target.chmod(0o600)
    return str(target.relative_to(settings.MEDIA_ROOT))


def purge_expired(*, now: float | None = None) -> int:
    """Remove uploads (with their error reports) older than the retention; returns folders removed."""
    days = int(settings.XIEZUO_UPLOAD_RETENTION_DAYS)
    base = root()
    if days <= 0 or not base.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = 0
    for folder in base.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
