"""The one result type of every import, and the one refusal (docs/adr/0010-one-import-pipeline.md)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

COUNTS = ("read", "accepted", "rejected", "created", "updated", "unchanged")


class ImportRefused(Exception):
    """The whole import is refused before anything is written (message for the clerk in Chinese)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass
class ImportResult:
    """What an import did. Counts add up: read = accepted + rejected, and accepted = created +
    updated + unchanged (in the import's own unit: records, people, help measures).

    A kind with more to say subclasses it and returns its extra figures from :meth:`details`.
    """

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    errors_file: str | None = None
    """The error report written (its path), when rows were rejected and a report was asked for."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per phase (wall clock), for ``-v 2`` and the benchmarks."""

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNTS}

    def details(self) -> dict[str, Any]:
        """The kind's own figures, JSON-able (kept in the job's result beside the counts)."""
        return {}

    def summary_zh(self) -> str:
        """The counts as the command line prints them."""
        c = self.counts()
        return "读取 {read} 行：接受 {accepted}，拒绝 {rejected}；".format(
            **c
        ) + "新增 {created}，更新 {updated}，未变 {unchanged}".format(**c)

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - t0
