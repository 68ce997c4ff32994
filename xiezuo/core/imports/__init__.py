"""One import pipeline for every kind of sheet (docs/adr/0010-one-import-pipeline.md).

- :mod:`.store` — the one upload store (size limit, type check by content, names, base path,
  private files, retention) and the one path resolution of uploads and error reports;
- :mod:`.result` — the one result type (read = accepted + rejected; created / updated /
  unchanged; the error report) and the one refusal;
- :mod:`.kinds` — the registry of import kinds (the registry, monitoring, every ledger);
- :mod:`.pipeline` — the row-batch loop the row-by-row kinds share;
- :mod:`.jobs` — the one job function; :mod:`.service` — starting an import, finding its jobs;
- :mod:`.command` — the one base of the import commands.
"""

from xiezuo.core.imports.kinds import ImportKind, get, register
from xiezuo.core.imports.result import ImportRefused, ImportResult
from xiezuo.core.imports.store import UploadRefused

__all__ = ["ImportKind", "ImportRefused", "ImportResult", "UploadRefused", "get", "register"]
