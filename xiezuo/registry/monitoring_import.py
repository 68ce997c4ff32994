"""Importing the monitoring sheet (监测对象帮扶措施, issue #3): help measures with their dates and
the removal of risks, for households already in the registry.

``parse`` (xiezuo.core.tabular) reads the file and messy sheet by :data:`MONITORING`; each row is one
help measure of one monitoring of one household:

- the household is found by 户编号 within the importer's registry change scope (unknown and out of
  scope look the same);
- the monitoring is found by (household, 监测对象类型, 纳入监测日期) or created; a row that gives
  neither finds the household's only monitoring;
- the measure is found by (monitoring, 帮扶措施类别, 措施开始日期) or created; its end date is
  updated when the row states one;
- risks and the removal are the monitoring's: a row that states them sets them, a blank cell leaves
  them; two rows of the same monitoring that state different ones are a conflict.

Counts add up (read = accepted + rejected, accepted = created + updated + unchanged, by measure
rows); every rejected row keeps every reason in Chinese for the error report; a row that repeats
another of the file is rejected; re-importing the file changes nothing. Rows are written in batches
of ``BATCH``, one transaction each, by the import pipeline (xiezuo.core.imports.pipeline);
``dry_run`` rolls everything back. ``Household.monitored``
stays true exactly while one of its monitorings has no removal date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from xiezuo.core import codelists
from xiezuo.core.imports import pipeline
from xiezuo.core.imports.result import ImportRefused, ImportResult
from xiezuo.core.jobs import Progress
from xiezuo.core.scope import Scope, scope_for
from xiezuo.core.tabular import CellError, ParsedRow, parse
from xiezuo.registry.importing import registry_lock
from xiezuo.registry.models import HelpMeasure, Household, Monitoring
from xiezuo.registry.monitoring_columns import MONITORING, RISK_SEPARATORS

__all__ = ["BATCH", "MonitoringImportResult", "import_monitoring", "split_risks"]

BATCH = 500  # rows per transaction
OBJECT_TYPE = "registry_monitoring"
RISK_LIST = "monitoring_risk"

HOUSEHOLD_ZH = "户编号不存在或不在您的管辖范围内"
FUTURE_ZH = "不能晚于今天"
END_BEFORE_START_ZH = "早于措施开始日期"
BEFORE_IDENTIFIED_ZH = "早于纳入监测日期"
DATE_WITHOUT_KIND_ZH = "填写了风险消除日期，请同时填写风险消除方式"
KIND_WITHOUT_DATE_ZH = "填写了风险消除方式，请同时填写风险消除日期"
NO_MONITORING_ZH = "该户没有对应的监测记录，请填写监测对象类型和纳入监测日期"
MANY_MONITORINGS_ZH = "该户有多条监测记录，请填写监测对象类型和纳入监测日期以区分"

_SPLIT = re.compile("[" + re.escape(RISK_SEPARATORS) + "]+")
_DATE_KEYS = ("identified_on", "started_on", "ended_on", "removed_on")


@dataclass
class MonitoringImportResult(ImportResult):
    """The pipeline's result (counts of help-measure rows) with the monitorings' own figures.

    ``created``: help measures created; ``updated``: rows that changed an existing measure or its
    monitoring."""

    monitorings_created: int = 0
    monitorings_updated: int = 0
    households_flagged: int = 0
    """Households whose ``monitored`` flag changed."""

    def details(self) -> dict[str, Any]:
        return {
            "monitorings_created": self.monitorings_created,
            "monitorings_updated": self.monitorings_updated,
            "households_flagged": self.households_flagged,
        }

    def summary_zh(self) -> str:
        c = self.counts()
        return (
            "读取 {read} 行：接受 {accepted}，拒绝 {rejected}；".format(**c)
            + "帮扶措施新增 {created}，更新 {updated}，未变 {unchanged}".format(**c)
            + f"；监测记录新增 {self.monitorings_created}，更新 {self.monitorings_updated}"
        )


def split_risks(text: str | None) -> tuple[list[str], list[str]]:
    """Risk codes of a cell written as one or several labels or codes, and the parts not known.

    >>> split_risks("因病、因残")
    (['illness', 'disability'], [])
    >>> split_risks("因病，因病; 缺劳动力；天灾")
    (['illness', 'labour_shortage'], ['天灾'])
    """
    codes: list[str] = []
    unknown: list[str] = []
    for part in _SPLIT.split(text or ""):
        part = part.strip()
        if not part:
            continue
        entry = codelists.lookup(RISK_LIST, part)
        if entry is None:
            unknown.append(part)
        elif entry.code not in codes:
            codes.append(entry.code)
    return codes, unknown


def _unknown_risks_zh(unknown: list[str]) -> str:
    entries = codelists.entries(RISK_LIST)
    labels = "、".join(e.zh for e in entries)
    parts = "、".join(f"「{u}」" for u in unknown)
    return f"{parts}不是有效的风险类型，可填：{labels}（多个用“、”分隔）"


def _error(row: ParsedRow, key: str, zh: str, en: str, code: str = "rule") -> CellError:
    """An error found after parsing, placed on the sheet's own cell (its label and position)."""
    position = row.positions.get(key)
    header = MONITORING.column(key).header
    if position is not None and position < len(row.labels) and row.labels[position]:
        header = row.labels[position]
    return CellError(row.row_number, header, code, zh, en, position)


class _Importer:
    def __init__(self, actor: Any, scope: Scope, today: dt.date, result: MonitoringImportResult) -> None:
        self.actor = actor
        self.scope = scope
        self.today = today
        self.result = result
        self.households: dict[str, Household | None] = {}
        self.monitorings: dict[int, list[Monitoring]] = {}
        self.measures: dict[int, dict[tuple[str, dt.date], HelpMeasure]] = {}
        self.seen: dict[tuple[int, str, dt.date], int] = {}
        # monitoring pk → field → (row number, value) of the first row that stated it
        self.stated: dict[int, dict[str, tuple[int, Any]]] = {}

    # --- loading a batch's households, monitorings and measures in a few queries ----------------

    def preload(self, batch: list[ParsedRow]) -> None:
        numbers = {n for r in batch if (n := r.values.get("household_number")) and n not in self.households}
        if not numbers:
            return
        found = {
            h.number: h
            for h in Household.objects.filter(self.scope.q("region_code"), number__in=sorted(numbers))
        }
        for number in numbers:
            self.households[number] = found.get(number)
        ids = [h.pk for h in found.values()]
        for hid in ids:
            self.monitorings.setdefault(hid, [])
        mons = list(Monitoring.objects.filter(household_id__in=ids).order_by("identified_on", "pk"))
        for mon in mons:
            self.monitorings[mon.household_id].append(mon)
            self.measures.setdefault(mon.pk, {})
        for measure in HelpMeasure.objects.filter(monitoring_id__in=[m.pk for m in mons]).order_by("pk"):
            self.measures[measure.monitoring_id].setdefault((measure.channel, measure.started_on), measure)

    # --- checking one row -----------------------------------------------------------------------

    def check(self, row: ParsedRow) -> tuple[Household, Monitoring | None, list[str] | None] | None:
        """Add the row's rule errors to ``row.errors``; the household, its monitoring (None: to be
        created) and the stated risks when the row can be written."""
        v = row.values
        bad = {e.column for e in row.errors if e.column is not None}

        def ok(key: str) -> bool:
            return row.positions.get(key) not in bad

        def add(key: str, zh: str, en: str) -> None:
            row.errors.append(_error(row, key, zh, en))

        risks: list[str] | None = None
        if v.get("risks"):
            risks, unknown = split_risks(v["risks"])
            if unknown:
                row.errors.append(
                    _error(
                        row, "risks", _unknown_risks_zh(unknown), f"unknown risks {unknown}", "unknown_code"
                    )
                )
        for key in _DATE_KEYS:
            value = v.get(key)
            if value is not None and value > self.today:
                add(key, FUTURE_ZH, f"{key} is in the future")
        started, ended = v.get("started_on"), v.get("ended_on")
        if started is not None and ended is not None and ended < started:
            add("ended_on", END_BEFORE_START_ZH, "ended_on is before started_on")
        removal, removed = v.get("removal"), v.get("removed_on")
        if removed is not None and not removal and ok("removal"):
            add("removal", DATE_WITHOUT_KIND_ZH, "removed_on without removal")
        if removal and removed is None and ok("removed_on"):
            add("removed_on", KIND_WITHOUT_DATE_ZH, "removal without removed_on")

        household = None
        number = v.get("household_number")
        if number:
            household = self.households.get(number)
            if household is None:
                add("household_number", HOUSEHOLD_ZH, "unknown household or out of scope")

        mon: Monitoring | None = None
        found = False
        kind, identified = v.get("kind"), v.get("identified_on")
        if household is not None and ok("kind") and ok("identified_on"):
            mons = [
                m
                for m in self.monitorings.get(household.pk, [])
                if (not kind or m.kind == kind) and (identified is None or m.identified_on == identified)
            ]
            if kind and identified is not None:
                mon, found = (mons[0] if mons else None), True
            elif len(mons) == 1:
                mon, found = mons[0], True
            elif not mons:
                add("identified_on" if identified is None else "kind", NO_MONITORING_ZH, "no such monitoring")
            else:
                add("identified_on" if identified is None else "kind", MANY_MONITORINGS_ZH, "ambiguous")
        if identified is None and mon is not None:
            identified = mon.identified_on
        if identified is not None:
            if started is not None and started < identified:
                add("started_on", BEFORE_IDENTIFIED_ZH, "started_on is before identified_on")
            if removed is not None and removed < identified:
                add("removed_on", BEFORE_IDENTIFIED_ZH, "removed_on is before identified_on")

        if mon is not None and not row.errors:
            stated = self.stated.get(mon.pk, {})
            if risks is not None and "risks" in stated and stated["risks"][1] != risks:
                add(
                    "risks",
                    f"与第 {stated['risks'][0]} 行的风险类型不一致",
                    "risks differ from an earlier row",
                )
            if removal and "removal" in stated and stated["removal"][1] != (removal, removed):
                add(
                    "removal",
                    f"与第 {stated['removal'][0]} 行的风险消除方式或日期不一致",
                    "removal differs from an earlier row",
                )
            first = self.seen.get((mon.pk, v["channel"], v["started_on"]))
            if first is not None:
                row.errors.append(
                    CellError(row.row_number, "", "duplicate", f"与第 {first} 行重复", f"repeats row {first}")
                )
        if row.errors or household is None or not found:
            return None
        return household, mon, risks

    # --- writing one row ------------------------------------------------------------------------

    def write(
        self, row: ParsedRow, household: Household, mon: Monitoring | None, risks: list[str] | None
    ) -> str:
        """Write the row's monitoring and measure; the outcome (created, updated, unchanged)."""
        v = row.values
        removal, removed = v.get("removal") or "", v.get("removed_on")
        changed = False
        if mon is None:
            mon = Monitoring.objects.create(
                household=household,
                kind=v["kind"],
                identified_on=v["identified_on"],
                risks=risks or [],
                removed_on=removed,
                removal=removal,
            )
            self.monitorings.setdefault(household.pk, []).append(mon)
            self.measures[mon.pk] = {}
            self.result.monitorings_created += 1
        else:
            fields = []
            if risks is not None and mon.risks != risks:
                mon.risks = risks
                fields.append("risks")
            if removal and (mon.removal != removal or mon.removed_on != removed):
                mon.removal, mon.removed_on = removal, removed
                fields += ["removal", "removed_on"]
            if fields:
                mon.save(update_fields=fields)
                self.result.monitorings_updated += 1
                changed = True
        stated = self.stated.setdefault(mon.pk, {})
        if risks is not None:
            stated.setdefault("risks", (row.row_number, risks))
        if removal:
            stated.setdefault("removal", (row.row_number, (removal, removed)))

        key = (v["channel"], v["started_on"])
        self.seen[(mon.pk, *key)] = row.row_number
        measure = self.measures[mon.pk].get(key)
        ended = v.get("ended_on")
        if measure is None:
            self.measures[mon.pk][key] = HelpMeasure.objects.create(
                monitoring=mon, channel=key[0], started_on=key[1], ended_on=ended
            )
            return "created"
        if ended is not None and measure.ended_on != ended:
            measure.ended_on = ended
            measure.save(update_fields=["ended_on"])
            changed = True
        return "updated" if changed else "unchanged"

    def flag(self, households: dict[int, Household]) -> None:
        """Keep ``Household.monitored``: true while one of its monitorings has no removal date."""
        open_ = set(
            Monitoring.objects.filter(household_id__in=list(households), removed_on__isnull=True).values_list(
                "household_id", flat=True
            )
        )
        for hid, household in households.items():
            monitored = hid in open_
            if household.monitored != monitored:
                household.monitored = monitored
                household.save(update_fields=["monitored"])
                self.result.households_flagged += 1

    def run_batch(self, batch: list[ParsedRow], rejected: list[ParsedRow]) -> None:
        self.preload(batch)
        touched: dict[int, Household] = {}
        for row in batch:
            checked = self.check(row)
            if checked is None:
                rejected.append(row)
                continue
            household, mon, risks = checked
            outcome = self.write(row, household, mon, risks)
            setattr(self.result, outcome, getattr(self.result, outcome) + 1)
            touched[household.pk] = household
        if touched:
            self.flag(touched)


def import_monitoring(
    path: str | Path,
    *,
    actor: Any,
    dry_run: bool = False,
    errors_out: str | Path | None = None,
    progress: Progress | None = None,
    via: str = "cli",
) -> MonitoringImportResult:
    """Import the monitoring sheet ``path`` (see the module docstring).

    Raises ``ImportRefused`` when the actor may change no registry data or the file has no data row.
    """
    scope = scope_for(actor, "registry", "change")
    if scope.is_empty:
        raise ImportRefused("您没有导入防返贫监测数据的权限", "you may not import monitoring data")
    rows, summary = parse(path, MONITORING)
    result = MonitoringImportResult(dry_run=dry_run)
    importer = _Importer(actor, scope, timezone.localdate(), result)
    # Not while a first load writes the empty registry (RegistryLock): refused, as any import.
    with registry_lock():
        rejected = pipeline.run_batches(
            rows, summary, importer.run_batch, result, batch_size=BATCH, progress=progress
        )
        result.notes = list(summary.unmatched.values())
        return pipeline.finish(
            result, rejected, actor=actor, object_type=OBJECT_TYPE, path=path, errors_out=errors_out, via=via
        )
