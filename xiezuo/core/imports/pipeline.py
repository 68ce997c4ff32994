"""The row-batch loop shared by the imports that write row by row through a service (the
monitoring sheet, every ledger): parse → batches of ``batch_size`` rows, one transaction each →
the kind's batch handler → error report → one audit entry. ``dry_run`` rolls everything back.

The handler gets every parsed row of the batch, those the reader refused included (it may add
its own reasons to them), appends each row it does not write to ``rejected`` and counts what it
wrote on the result (created / updated / unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction

from xiezuo.core import audit
from xiezuo.core.imports.result import ImportRefused, ImportResult
from xiezuo.core.jobs import Progress
from xiezuo.core.tabular import ParsedRow, Summary, write_errors

BatchHandler = Callable[[list[ParsedRow], list[ParsedRow]], None]
R = TypeVar("R", bound=ImportResult)


class _Rollback(Exception):
    pass


def batches(rows: Iterable[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    batch: list[ParsedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def refuse_empty(summary: Summary, staged: int = 0) -> None:
    """Refuse an import whose file gave no data row (a header only, an empty sheet, no sheet with
    a recognisable header): "0 rows imported" would read as success. Every kind calls it."""
    if summary.read or staged:
        return
    reasons = "；".join(summary.unmatched.values()) or "文件中没有数据行"
    raise ImportRefused(f"没有读到数据：{reasons}", "no data rows: the file has no data row to import")


def run_batches(
    rows: Iterable[ParsedRow],
    summary: Summary,
    handler: BatchHandler,
    result: R,
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> list[ParsedRow]:
    """Feed the good rows to ``handler`` batch by batch; returns every rejected row in file order.

    Sets read / accepted / rejected on ``result``; rolls back everything when ``result.dry_run``.
    Raises ImportRefused when the file gave no data row (:func:`refuse_empty`).
    """
    rejected: list[ParsedRow] = []
    done = 0
    try:
        with transaction.atomic() if result.dry_run else nullcontext():
            for batch in batches(rows, batch_size):
                with transaction.atomic():
                    handler(batch, rejected)
                done += len(batch)
                if progress is not None:
                    progress(
                        done,
                        None,
                        f"已检查 {done} 行（试运行，未写入）" if result.dry_run else f"已处理 {done} 行",
                    )
            refuse_empty(summary)
            if result.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    result.read, result.rejected = summary.read, len(rejected)
    result.accepted = result.read - result.rejected
    return rejected


def finish(
    result: R,
    rejected: list[ParsedRow],
    *,
    actor: Any,
    object_type: str,
    path: str | Path,
    errors_out: str | Path | None,
    via: str,
) -> R:
    """Write the error report (when rows were rejected) and the import's one audit entry."""
    if rejected and errors_out is not None:
        write_errors(errors_out, rejected)
        result.errors_file = str(errors_out)
    if not result.dry_run:
        with transaction.atomic():
            audit.record(
                actor=actor,
                action="import",
                object_type=object_type,
                object_repr=Path(path).name,
                batch={**result.counts(), **result.details(), "notes": result.notes},
                via=via,
            )
    return result
