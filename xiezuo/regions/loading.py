"""Load the region tree, its loaded and derived flags, and the county code history.

Idempotent: a second run with the same files inserts and changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from xiezuo.core.bulk import insert_rows
from xiezuo.regions import rules
from xiezuo.regions.models import CodeHistory, Region, RegionFlag, full_code

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = Path(__file__).resolve().parent.parent / "pairings" / "data"
SOURCE_NBS = "国家统计局 统计用区划代码 2023（china-division 2.7.0）"

Progress = Callable[[int, int | None, str], None]


@dataclass
class LoadResult:
    inserted: dict[int, int] = field(default_factory=dict)  # level -> rows inserted
    renamed: int = 0
    flags: int = 0
    history: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "inserted": {str(k): v for k, v in sorted(self.inserted.items())},
            "renamed": self.renamed,
            "flags": self.flags,
            "history": self.history,
        }


def _read(name: str, folder: Path = DATA) -> Iterator[dict[str, str]]:
    path = folder / name
    raw = gzip.open(path, "rb") if name.endswith(".gz") else path.open("rb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        yield from csv.DictReader(text)


@dataclass(frozen=True)
class _Row:
    code: int
    level: int
    name: str
    parent_code: int | None
    kind: str


def _rows(level: int, counties: set[str] | None, zones: set[str]) -> Iterator[_Row]:
    if level == 1:
        for r in _read("provinces.csv.gz"):
            yield _Row(full_code(r["code"]), 1, r["name"], None, "admin")
    elif level == 2:
        for r in _read("cities.csv.gz"):
            kind = "pseudo" if rules.is_pseudo_name(r["name"]) else "admin"
            yield _Row(full_code(r["code"]), 2, r["name"], full_code(r["provinceCode"]), kind)
    elif level == 3:
        for r in _read("areas.csv.gz"):
            kind = "zone" if r["code"] in zones else "admin"
            yield _Row(full_code(r["code"]), 3, r["name"], full_code(r["cityCode"]), kind)
    elif level == 4:
        for r in _read("streets.csv.gz"):
            if counties is None or r["areaCode"] in counties:
                yield _Row(full_code(r["code"]), 4, r["name"], full_code(r["areaCode"]), "admin")
    elif level == 5:
        for r in _read("villages.csv.gz"):
            if counties is None or r["areaCode"] in counties:
                yield _Row(full_code(r["code"]), 5, r["name"], full_code(r["streetCode"]), "admin")


def load_regions(
    *, level: int = 3, counties: Iterable[str] | None = None, progress: Progress | None = None
) -> LoadResult:
    """Load levels 1..``level``; townships and villages only under ``counties`` (6-digit codes) if given."""
    result = LoadResult()
    county_set = set(counties) if counties is not None else None
    history = list(_read("county_code_history.csv.gz"))
    in_use = {h["代码"] for h in history if h["状态"] == "在用"}
    zones = {r["code"] for r in _read("areas.csv.gz") if rules.is_statistical_zone(r["code"], in_use)}
    start_year = {int(h["代码"]): int(h["启用时间"]) for h in history if h["状态"] == "在用"}
    with transaction.atomic():
        result.history = _load_history(history)
        # (code, level) -> id; parents are looked up one level up.
        ids: dict[tuple[int, int], int] = {
            (c, lv): i for c, lv, i in Region.objects.values_list("code", "level", "id")
        }
        for lev in range(1, level + 1):
            existing = dict(Region.objects.filter(level=lev).values_list("code", "name"))
            new: list[tuple[object, ...]] = []
            for row in _rows(lev, county_set, zones):
                if row.code in existing:
                    if existing[row.code] != row.name:
                        Region.objects.filter(code=row.code).update(name=row.name)
                        result.renamed += 1
                    continue
                parent_id = ids.get((row.parent_code, lev - 1)) if row.parent_code is not None else None
                if row.parent_code is not None and parent_id is None:
                    raise ValueError(f"region {row.code} has unknown parent {row.parent_code}")
                valid_from = start_year.get(int(str(row.code)[:6])) if lev <= 3 else None
                new.append((row.code, lev, row.name, row.kind, parent_id, valid_from))
            if progress:
                progress(0, len(new), f"level {lev}")
            result.inserted[lev] = insert_rows(
                Region, ["code", "level", "name", "kind", "parent_id", "valid_from"], new
            )
            if new:
                ids.update(
                    ((c, lev), i) for c, i in Region.objects.filter(level=lev).values_list("code", "id")
                )
            if progress:
                progress(len(new), len(new), f"level {lev}")
        result.flags = load_flags(ids)
    return result


def _load_history(history: list[dict[str, str]]) -> int:
    known = set(CodeHistory.objects.values_list("code", "start_year"))
    level = {"省级": 1, "地级": 2, "县级": 3}
    new = [
        CodeHistory(
            code=int(h["代码"]),
            name=h["名称"],
            province_name=h["一级行政区"],
            prefecture_name=h["二级行政区"],
            level=level[h["级别"]],
            in_use=h["状态"] == "在用",
            status=h["状态"],
            start_year=int(h["启用时间"]),
            end_year=int(h["变更/弃用时间"]) if h["变更/弃用时间"] else None,
            successors=rules.parse_successors(h["新代码"]),
        )
        for h in history
        if (int(h["代码"]), int(h["启用时间"])) not in known
    ]
    CodeHistory.objects.bulk_create(new, batch_size=2000)
    return len(new)


def load_flags(ids: dict[tuple[int, int], int]) -> int:
    """Loaded and derived flags of levels 1-3: poverty counties, 三区三州, ethnic autonomy, belts."""
    wanted: dict[tuple[int, str], tuple[str, str, str]] = {}
    for r in _read("poverty_counties_832.csv", REFERENCE):
        if not r["code_2023"]:  # the known source error (冷湖行委), see data/SOURCE.md
            continue
        key = (full_code(r["code_2023"]), 3)
        if key in ids:
            wanted[(ids[key], "poverty_county")] = (
                r["exit_year"],
                "loaded",
                "832个国家扶贫开发工作重点县和集中连片特困地区县（2014），摘帽年度",
            )
    for r in _read("deep_poverty_areas.csv", REFERENCE):
        key = (full_code(r["code"]), rules.level_of_short(r["code"]))
        if key in ids:
            wanted[(ids[key], "deep_3q3z")] = (r["part"], "loaded", "三区三州（2017–2018 官方口径新闻报道）")
    for code, name, lev in Region.objects.filter(level__lte=3).values_list("code", "name", "level"):
        if rules.is_ethnic_autonomous(name):
            wanted[(ids[(code, lev)], "ethnic_autonomous")] = (
                "",
                "derived",
                "由名称中的自治区/自治州/自治县/旗推导",
            )
        if lev == 1:
            belt = rules.BELTS.get(str(code)[:2])
            if belt:
                wanted[(ids[(code, lev)], "belt")] = (belt, "maintained", rules.BELT_SOURCE)
    existing = set(RegionFlag.objects.values_list("region_id", "flag"))
    new = [
        RegionFlag(region_id=rid, flag=flag, value=v, origin=o, source=s)
        for (rid, flag), (v, o, s) in wanted.items()
        if (rid, flag) not in existing
    ]
    RegionFlag.objects.bulk_create(new, batch_size=2000)
    return len(new)
