"""Every ledger as an import kind of the one pipeline (xiezuo.core.imports): job kind
``ledger.import``, told apart by the parameter ``ledger``. Registered from ``LedgersConfig.ready``
once the ledger types are discovered."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xiezuo.core import imports
from xiezuo.core.imports.kinds import Runner
from xiezuo.core.imports.result import ImportResult
from xiezuo.core.jobs import Progress
from xiezuo.ledgers import types

IMPORT_JOB = "ledger.import"


def _runner(key: str) -> Runner:
    def run(
        path: Path,
        *,
        actor: Any,
        options: Mapping[str, Any],
        dry_run: bool,
        errors_out: Path | None,
        progress: Progress | None,
        via: str,
    ) -> ImportResult:
        from xiezuo.ledgers.importing import import_ledger
        from xiezuo.pairings.models import Pairing

        pairing_id = options.get("pairing")
        return import_ledger(
            key,
            path,
            actor=actor,
            pairing=Pairing.objects.filter(pk=pairing_id).first() if pairing_id else None,
            unit=options.get("unit") or None,
            dry_run=dry_run,
            errors_out=errors_out,
            progress=progress,
            via=via,
        )

    return run


def register_all() -> None:
    for ltype in types.all_types():
        imports.register(
            imports.ImportKind(
                key=ltype.key,
                job_kind=IMPORT_JOB,
                right=("ledger", "change"),
                run=_runner(ltype.key),
                tags={"ledger": ltype.key},
            )
        )


def kind(key: str) -> imports.ImportKind:
    """The import kind of the ledger ``key``; KeyError for an unknown ledger."""
    types.get(key)
    return imports.get(key)
