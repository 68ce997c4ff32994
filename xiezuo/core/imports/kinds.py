"""The import kinds: what each import brings to the one pipeline (its runner and its rights).

An app registers its kinds when it is ready (the registry: ``registry`` and ``monitoring``; the
ledgers: one per ledger type). A kind's runner reads a file and writes it through the kind's own
column spec and batch handler; everything around it (upload, job, result, command, pages) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from xiezuo.core.imports.result import ImportResult
from xiezuo.core.jobs import Progress


class Runner(Protocol):
    def __call__(
        self,
        path: Path,
        *,
        actor: Any,
        options: Mapping[str, Any],
        dry_run: bool,
        errors_out: Path | None,
        progress: Progress | None,
        via: str,
    ) -> ImportResult: ...


@dataclass(frozen=True)
class ImportKind:
    key: str
    """``registry``, ``monitoring`` or a ledger key (``placements`` …)."""
    job_kind: str
    """The job kind that runs it (``registry.import``, ``monitoring.import``, ``ledger.import``)."""
    right: tuple[str, str]
    """The (object, action) of the scope an import needs somewhere (``registry``, ``change``)."""
    run: Runner
    tags: Mapping[str, str] = field(default_factory=dict)
    """Parameters that tell kinds sharing a job kind apart (``{"ledger": "placements"}``); kept in
    the job's parameters and result."""


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    """Make a kind known, and its job kind runnable by the worker (one job function for all)."""
    from xiezuo.core.imports.jobs import run_import
    from xiezuo.core.jobs import REGISTRY

    _KINDS[kind.key] = kind
    REGISTRY[kind.job_kind] = run_import
    return kind


def get(key: str) -> ImportKind:
    """The kind ``key``; KeyError when there is none."""
    return _KINDS[key]


def of_job(params: Mapping[str, Any], job_kind: str) -> ImportKind:
    """The kind a job runs, from its parameters (``kind``; older jobs: ``ledger`` or the job kind)."""
    key = params.get("kind") or params.get("ledger")
    if key:
        return _KINDS[str(key)]
    found = [k for k in _KINDS.values() if k.job_kind == job_kind and not k.tags]
    if len(found) != 1:
        raise KeyError(job_kind)
    return found[0]
