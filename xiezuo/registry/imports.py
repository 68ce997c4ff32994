"""The registry's import kinds in the one pipeline (xiezuo.core.imports): ``registry`` (households
and members, job kind ``registry.import``) and ``monitoring`` (help measures and risk removal,
``monitoring.import``). Registered from ``RegistryConfig.ready``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xiezuo.core import imports
from xiezuo.core.imports.result import ImportResult
from xiezuo.core.jobs import Progress
from xiezuo.registry.selectors import IMPORT_JOB

MONITORING_JOB = "monitoring.import"


def _registry(
    path: Path,
    *,
    actor: Any,
    options: Mapping[str, Any],
    dry_run: bool,
    errors_out: Path | None,
    progress: Progress | None,
    via: str,
) -> ImportResult:
    from xiezuo.registry.importing import import_registry

    as_of = options.get("as_of")
    return import_registry(
        path,
        actor=actor,
        data_year=options.get("data_year"),
        as_of=dt.date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else None,
        dry_run=dry_run,
        errors_out=errors_out,
        progress=progress,
        via=via,
    )


def _monitoring(
    path: Path,
    *,
    actor: Any,
    options: Mapping[str, Any],
    dry_run: bool,
    errors_out: Path | None,
    progress: Progress | None,
    via: str,
) -> ImportResult:
    from xiezuo.registry.monitoring_import import import_monitoring

    return import_monitoring(
        path, actor=actor, dry_run=dry_run, errors_out=errors_out, progress=progress, via=via
    )


REGISTRY = imports.register(
    imports.ImportKind(key="registry", job_kind=IMPORT_JOB, right=("registry", "change"), run=_registry)
)
MONITORING = imports.register(
    imports.ImportKind(
        key="monitoring", job_kind=MONITORING_JOB, right=("registry", "change"), run=_monitoring
    )
)
