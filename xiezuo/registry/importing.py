"""The registry import (DESIGN.md §4, D9): parse → normalise → validate → dedupe → stage → merge.

Counts always add up: read = accepted + rejected, and accepted = created + updated + unchanged
(people). Every rejected row is kept with its row number, column and a Chinese reason, and can be
written to an error report the clerk fixes and imports again. Re-importing the same file changes
nothing; a killed import run again ends as a clean run does (staging starts afresh, the merge is
an idempotent upsert in short transactions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count

from xiezuo.core import audit
from xiezuo.core.bulk import insert_rows
from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.core.scope import Scope, scope_for
from xiezuo.core.tabular import parse
from xiezuo.core.tabular.errors import CellError, ParsedRow, write_errors
from xiezuo.regions.models import CodeHistory, Region
from xiezuo.registry import rules
from xiezuo.registry.columns import REGISTRY
from xiezuo.registry.idnumbers import (
    MESSAGES_EN,
    MESSAGES_ZH,
    known_address_codes,
    truncated_column,
    validate_ids,
)
from xiezuo.registry.models import (
    Dataset,
    Household,
    HouseholdIncome,
    HouseholdStatus,
    Member,
    Monitoring,
    StagedRow,
)

BATCH = 20_000
MERGE_HOUSEHOLDS = 5_000
Progress = Callable[[int, int | None, str], None]


class ImportRefused(Exception):
    """The whole import is refused before anything is written (message for the clerk in Chinese)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass
class ImportResult:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    households_updated: int = 0
    data_year: int | None = None
    as_of: dt.date | None = None
    dataset_id: int | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    errors_file: str | None = None

    def counts(self) -> dict[str, int]:
        return {
            k: getattr(self, k) for k in ("read", "accepted", "rejected", "created", "updated", "unchanged")
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RegionResolver:
    """12-digit codes of villages or townships, of the current year or mapped through the code
    history (an abolished county's code is replaced by its one successor), or 乡镇 + 村 names
    inside the importing user's county."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._known: dict[int, set[int]] = {}
        self._successor: dict[int, int] | None = None
        self._names: dict[tuple[str, str], int] | None = None

    def _successors(self) -> dict[int, int]:
        if self._successor is None:
            out: dict[int, int] = {}
            in_use = set(CodeHistory.objects.filter(in_use=True).values_list("code", flat=True))
            for code, succ in CodeHistory.objects.filter(in_use=False).values_list("code", "successors"):
                targets = {int(s[0]) for s in succ if int(s[0]) in in_use}
                if len(targets) == 1 and code not in in_use:
                    out[code] = targets.pop()
            self._successor = out
        return self._successor

    def _exists(self, code: int) -> int | None:
        """Whether a township or village code exists; codes are loaded a county at a time."""
        county = code // 10**6
        known = self._known.get(county)
        if known is None:
            low = county * 10**6
            known = self._known[county] = set(
                Region.objects.filter(level__gte=4, code__gte=low, code__lt=low + 10**6).values_list(
                    "code", flat=True
                )
            )
        return code if code in known else None

    def by_code(self, text: str) -> int | None:
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 9:
            digits += "000"
        if len(digits) != 12:
            return None
        code = int(digits)
        if self._exists(code):
            return code
        county = code // 10**6
        new = self._successors().get(county)
        if new is not None:
            moved = new * 10**6 + code % 10**6
            return self._exists(moved)
        return None

    def by_names(self, township: str, village: str) -> int | None:
        if self._names is None:
            self._names = {}
            counties = [(low, high) for low, high in self.scope.ranges if high - low <= 10**6]
            for low, high in counties:
                towns = dict(
                    Region.objects.filter(level=4, code__gte=low, code__lt=high).values_list("code", "name")
                )
                villages = Region.objects.filter(level=5, code__gte=low, code__lt=high).values_list(
                    "code", "name"
                )
                for code, name in villages:
                    town = towns.get(code // 1000 * 1000)
                    if town:
                        self._names[
                            (place_key(town, TOWNSHIP_SUFFIXES), place_key(name, VILLAGE_SUFFIXES))
                        ] = code
        key = (place_key(township, TOWNSHIP_SUFFIXES), place_key(village, VILLAGE_SUFFIXES))
        return self._names.get(key)


TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会")


def place_key(name: str, suffixes: tuple[str, ...]) -> str:
    """A township or village name without its administrative suffix, for matching names as typed.

    >>> place_key("武场村村民委员会", VILLAGE_SUFFIXES), place_key("武场村", VILLAGE_SUFFIXES)
    ('武场村', '武场村')
    >>> place_key("下板城镇", TOWNSHIP_SUFFIXES), place_key(" 下板城 ", TOWNSHIP_SUFFIXES)
    ('下板城', '下板城')
    """
    text = "".join(name.split())
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _batched(rows: Iterator[ParsedRow], n: int) -> Iterator[list[ParsedRow]]:
    while batch := list(islice(rows, n)):
        yield batch


KEY_OF_HEADER = {c.header: c.key for c in REGISTRY.columns}


def _cell_error(row: ParsedRow, header: str, zh: str, en: str, code: str) -> CellError:
    """An error found after parsing, placed on the sheet's own cell (its label and position)."""
    position = row.positions.get(KEY_OF_HEADER.get(header, ""))
    if position is None and header == "行政区划代码":
        position = row.positions.get("village")
    label = row.labels[position] if position is not None and position < len(row.labels) else header
    return CellError(
        row=row.row_number,
        column_header=label or header,
        code=code,
        message_zh=zh,
        message_en=en,
        column=position,
    )


def _stage_batch(
    batch: list[ParsedRow],
    *,
    import_key: str,
    seq0: int,
    data_year: int | None,
    as_of: dt.date,
    scope: Scope,
    resolver: RegionResolver,
    address_codes: frozenset[int],
) -> list[tuple[Any, ...]]:
    cipher = get_cipher()
    checks = validate_ids([r.values.get("id_number") for r in batch], as_of=as_of, extra_codes=address_codes)
    ok_col = checks["ok"].to_list()
    err_col = checks["error"].to_list()
    norm_col = checks["normalised"].to_list()
    birth_col = checks["birth"].to_list()
    sex_col = checks["sex"].to_list()
    out: list[tuple[Any, ...]] = []
    for i, row in enumerate(batch):
        v = row.values
        errors = list(row.errors)
        ident = norm_col[i]
        if not ok_col[i] and not any(e.column_header == "证件号码" for e in errors):
            code = err_col[i]
            errors.append(_cell_error(row, "证件号码", MESSAGES_ZH[code], MESSAGES_EN[code], code))
        region_code = None
        if v.get("region_code"):
            region_code = resolver.by_code(str(v["region_code"]))
            if region_code is None:
                errors.append(
                    _cell_error(
                        row,
                        "行政区划代码",
                        f"行政区划代码「{v['region_code']}」不是有效的村或乡镇代码",
                        "unknown village or township code",
                        "unknown_region",
                    )
                )
        elif v.get("township") and v.get("village"):
            region_code = resolver.by_names(str(v["township"]), str(v["village"]))
            if region_code is None:
                errors.append(
                    _cell_error(
                        row,
                        "村",
                        f"在您管辖的县内找不到「{v['township']}{v['village']}」",
                        "no such township and village in your county",
                        "unknown_village",
                    )
                )
        else:
            errors.append(
                _cell_error(
                    row,
                    "行政区划代码",
                    "请填写行政区划代码，或填写乡镇和村名称",
                    "a region code, or township and village names, is required",
                    "region_missing",
                )
            )
        if region_code is not None and not scope.contains(region_code):
            errors.append(
                _cell_error(
                    row, "行政区划代码", "该地区不在您的管辖范围内", "outside your area", "out_of_scope"
                )
            )
        if data_year is not None:
            for p in rules.check_row(v, data_year=data_year):
                errors.append(_cell_error(row, p.column, p.zh, p.en, p.code))
        if not v.get("name") and not any(e.column_header == "姓名" for e in errors):
            errors.append(_cell_error(row, "姓名", "姓名不能为空", "name is required", "missing"))
        payload: dict[str, Any] = {}
        id_hmac = ""
        if not errors and ident is not None:
            id_hmac = cipher.hmac(ident)
            payload = {
                k: (val.isoformat() if isinstance(val, dt.date) else val)
                for k, val in v.items()
                if k not in ("id_number", "name", "region_code", "township", "village")
            }
            payload.update(
                id_cipher=cipher.encrypt(ident),
                id_masked=mask_id(ident),
                name_cipher=cipher.encrypt(v["name"]),
                name_hmac=cipher.hmac(v["name"]),
                name_masked=mask_name(v["name"]),
                birth_date=birth_col[i].isoformat(),
                sex=sex_col[i],
            )
        raw = json.dumps(
            {
                "labels": list(row.labels),
                "cells": [_jsonable(c) for c in row.raw],
                "positions": row.positions,
            },
            ensure_ascii=False,
        )
        out.append(
            (
                import_key,
                seq0 + i,
                row.source,
                row.row_number,
                str(v.get("household_number") or "")[:40],
                id_hmac,
                region_code,
                json.dumps(payload, ensure_ascii=False),
                cipher.encrypt(raw),
                json.dumps(
                    [[e.column_header, e.message_zh, e.message_en, e.column] for e in errors],
                    ensure_ascii=False,
                ),
            )
        )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


STAGE_COLUMNS = [
    "import_key",
    "seq",
    "source",
    "row_number",
    "household_number",
    "id_hmac",
    "region_code",
    "payload",
    "raw_cipher",
    "errors",
]


def _add_error(import_key: str, seqs: Iterable[int], header: str, zh: str, en: str) -> None:
    for row in StagedRow.objects.filter(import_key=import_key, seq__in=list(seqs)):
        row.errors = [*row.errors, [header, zh, en]]
        row.save(update_fields=["errors"])


def _cross_checks(import_key: str, *, data_year: int, view_scope: Scope) -> None:
    """Checks across rows: one person, one household within the file, and within the data year."""
    ok = StagedRow.objects.filter(import_key=import_key, errors=[])
    dup = (
        ok.values("id_hmac")
        .annotate(n=Count("household_number", distinct=True))
        .filter(n__gt=1)
        .values_list("id_hmac", flat=True)
    )
    for hmac in list(dup):
        rows = list(ok.filter(id_hmac=hmac).values_list("seq", "household_number", "row_number"))
        for seq, number, _row in rows:
            others = sorted({n for _, n, _ in rows if n != number})
            lines = sorted({str(r) for _, n, r in rows if n != number})
            _add_error(
                import_key,
                [seq],
                "证件号码",
                "同一证件号码出现在本文件的其他户中（户编号 {}，第 {} 行）".format(
                    "、".join(others), "、".join(lines)
                ),
                "the same ID number is in another household of this file",
            )
    # Same person already registered in another household in this data year, not in this file.
    numbers_here = ok.values("household_number")
    clash = (
        Member.objects.filter(
            id_hmac__in=ok.values("id_hmac"),
            left_on__isnull=True,
            household__last_dataset__data_year=data_year,
        )
        .exclude(household__number__in=numbers_here)
        .values_list("id_hmac", "household__number", "household__region_code")
    )
    for hmac, number, region_code in clash:
        seqs = list(ok.filter(id_hmac=hmac).values_list("seq", flat=True))
        if view_scope.contains(region_code):
            zh = f"该证件号码已在本年度其他户登记（户编号 {number}），请核实"
        else:
            zh = "该身份证号已在其他地区登记，请联系上级核实"
        _add_error(
            import_key, seqs, "证件号码", zh, "the ID number is registered in another household this year"
        )


def import_registry(
    path: str | Path,
    *,
    actor: Any,
    data_year: int | None = None,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    errors_out: str | Path | None = None,
    progress: Progress | None = None,
    via: str = "cli",
) -> ImportResult:
    """Import a registry file (CSV, XLSX, XLS, Parquet or a zip of them); see the module docstring."""
    path = Path(path)
    scope = scope_for(actor, "registry", "change")
    if scope.is_empty:
        raise ImportRefused("您没有导入建档立卡数据的权限", "you may not import registry data")
    sha = file_sha256(path)
    rows, summary = parse(path, REGISTRY)
    result = ImportResult(dry_run=dry_run, data_year=data_year, as_of=as_of)
    import_key = hashlib.sha256(
        f"{sha}:{data_year}:{as_of}:{getattr(actor, 'pk', 'system')}".encode()
    ).hexdigest()
    StagedRow.objects.filter(import_key=import_key).delete()  # a killed run's leftovers
    resolver = RegionResolver(scope)
    addresses = known_address_codes()
    seq = 0
    ids_seen: list[object] = []
    years_checked = data_year is not None  # else the year rules run once the sheet gave the year
    for batch in _batched(rows, BATCH):
        staged = _stage_batch(
            batch,
            import_key=import_key,
            seq0=seq,
            data_year=data_year,
            as_of=as_of or dt.date.today(),
            scope=scope,
            resolver=resolver,
            address_codes=addresses,
        )
        with transaction.atomic():
            insert_rows(StagedRow, STAGE_COLUMNS, staged)
        if len(ids_seen) < 2000:
            ids_seen.extend(r.values.get("id_number") for r in batch[: 2000 - len(ids_seen)])
        seq += len(batch)
        if progress:
            progress(seq, None, f"已读取 {seq} 行")
    # The as-of date and data year may come from the sheet (填报日期 / 数据截止日期).
    if as_of is None:
        stated = summary.as_of
        if isinstance(stated, dt.date):
            as_of = stated
    if data_year is None and as_of is not None:
        data_year = as_of.year
    if as_of is None or data_year is None:
        StagedRow.objects.filter(import_key=import_key).delete()
        raise ImportRefused(
            "请用 --data-year 和 --as-of 指明数据年度和数据截止日期（表中未写明填报日期或数据截止日期）",
            "give --data-year and --as-of: the sheet states no as-of date",
        )
    result.data_year, result.as_of = data_year, as_of
    if truncated_column(ids_seen):
        result.notes.append(MESSAGES_ZH["truncated_column"])
    result.notes.extend(summary.unit_notes_zh(REGISTRY))
    if not (summary.read or StagedRow.objects.filter(import_key=import_key).exists()):
        reasons = "；".join(summary.unmatched.values()) or "文件中没有数据行"
        raise ImportRefused(f"没有读到数据：{reasons}", "no data rows")
    if not years_checked:
        _recheck_years(import_key, data_year)
    _cross_checks(import_key, data_year=data_year, view_scope=scope_for(actor, "registry", "view"))
    all_rows = StagedRow.objects.filter(import_key=import_key)
    result.read = all_rows.count()
    result.rejected = all_rows.exclude(errors=[]).count()
    result.accepted = result.read - result.rejected
    if errors_out is not None:
        result.errors_file = str(write_errors(errors_out, _rejected_rows(import_key)))
    _merge(
        import_key, result, actor=actor, write=not dry_run, progress=progress, sha=sha, file_name=path.name
    )
    StagedRow.objects.filter(import_key=import_key).delete()
    return result


def _recheck_years(import_key: str, data_year: int) -> None:
    """Year rules need the data year, which may only be known once the whole sheet was read."""
    for row in StagedRow.objects.filter(import_key=import_key, errors=[]).iterator():
        problems = rules.check_row(row.payload, data_year=data_year)
        if problems:
            row.errors = [[p.column, p.zh, p.en] for p in problems]
            row.save(update_fields=["errors"])


def _placed(row_number: int, error: list[Any], raw: dict[str, Any]) -> CellError:
    """An error of a staged row on its cell: errors of cross-row checks know only the header."""
    header, zh, en = error[:3]
    position = error[3] if len(error) > 3 else None
    if position is None:
        position = raw.get("positions", {}).get(KEY_OF_HEADER.get(header, ""))
    labels = raw.get("labels", [])
    label = (
        labels[position] if position is not None and position < len(labels) and labels[position] else header
    )
    return CellError(
        row=row_number, column_header=label, code="", message_zh=zh, message_en=en, column=position
    )


def _rejected_rows(import_key: str) -> Iterator[ParsedRow]:
    cipher = get_cipher()
    for s in StagedRow.objects.filter(import_key=import_key).exclude(errors=[]).order_by("seq").iterator():
        raw = json.loads(cipher.decrypt(s.raw_cipher))
        yield ParsedRow(
            source=s.source,
            row_number=s.row_number,
            values={},
            raw=raw["cells"],
            labels=tuple(raw["labels"]),
            errors=[_placed(s.row_number, e, raw) for e in s.errors],
        )


HOUSEHOLD_FIELDS = (
    "region_code",
    "attribute",
    "main_cause",
    "standard",
    "registered_year",
    "planned_exit_year",
    "exit_year",
    "status",
    "monitored",
    "pathway",
    "size",
    "income_per_capita_fen",
)
MEMBER_FIELDS = (
    "household_id",
    "name_hmac",
    "relation",
    "region_code",
    "entry_reason",
    "entered_on",
    "leave_reason",
    "left_on",
)


def _household_values(rows: list[StagedRow]) -> dict[str, Any]:
    head = next((r for r in rows if r.payload.get("relation") == "01"), rows[0])
    p = head.payload
    return {
        "region_code": head.region_code,
        "attribute": p.get("attribute") or "",
        "main_cause": p.get("main_cause") or "",
        "standard": p.get("standard") or "",
        "registered_year": p.get("registered_year"),
        "planned_exit_year": p.get("planned_exit_year"),
        "exit_year": p.get("exit_year"),
        "status": p.get("status"),
        "monitored": bool(p.get("monitoring_type")),
        "pathway": p.get("pathway") or "",
        "size": sum(1 for r in rows if not r.payload.get("leave_reason")),
        "income_per_capita_fen": p.get("income_per_capita"),
    }


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _merge(
    import_key: str,
    result: ImportResult,
    *,
    actor: Any,
    write: bool,
    progress: Progress | None,
    sha: str,
    file_name: str,
) -> None:
    """Upsert households and members, household by household, in short transactions."""
    assert result.as_of is not None and result.data_year is not None
    dataset: Dataset | None = None
    if write:
        dataset, _ = Dataset.objects.get_or_create(
            file_sha256=sha,
            data_year=result.data_year,
            as_of=result.as_of,
            defaults={
                "file_name": file_name,
                "imported_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        result.dataset_id = dataset.pk
    numbers = list(
        StagedRow.objects.filter(import_key=import_key, errors=[])
        .order_by("household_number")
        .values_list("household_number", flat=True)
        .distinct()
    )
    done = 0
    for start in range(0, len(numbers), MERGE_HOUSEHOLDS):
        chunk = numbers[start : start + MERGE_HOUSEHOLDS]
        with transaction.atomic():
            changed = _merge_chunk(import_key, chunk, result, dataset, write=write)
            if write and changed:
                audit.record(
                    actor=actor,
                    action="import",
                    object_type="household",
                    via="job" if progress else "cli",
                    batch={
                        "file_sha256": sha,
                        "dataset": dataset.pk if dataset else None,
                        "households": changed,
                    },
                )
        done += len(chunk)
        if progress:
            progress(done, len(numbers), f"已合并 {done} 户")
    if write and dataset is not None:
        dataset.counts = result.counts()
        dataset.save(update_fields=["counts"])
        audit.record(
            actor=actor,
            action="import",
            object_type="registry_dataset",
            object_id=dataset.pk,
            object_repr=file_name,
            batch={"file_sha256": sha, **result.counts()},
            via="cli",
        )


def _merge_chunk(
    import_key: str, numbers: list[str], result: ImportResult, dataset: Dataset | None, *, write: bool
) -> list[int]:
    """Merge the staged rows of some households: bulk inserts for what is new, bulk updates for
    what changed, nothing for what is the same. Returns the ids of the households written."""
    assert result.as_of is not None and result.data_year is not None
    staged: dict[str, list[StagedRow]] = {}
    for s in StagedRow.objects.filter(
        import_key=import_key, errors=[], household_number__in=numbers
    ).order_by("seq"):
        staged.setdefault(s.household_number, []).append(s)
    existing = {h.number: h for h in Household.objects.filter(number__in=numbers)}
    hmacs = [s.id_hmac for rows in staged.values() for s in rows]
    members = {m.id_hmac: m for m in Member.objects.filter(id_hmac__in=hmacs)}
    values = {number: _household_values(rows) for number, rows in staged.items()}
    new_households: list[Household] = []
    changed_households: list[Household] = []
    status_changed: list[Household] = []
    for number, want in values.items():
        household = existing.get(number)
        if household is None:
            result.households_created += 1
            new_households.append(
                Household(number=number, first_dataset=dataset, last_dataset=dataset, **want)
            )
        elif any(getattr(household, f) != want[f] for f in HOUSEHOLD_FIELDS):
            result.households_updated += 1
            if household.status != want["status"]:
                status_changed.append(household)
            for f in HOUSEHOLD_FIELDS:
                setattr(household, f, want[f])
            household.last_dataset = dataset  # type: ignore[assignment]
            changed_households.append(household)
    if write:
        Household.objects.bulk_create(new_households, batch_size=2000)
        Household.objects.bulk_update(
            changed_households, [*HOUSEHOLD_FIELDS, "last_dataset"], batch_size=2000
        )
        by_number = {h.number: h for h in (*new_households, *changed_households)}
        by_number.update({n: h for n, h in existing.items() if n not in by_number})
        _write_side_tables_bulk(
            new_households, changed_households, status_changed, staged, values, result, dataset
        )
    else:
        by_number = {**existing, **{h.number: h for h in new_households}}
    touched = {h.number for h in (*new_households, *changed_households)}
    new_members: list[Member] = []
    changed_members: list[Member] = []
    for number, rows in staged.items():
        household = by_number[number]
        for s in rows:
            p = s.payload
            want_m = {
                "household_id": household.pk,
                "name_hmac": p["name_hmac"],
                "relation": p.get("relation") or "",
                "region_code": s.region_code,
                "entry_reason": p.get("entry_reason") or "",
                "entered_on": _date(p.get("entered_on")),
                "leave_reason": p.get("leave_reason") or "",
                "left_on": _date(p.get("left_on")),
            }
            member = members.get(s.id_hmac)
            if member is None:
                result.created += 1
                new_members.append(
                    Member(
                        id_hmac=s.id_hmac,
                        id_cipher=p["id_cipher"],
                        id_masked=p["id_masked"],
                        name_cipher=p["name_cipher"],
                        name_masked=p["name_masked"],
                        birth_date=dt.date.fromisoformat(p["birth_date"]),
                        sex=p["sex"],
                        last_dataset=dataset,
                        **want_m,
                    )
                )
            elif number in touched or any(getattr(member, f) != want_m[f] for f in MEMBER_FIELDS):
                result.updated += 1
                if member.name_hmac != p["name_hmac"]:
                    member.name_cipher, member.name_masked = p["name_cipher"], p["name_masked"]
                for f in MEMBER_FIELDS:
                    setattr(member, f, want_m[f])
                member.last_dataset = dataset  # type: ignore[assignment]
                changed_members.append(member)
            else:
                result.unchanged += 1
    if write:
        Member.objects.bulk_create(new_members, batch_size=2000)
        Member.objects.bulk_update(
            changed_members, [*MEMBER_FIELDS, "name_cipher", "name_masked", "last_dataset"], batch_size=2000
        )
    return [h.pk for h in (*new_households, *changed_households) if h.pk is not None]


def _write_side_tables_bulk(
    new: list[Household],
    changed: list[Household],
    status_changed: list[Household],
    staged: dict[str, list[StagedRow]],
    values: dict[str, dict[str, Any]],
    result: ImportResult,
    dataset: Dataset | None,
) -> None:
    """Status intervals, income of the data year and monitoring, for the households written."""
    assert result.as_of is not None and result.data_year is not None and dataset is not None
    statuses: list[HouseholdStatus] = []
    for h in new:
        want = values[h.number]
        for i in rules.status_intervals(
            registered_year=want["registered_year"],
            status=want["status"],
            exit_year=want["exit_year"],
            as_of=result.as_of,
        ):
            statuses.append(
                HouseholdStatus(household=h, status=i.status, start=i.start, end=i.end, dataset=dataset)
            )
    for h in status_changed:
        current = [rules.Interval(x.status, x.start, x.end) for x in h.statuses.order_by("start")]
        wanted = rules.next_intervals(current, values[h.number]["status"], as_of=result.as_of)
        h.statuses.all().delete()
        statuses.extend(
            HouseholdStatus(household=h, status=i.status, start=i.start, end=i.end, dataset=dataset)
            for i in wanted
        )
    HouseholdStatus.objects.bulk_create(statuses, batch_size=2000)
    written = [*new, *changed]
    have_income = set(
        HouseholdIncome.objects.filter(household__in=changed, year=result.data_year).values_list(
            "household_id", flat=True
        )
    )
    incomes = [
        HouseholdIncome(
            household=h, year=result.data_year, net_per_capita_fen=values[h.number]["income_per_capita_fen"]
        )
        for h in written
        if values[h.number]["income_per_capita_fen"] is not None and h.pk not in have_income
    ]
    HouseholdIncome.objects.bulk_create(incomes, batch_size=2000)
    for h in changed:
        if h.pk in have_income:
            HouseholdIncome.objects.filter(household=h, year=result.data_year).update(
                net_per_capita_fen=values[h.number]["income_per_capita_fen"]
            )
    open_kinds = set(
        Monitoring.objects.filter(household__in=changed, removed_on__isnull=True).values_list(
            "household_id", "kind"
        )
    )
    monitorings = []
    for h in written:
        head = next((r for r in staged[h.number] if r.payload.get("monitoring_type")), None)
        if head is not None and (h.pk, head.payload["monitoring_type"]) not in open_kinds:
            monitorings.append(
                Monitoring(
                    household=h,
                    kind=head.payload["monitoring_type"],
                    identified_on=_date(head.payload.get("monitoring_since")) or result.as_of,
                )
            )
    Monitoring.objects.bulk_create(monitorings, batch_size=2000)
