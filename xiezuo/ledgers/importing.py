"""Importing a ledger's spreadsheet through the import pipeline (issue #4, xiezuo.core.imports).

``parse`` (xiezuo.core.tabular) reads any supported file and messy sheet; the good rows of each
batch of ``BATCH`` go together through :func:`xiezuo.ledgers.services.import_rows` (the same rules
as a form, one query per kind per batch, set-based writes, one transaction and one audit entry per
batch: docs/adr/0015-ledger-writes-in-batches.md). Counts add up (read = accepted + rejected); a row is
rejected with every reason in Chinese and lands in the error report; a row that repeats another of
the same file is rejected; records are found again by their natural key, so re-importing the file
changes nothing and a killed import re-run ends as a clean run does. ``--dry-run`` rolls back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xiezuo.core.imports import pipeline
from xiezuo.core.imports.result import ImportResult
from xiezuo.core.jobs import Progress
from xiezuo.core.tabular import CellError, ParsedRow, parse
from xiezuo.ledgers import types
from xiezuo.ledgers.services import import_rows
from xiezuo.pairings.models import Pairing

BATCH = 2000
SCOPE_ZH = "超出您的管辖范围（行政区划或结对关系）"


def _errors_for(
    row: ParsedRow, ltype: types.LedgerType, errors: list[tuple[str, str, str]]
) -> list[CellError]:
    spec = ltype.full_spec
    out = []
    for key, zh, en in errors:
        header = spec.column(key).header if key and key in {c.key for c in spec.columns} else ""
        out.append(CellError(row.row_number, header, "rule", zh, en, row.positions.get(key)))
    return out


def import_ledger(
    key: str,
    path: str | Path,
    *,
    actor: Any,
    pairing: Pairing | None = None,
    unit: str | None = None,
    dry_run: bool = False,
    errors_out: str | Path | None = None,
    progress: Progress | None = None,
    via: str = "cli",
) -> ImportResult:
    """Import ``path`` into the ledger ``key`` (see the module docstring)."""
    ltype = types.get(key)
    rows, summary = parse(path, ltype.full_spec, unit=unit)
    result = ImportResult(dry_run=dry_run)
    seen: dict[str, int] = {}

    def run_batch(batch: list[ParsedRow], rejected: list[ParsedRow]) -> None:
        good = [row for row in batch if row.ok]
        done = import_rows(
            ltype,
            [(row.row_number, row.values) for row in good],
            actor=actor,
            pairing=pairing,
            via="import",
            seen=seen,
        )
        outcomes = {id(row): out for row, out in zip(good, done, strict=True)}
        for row in batch:
            out = outcomes.get(id(row))
            if out is None:
                rejected.append(row)
            elif out.refused:
                row.errors.append(CellError(row.row_number, "", "scope", SCOPE_ZH, "out of your scope"))
                rejected.append(row)
            elif out.errors:
                row.errors.extend(_errors_for(row, ltype, out.errors))
                rejected.append(row)
            else:
                setattr(result, out.outcome, getattr(result, out.outcome) + 1)

    rejected = pipeline.run_batches(rows, summary, run_batch, result, batch_size=BATCH, progress=progress)
    result.notes = [*summary.unit_notes_zh(ltype.full_spec), *summary.unmatched.values()]
    return pipeline.finish(
        result, rejected, actor=actor, object_type=key, path=path, errors_out=errors_out, via=via
    )
