"""Synthetic registry data (建档立卡): import-ready files with realistic distributions, no real people.

``generate(people=N, seed=S, out=DIR)`` writes one row per member in the layout clerks use (the
import headers), CSV for small tiers and Parquet chunks for big ones, plus ``manifest.json``
recording the planted errors. Same seed, same files: every field comes from one numpy
``Generator`` (PCG64) seeded here; Faker (pinned) only supplies the surname and given-name lists.

Where households go: national poverty counties (the 832 list) in western provinces and the other
helped areas of the 2016 East–West list, in proportion to a
documented proxy of their registered poor population — the county's number of villages in the
2023 statistical codes, times 1.5 in 三区三州 areas (deeper poverty) — because no public per-county
count of registered poor people exists. Households are spread over the county's villages.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from faker.providers.person.zh_CN import Provider as ZhNames

PACKAGE = Path(__file__).resolve().parent.parent
DATA = PACKAGE / "regions" / "data"
REFERENCE = PACKAGE / "pairings" / "data"

HEADERS = [
    "户编号",
    "行政区划代码",
    "姓名",
    "证件号码",
    "与户主关系",
    "贫困户属性",
    "主要致贫原因",
    "识别年度",
    "贫困状态",
    "脱贫年度",
    "人均纯收入（元）",
    "监测对象类型",
    "纳入监测日期",
]
TIERS = {"demo": 50_000, "province": 7_000_000, "national": 100_000_000}
WEIGHTS = "7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2"
CHECK = "10X98765432"

# Distributions (shares of households), from the shape of published national figures.
CAUSES = {
    "因病": 0.30,
    "缺技术": 0.15,
    "缺资金": 0.13,
    "缺劳力": 0.12,
    "因残": 0.09,
    "因学": 0.07,
    "自身发展动力不足": 0.05,
    "因灾": 0.03,
    "交通条件落后": 0.02,
    "缺土地": 0.02,
    "缺水": 0.01,
    "因婚": 0.005,
    "因丧": 0.005,
}
ATTRIBUTES = {"一般贫困户": 0.62, "低保贫困户": 0.33, "特困供养贫困户": 0.05}
REGISTERED = {2014: 0.70, 2015: 0.08, 2016: 0.08, 2017: 0.07, 2018: 0.05, 2019: 0.02}
SIZES = {1: 0.15, 2: 0.20, 3: 0.20, 4: 0.20, 5: 0.15, 6: 0.07, 7: 0.03}
MONITORED_SHARE = 0.03
MONITORING_TYPES = {"脱贫不稳定户": 0.5, "边缘易致贫户": 0.4, "突发严重困难户": 0.1}
ERROR_SHARE = 0.005
ERROR_KINDS = ["bad_checksum", "future_birth", "unknown_region", "duplicate_id", "missing_name"]


@dataclass(frozen=True)
class County:
    code: str
    exit_year: int
    villages: tuple[int, ...]
    weight: float


def helped_prefixes() -> tuple[str, ...]:
    """Western provinces and the helped regions of the 2016 East–West list (河北, 恩施, 湘西, 延边 …)."""
    west = ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")
    with open(REFERENCE / "pairings_2016_east_west.csv", encoding="utf-8") as fh:
        helped = {r["helped_code"] for r in csv.DictReader(fh)}
    return tuple(sorted(set(west) | helped))


def load_counties(province: str | None = None, only: list[str] | None = None) -> list[County]:
    """Poverty counties of helped areas with their villages and weights (the proxy described above)."""
    helped = helped_prefixes()
    with open(REFERENCE / "poverty_counties_832.csv", encoding="utf-8") as fh:
        listed = {
            r["code_2023"]: int(r["exit_year"])
            for r in csv.DictReader(fh)
            if r["code_2023"] and r["code_2023"].startswith(helped)
        }
    with open(REFERENCE / "deep_poverty_areas.csv", encoding="utf-8") as fh:
        deep = [r["code"] for r in csv.DictReader(fh)]
    villages: dict[str, list[int]] = defaultdict(list)
    with gzip.open(DATA / "villages.csv.gz", "rt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["areaCode"] in listed:
                villages[r["areaCode"]].append(int(r["code"]))
    out = []
    for code in sorted(listed):
        if province and not code.startswith(province):
            continue
        if only is not None and code not in only:
            continue
        if not villages[code]:
            continue
        factor = 1.5 if any(code.startswith(d) for d in deep) else 1.0
        out.append(County(code, listed[code], tuple(villages[code]), len(villages[code]) * factor))
    return out


def _pick(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=float)
    idx = rng.choice(len(keys), size=n, p=p / p.sum())
    return np.array(keys, dtype=object)[idx]


def check_chars(body17: np.ndarray) -> np.ndarray:
    """Check characters of 17-digit bodies (vectorised over a uint8 digit matrix).

    >>> check_chars(np.array(["11010519491231002"])).tolist()
    ['X']
    """
    digits = np.frombuffer("".join(body17).encode(), dtype=np.uint8).reshape(-1, 17) - 48
    weights = np.array([int(w) for w in WEIGHTS.split()], dtype=np.int64)
    rest = (digits.astype(np.int64) @ weights) % 11
    return np.array(list(CHECK), dtype=object)[rest]


def _names(rng: np.random.Generator, n: int, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Surname by its frequency, given name of one or two characters from Faker's zh_CN lists."""
    surnames = list(ZhNames.last_names)
    sp = np.array([ZhNames.last_names[s] for s in surnames], dtype=float)
    surname = np.array(surnames, dtype=object)[rng.choice(len(surnames), size=n, p=sp / sp.sum())]
    pool_m = np.array(sorted(set(ZhNames.first_names_male)), dtype=object)
    pool_f = np.array(sorted(set(ZhNames.first_names_female)), dtype=object)
    given = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    single = np.array([len(g) == 1 for g in given])
    extra = np.where(male, pool_m[rng.integers(0, len(pool_m), n)], pool_f[rng.integers(0, len(pool_f), n)])
    extra = np.array([e[0] for e in extra], dtype=object)
    return surname, given + np.where(single & (rng.random(n) < 0.6), extra, "")


def _households(
    rng: np.random.Generator, counties: list[County], people: int, data_year: int
) -> Iterator[dict]:
    """Yield column arrays for chunks of households until ``people`` members are generated."""
    w = np.array([c.weight for c in counties])
    counts = np.array([len(c.villages) for c in counties], dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    all_villages = np.array([v for c in counties for v in c.villages], dtype=np.int64)
    sizes_k = np.array(list(SIZES))
    sizes_p = np.array(list(SIZES.values()))
    made = 0
    serial = 0
    while made < people:
        n_hh = min(200_000, max(1, (people - made) // 3 + 1))
        size = sizes_k[rng.choice(len(sizes_k), size=n_hh, p=sizes_p / sizes_p.sum())]
        cum = np.cumsum(size)
        keep = min(int(np.searchsorted(cum, people - made, side="left")) + 1, n_hh)
        size = size[:keep]
        if cum[keep - 1] > people - made:
            size[-1] -= cum[keep - 1] - (people - made)
        n_hh = len(size)
        county_idx = rng.choice(len(counties), size=n_hh, p=w / w.sum())
        village = all_villages[offsets[county_idx] + (rng.random(n_hh) * counts[county_idx]).astype(np.int64)]
        exit_cap = np.array([min(counties[i].exit_year, 2020) for i in county_idx])
        registered = _pick(rng, REGISTERED, n_hh).astype(int)
        registered = np.minimum(registered, exit_cap - 1)
        # Households exit between the year after registration and the county's exit year (some later).
        span = np.maximum(exit_cap - registered, 1)
        exit_year = registered + 1 + (rng.random(n_hh) * span).astype(int)
        exit_year = np.where(rng.random(n_hh) < 0.04, 2020, np.minimum(exit_year, 2020))
        status = np.where(exit_year < data_year, "已脱贫", np.where(exit_year == data_year, "预脱贫", "贫困"))
        income = np.where(status == "贫困", rng.integers(1800, 3700, n_hh), rng.integers(4200, 12000, n_hh))
        monitored = (rng.random(n_hh) < MONITORED_SHARE) & (data_year >= 2020)
        yield {
            "serial0": serial,
            "size": size,
            "village": village,
            "county": county_idx,
            "registered": registered,
            "exit_year": exit_year,
            "status": status,
            "income": income,
            "cause": _pick(rng, CAUSES, n_hh),
            "attribute": _pick(rng, ATTRIBUTES, n_hh),
            "monitored": monitored,
            "mtype": _pick(rng, MONITORING_TYPES, n_hh),
        }
        serial += n_hh
        made += int(size.sum())


N_DAYS = 46_000  # days from 1900-01-01 to beyond 2025


def _members(
    rng: np.random.Generator, hh: dict, counties: list[County], as_of: dt.date, used: np.ndarray
) -> dict:
    size = hh["size"]
    n = int(size.sum())
    owner = np.repeat(np.arange(len(size)), size)
    pos = np.arange(n) - np.repeat(np.cumsum(size) - size, size)  # 0 = head
    head_age = rng.integers(28, 76, len(size))[owner]
    age = np.select(
        [pos == 0, pos == 1, pos <= 4],
        [
            head_age,
            np.clip(head_age + rng.integers(-5, 6, n), 18, 90),
            np.clip(head_age - rng.integers(20, 36, n), 0, 60),
        ],
        default=np.clip(head_age + rng.integers(20, 30, n), 40, 99),
    )
    relation = np.select([pos == 0, pos == 1, pos <= 4], ["户主", "配偶", "之子"], default="之父母")
    head_male = rng.random(len(size)) < 0.8
    male = np.where(pos == 0, head_male[owner], np.where(pos == 1, ~head_male[owner], rng.random(n) < 0.52))
    relation = np.where((relation == "之子") & ~male, "之女", relation)
    relation = np.where((pos == 1) & (size[owner] == 1), "户主", relation)
    days = (age * 365.25).astype(np.int64) + rng.integers(0, 365, n)
    births = np.datetime64(as_of.isoformat(), "D") - days.astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(births, unit="D"), "-", "")
    county6 = np.array([c.code for c in counties])[hh["county"]][owner]
    # Sequence numbers: the next free slot for (county, birth date, sex) across the whole run, so
    # every ID is unique by construction (500 slots per key; odd = male, even = female).
    day = (births - np.datetime64("1900-01-01", "D")).astype(np.int64)
    key = (hh["county"][owner] * N_DAYS + day) * 2 + male.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    group_len = np.diff(np.r_[starts, len(key)])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, group_len)
    slot = used[key] + rank
    np.add.at(used, sorted_key[starts], group_len)
    seq = (slot % 500) * 2 + np.where(male, 1, 0)
    body = np.char.add(np.char.add(county6, ymd), np.char.zfill(seq.astype(str), 3)).astype(object)
    ids = body + check_chars(body)
    serial = np.char.zfill((hh["serial0"] + np.arange(len(size))).astype(str), 7)
    number = np.char.add(np.char.zfill((hh["village"] // 1000).astype(str), 9), serial).astype(object)
    surname, given = _names(rng, n, male)
    # Children, and the head's father, carry the head's surname.
    head_surname = surname[(np.cumsum(size) - size)[owner]]
    same = (relation == "之子") | (relation == "之女") | ((relation == "之父母") & male)
    names = np.where(same, head_surname, surname) + given
    return {
        "户编号": number[owner],
        "行政区划代码": hh["village"][owner].astype(str),
        "姓名": names,
        "证件号码": ids,
        "与户主关系": relation,
        "贫困户属性": hh["attribute"][owner],
        "主要致贫原因": hh["cause"][owner],
        "识别年度": hh["registered"][owner].astype(str),
        "贫困状态": hh["status"][owner],
        "脱贫年度": np.where(hh["status"][owner] == "贫困", "", hh["exit_year"][owner].astype(str)),
        "人均纯收入（元）": hh["income"][owner].astype(str),
        "监测对象类型": np.where(hh["monitored"][owner], hh["mtype"][owner], ""),
        "纳入监测日期": np.where(hh["monitored"][owner], f"{as_of.year}-03-15", ""),
    }


def _plant_errors(rng: np.random.Generator, cols: dict, offset: int, log: list[dict]) -> None:
    n = len(cols["证件号码"])
    picks = np.flatnonzero(rng.random(n) < ERROR_SHARE)
    for i in picks:
        kind = ERROR_KINDS[int(rng.integers(0, len(ERROR_KINDS)))]
        ident = cols["证件号码"][i]
        if kind == "bad_checksum":
            cols["证件号码"][i] = ident[:17] + ("1" if ident[17] != "1" else "2")
        elif kind == "future_birth":
            body = ident[:6] + "2031" + ident[10:17]
            cols["证件号码"][i] = body + check_chars(np.array([body]))[0]
        elif kind == "unknown_region":
            cols["行政区划代码"][i] = "999999999999"
        elif kind == "duplicate_id" and i > 0 and cols["户编号"][i - 1] != cols["户编号"][i]:
            cols["证件号码"][i] = cols["证件号码"][i - 1]
        elif kind == "missing_name":
            cols["姓名"][i] = ""
        else:
            continue
        log.append({"row": offset + int(i), "kind": kind})


def generate(
    *,
    people: int,
    seed: int,
    out: Path,
    data_year: int = 2019,
    province: str | None = None,
    fmt: str | None = None,
    chunk_rows: int = 1_000_000,
    counties: list[str] | None = None,
) -> dict[str, Any]:
    """Write the files; returns the manifest (also written as manifest.json)."""
    out.mkdir(parents=True, exist_ok=True)
    fmt = fmt or ("csv" if people <= 200_000 else "parquet")
    rng = np.random.Generator(np.random.PCG64(seed))
    chosen = load_counties(province, counties)
    if not chosen:
        raise ValueError("no poverty county of a helped area matches the choice")
    as_of = dt.date(data_year, 12, 31)
    planted: list[dict[str, object]] = []
    used = np.zeros(len(chosen) * N_DAYS * 2, dtype=np.int32)
    files: list[str] = []
    written = 0
    csv_handle = None
    writer = None
    for hh in _households(rng, chosen, people, data_year):
        cols = _members(rng, hh, chosen, as_of, used)
        _plant_errors(rng, cols, written, planted)
        n = len(cols["证件号码"])
        if fmt == "csv":
            if csv_handle is None:
                name = "registry.csv"
                csv_handle = open(out / name, "w", encoding="utf-8", newline="")
                writer = csv.writer(csv_handle)
                writer.writerow(HEADERS)
                files.append(name)
            assert writer is not None
            writer.writerows(zip(*(cols[h] for h in HEADERS), strict=True))
        else:
            for start in range(0, n, chunk_rows):
                name = f"registry-{len(files) + 1:04d}.parquet"
                table = pa.table(
                    {h: pa.array(list(cols[h][start : start + chunk_rows]), pa.string()) for h in HEADERS}
                )
                pq.write_table(table, out / name, compression="zstd")
                files.append(name)
        written += n
    if csv_handle is not None:
        csv_handle.close()
    manifest: dict[str, Any] = {
        "people": written,
        "seed": seed,
        "data_year": data_year,
        "as_of": as_of.isoformat(),
        "province": province,
        "counties": len(chosen),
        "files": files,
        "sha256": {f: hashlib.sha256((out / f).read_bytes()).hexdigest() for f in files},
        "planted_errors": planted,
        "proxy": "households per poverty county ∝ villages in the county × 1.5 in 三区三州",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest
