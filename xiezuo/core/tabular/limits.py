"""Limits on what an uploaded file may make the readers do (ADR 0011), read from the environment.

Every file goes through :func:`xiezuo.core.tabular.guard.check` before a parser sees it; the
limits below are what the checks and the streaming readers enforce. Each is a setting (see
``.env.example``); the defaults let a real million-row sheet through and refuse the hostile
files of issue 21 within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from xiezuo.env import env_int

__all__ = ["MAX_ROW_XML_BYTES", "MAX_TAG_BYTES", "Limits"]

MAX_ROW_XML_BYTES = 4 << 20
"""Bytes of one ``<row>`` of a worksheet's XML: a row is parsed as one piece when streamed."""
MAX_TAG_BYTES = 1 << 20
"""Bytes between two ``<`` of a worksheet's XML (a cell text is at most 32,767 characters)."""


@dataclass(frozen=True)
class Limits:
    max_file_mb: int = 4096
    """Size of any file read (a 10-million-person CSV is about 1.5 GB)."""
    max_rows: int = 20_000_000
    """Rows of one source (a CSV, a worksheet)."""
    max_columns: int = 1024
    """Columns of one source; Excel allows 16,384 (XFD), no form of ours has a tenth of that."""
    max_members: int = 1000
    """Entries of a zip container (an xlsx has a dozen plus one per sheet)."""
    max_unzipped_mb: int = 1536
    """Declared uncompressed size of all entries of a zip container together."""
    max_ratio: int = 200
    """Uncompressed ÷ compressed size of an entry larger than 1 MiB (sheets: about 10)."""
    max_shared_strings: int = 5_000_000
    """Entries of an xlsx's shared-strings table."""
    max_zip_depth: int = 2
    """A zip may hold zips, which may not hold zips again."""
    inmemory_cells: int = 2_000_000
    """Sheets up to this many cells (rows × columns of their real extent) are read whole by
    calamine (fast, about 85 bytes a cell); larger ones are streamed row by row."""

    @classmethod
    def from_env(cls) -> Limits:
        """The limits as configured now (read on every check, so a changed setting applies at once)."""
        d = cls()
        return cls(
            max_file_mb=env_int("XIEZUO_UPLOAD_MAX_FILE_MB", d.max_file_mb),
            max_rows=env_int("XIEZUO_UPLOAD_MAX_ROWS", d.max_rows),
            max_columns=env_int("XIEZUO_UPLOAD_MAX_COLUMNS", d.max_columns),
            max_members=env_int("XIEZUO_UPLOAD_MAX_ZIP_ENTRIES", d.max_members),
            max_unzipped_mb=env_int("XIEZUO_UPLOAD_MAX_UNZIPPED_MB", d.max_unzipped_mb),
            max_ratio=env_int("XIEZUO_UPLOAD_MAX_ZIP_RATIO", d.max_ratio),
            max_shared_strings=env_int("XIEZUO_UPLOAD_MAX_SHARED_STRINGS", d.max_shared_strings),
            max_zip_depth=env_int("XIEZUO_UPLOAD_MAX_ZIP_DEPTH", d.max_zip_depth),
            inmemory_cells=env_int("XIEZUO_UPLOAD_INMEMORY_CELLS", d.inmemory_cells),
        )

    @property
    def max_line_chars(self) -> int:
        """Characters of one physical line of a CSV."""
        return self.max_columns * 4096
