"""Running an assessment: facts (from the database or a snapshot) → engine → results written back.

``assess_year`` is the one write path of runs (CLI, API and the job queue call it): it freezes the
facts into a snapshot unless given one, runs the pure engine, and writes the run, its scores,
indicator results and findings in batches, with one audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from xiezuo.assessment import facts as fact_tables
from xiezuo.assessment import snapshot as snapshots
from xiezuo.assessment.engine import assess as engine
from xiezuo.assessment.engine import framework as frameworks
from xiezuo.assessment.engine.facts import Facts
from xiezuo.assessment.models import Finding, IndicatorResult, Run, Score
from xiezuo.core import audit

BATCH = 2_000


class AssessmentError(ValueError):
    """A run that cannot start: unknown framework, no framework for the year, bad snapshot or scope."""


@dataclass(frozen=True)
class Outcome:
    run: Run
    assessment: engine.Assessment

    def as_json(self) -> dict[str, Any]:
        return engine.as_json(self.assessment, run_meta(self.run))


def run_meta(run: Run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "year": run.year,
        "frameworks": [{"code": c, "version": v} for c, v in run.frameworks],
        "snapshot": run.snapshot,
    }


def stored_json(run: Run, visible: set[int] | None = None) -> dict[str, Any]:
    """A stored run as the same JSON the engine gives (``engine.as_json``), limited to the
    pairings in ``visible`` (None: all); read in chunks, one query per table."""
    results: dict[tuple[str, int, str], dict[str, Any]] = {}
    scores = Score.objects.filter(run=run).order_by("framework", "side", "pairing_id")
    for s in scores.iterator(chunk_size=BATCH):
        if visible is None or s.pairing_id in visible:
            results[(s.framework, s.pairing_id, s.side)] = {
                "pairing": s.pairing_id,
                "side": s.side,
                "level": s.level,
                "framework": s.framework,
                "indicators": [],
                "areas": {k: float(Decimal(v)) for k, v in s.areas.items()},
                "total": float(s.total),
                "grade": s.grade,
                "rank": s.rank,
            }
    rows = IndicatorResult.objects.filter(run=run).order_by("id")
    for i in rows.iterator(chunk_size=BATCH):
        found = results.get((i.framework, i.pairing_id, i.side))
        if found is not None:
            found["indicators"].append(
                {
                    "code": i.indicator,
                    "value": engine.number(i.value),
                    "target": engine.number(i.target),
                    "points": float(i.points),
                }
            )
    return {"run": run_meta(run), "results": list(results.values())}


def pick_frameworks(year: int, codes: Sequence[str] = ()) -> list[frameworks.Framework]:
    shipped = frameworks.shipped()
    if codes:
        unknown = [c for c in codes if c not in shipped]
        if unknown:
            raise AssessmentError(
                _("Unknown framework {codes} (known: {known}).").format(
                    codes=", ".join(unknown), known=", ".join(sorted(shipped))
                )
            )
        return [shipped[c] for c in codes]
    found = frameworks.for_year(year, shipped)
    if not found:
        raise AssessmentError(_("No framework applies to the year {year}.").format(year=year))
    return found


def scope_pairings(facts: Facts, code: int) -> set[int]:
    """Pairings with a side inside the region (and those below them: county pairs of a province)."""
    sides = facts["pairing_sides"]
    low = code
    width = next((10 ** (12 - d) for d in (2, 4, 6, 9, 12) if code % 10 ** (12 - d) == 0), 1)
    inside = pc.and_(pc.greater_equal(sides["region_code"], low), pc.less(sides["region_code"], low + width))
    found = set(sides.filter(inside)["pairing"].to_pylist())
    clo = engine.closure(facts["pairings"])
    return found | {
        d
        for a, d in zip(clo["ancestor"].to_pylist(), clo["descendant"].to_pylist(), strict=True)
        if a in found
    }


def assess_year(
    *,
    year: int,
    actor: Any = "cli",
    framework_codes: Sequence[str] = (),
    scope_code: int | None = None,
    snapshot: str | None = None,
    via: str = "cli",
) -> Outcome:
    fws = pick_frameworks(year, framework_codes)
    if snapshot:
        try:
            facts = snapshots.read(snapshot)
        except snapshots.SnapshotError as exc:
            raise AssessmentError(_("Snapshot {id} is missing or altered.").format(id=snapshot)) from exc
    else:
        tables = fact_tables.take()
        snapshot = snapshots.write(tables)
        facts = Facts(tables)
    scope = scope_pairings(facts, scope_code) if scope_code is not None else None
    result = engine.assess(facts, fws, year, scope=scope)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        run = Run.objects.create(
            year=year,
            frameworks=[list(f) for f in result.frameworks],
            snapshot=snapshot,
            scope_code=scope_code,
            status=Run.COMPUTED,
            created_by=user,
        )
        _write(run, result)
        audit.record(
            actor=actor,
            action="assess",
            object_type="assessment_run",
            object_id=run.pk,
            object_repr=str(run),
            region_code=scope_code,
            batch={"results": len(result.results), "findings": len(result.findings), "snapshot": snapshot},
            via=via,
        )
    return Outcome(run, result)


def _write(run: Run, a: engine.Assessment) -> None:
    Score.objects.bulk_create(
        (
            Score(
                run=run,
                framework=r.framework,
                pairing_id=r.pairing,
                side=r.side,
                level=r.level,
                areas={k: str(v) for k, v in r.areas.items()},
                total=r.total,
                grade=r.grade,
                rank=r.rank,
            )
            for r in a.results
        ),
        batch_size=BATCH,
    )
    IndicatorResult.objects.bulk_create(
        (
            IndicatorResult(
                run=run,
                framework=r.framework,
                pairing_id=r.pairing,
                side=r.side,
                indicator=v.code,
                value=v.value,
                target=v.target,
                points=v.points,
            )
            for r in a.results
            for v in r.indicators
        ),
        batch_size=BATCH,
    )
    Finding.objects.bulk_create(
        (
            Finding(
                run=run,
                indicator=f.indicator,
                pairing_id=f.pairing,
                side=f.side,
                reason=f.reason,
                severity=f.severity,
                records=list(f.records),
            )
            for f in a.findings
        ),
        batch_size=BATCH,
    )
    folder = Path(settings.DATA_DIR) / "runs" / str(run.pk)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(a.evidence, folder / "evidence.parquet", compression="zstd")
    run.evidence_path = str(folder.relative_to(settings.DATA_DIR) / "evidence.parquet")
    run.save(update_fields=["evidence_path"])
