"""The assessment engine on a synthetic province-tier world, side by side with plain pandas and a
hand-written DuckDB query for the verification join (issue 18, "Performance").

    .venv/bin/python bench/assessment.py [--people 10000000] [--placements 1000000] [--seed 20261206]

Builds the fact tables in memory with numpy (no database, no personal data): one helped province
of 70 counties (a third of them deep poverty) with 10 villages each, a provincial pair and one
county pair per county; households of about four people, each poor from 2014 and 30 % exiting
between 2016 and 2020, 2 % monitored; placements of 2019 spread over the county pairs, 3 % naming
people the registry does not know, 4 % naming someone of another county, starts from mid-2018,
half still running. It then times, on the same tables:

- ``engine``: ``assess`` of the whole ew-2017-east and ew-2017-west frameworks (both sides, every
  pairing, all 44 indicators, evidence and findings), DuckDB backend;
- ``engine E17``: the library's E17 alone (verified people placed ≥ 90 days in the year, once per
  pairing including its sub-pairings), executed;
- ``duckdb SQL``: the same E17 as one hand-written DuckDB query over the same Arrow tables;
- ``pandas``: the same E17 in plain pandas (merges, interval filters, drop_duplicates, groupby).

The three E17 results are checked equal. Writes bench/results/assessment_province.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xiezuo.assessment.engine import assess, framework, library
from xiezuo.assessment.engine.facts import SCHEMAS, Facts

PROVINCE = 520000000000
COUNTIES = 70
VILLAGES = 10
EPOCH = dt.date(1970, 1, 1)


def days(d: dt.date) -> int:
    return (d - EPOCH).days


def date_array(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values.astype("int32"), pa.int32(), mask=None if valid is None else ~valid)
    return arr.cast(pa.date32())


def build(people: int, placements: int, seed: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    county_codes = PROVINCE + (np.arange(COUNTIES) + 1) * 10**6 + 20 * 10**8  # 5220xx, 5221xx ...
    village_codes = (county_codes[:, None] + 100 * 10**3 + np.arange(VILLAGES)[None, :] + 1).ravel()
    households = people // 4
    hh_village = rng.integers(0, village_codes.size, households)
    person_household = np.sort(rng.integers(0, households, people))
    exits = rng.random(households) < 0.30
    exit_day = rng.integers(days(dt.date(2016, 1, 1)), days(dt.date(2020, 12, 31)), households)
    exit_years = (1970 + (exit_day / 365.2425)).astype("int16")
    exit_year = np.where(exits, exit_years, -1)
    pt = {
        "person": pa.array(np.arange(1, people + 1), pa.int64()),
        "household": pa.array(person_household, pa.int64()),
        "region_code": pa.array(village_codes[hh_village[person_household]], pa.int64()),
        "entered_on": pa.nulls(people, pa.date32()),
        "left_on": pa.nulls(people, pa.date32()),
        "died": pa.array(np.zeros(people, bool)),
        "exit_year": pa.array(exit_year[person_household], pa.int16(), mask=~exits[person_household]),
    }
    hh = np.arange(households)
    poor_start = np.full(households, days(dt.date(2014, 1, 1)))
    st_household = np.concatenate([hh, hh[exits]])
    st_status = np.concatenate(
        [np.full(households, "poor", object), np.full(int(exits.sum()), "exited", object)]
    )
    st_start = np.concatenate([poor_start, exit_day[exits]])
    st_end = np.concatenate([np.where(exits, exit_day, 0), np.zeros(int(exits.sum()))])
    st_end_valid = np.concatenate([exits, np.zeros(int(exits.sum()), bool)])
    monitored = hh[rng.random(households) < 0.02]
    tables = {
        "people": pa.table(pt),
        "statuses": pa.table(
            {
                "household": pa.array(st_household, pa.int64()),
                "status": pa.array(st_status, pa.string()),
                "start": date_array(st_start),
                "end": date_array(st_end, st_end_valid),
            }
        ),
        "monitoring": pa.table(
            {
                "household": pa.array(monitored, pa.int64()),
                "start": date_array(np.full(monitored.size, days(dt.date(2019, 2, 1)))),
                "end": pa.nulls(monitored.size, pa.date32()),
            }
        ),
    }
    deep = np.arange(COUNTIES) % 3 == 0
    tables["regions"] = pa.table(
        {
            "code": pa.array(np.concatenate([[PROVINCE], county_codes]), pa.int64()),
            "level": pa.array([1] + [3] * COUNTIES, pa.int8()),
            "low": pa.array(np.concatenate([[PROVINCE], county_codes]), pa.int64()),
            "high": pa.array(np.concatenate([[PROVINCE + 10**10], county_codes + 10**6]), pa.int64()),
            "poverty_county": pa.array([False] + [True] * COUNTIES),
            "planned_exit_year": pa.nulls(COUNTIES + 1, pa.int16()),
            "exit_year": pa.nulls(COUNTIES + 1, pa.int16()),
            "deep_poverty": pa.array(np.concatenate([[False], deep])),
            "poor_village": pa.array([False] * (COUNTIES + 1)),
        }
    )
    pairing_ids = np.arange(2, COUNTIES + 2)
    tables["pairings"] = pa.table(
        {
            "pairing": pa.array(np.concatenate([[1], pairing_ids]), pa.int64()),
            "parent": pa.array([None] + [1] * COUNTIES, pa.int64()),
            "programme": pa.array(["east_west_2016"] + ["hand_in_hand"] * COUNTIES),
            "level": pa.array(["province-province"] + ["county-county"] * COUNTIES),
            "start_year": pa.array([2016] * (COUNTIES + 1), pa.int16()),
            "end_year": pa.array([2020] * (COUNTIES + 1), pa.int16()),
        }
    )
    helper_codes = 320000000000 + (np.arange(COUNTIES) + 1) * 10**6
    tables["pairing_sides"] = pa.table(
        {
            "pairing": pa.array(np.concatenate([[1, 1], pairing_ids, pairing_ids]), pa.int64()),
            "side": pa.array(["helper", "helped"] + ["helper"] * COUNTIES + ["helped"] * COUNTIES),
            "region_code": pa.array(
                np.concatenate([[320000000000, PROVINCE], helper_codes, county_codes]), pa.int64()
            ),
            "low": pa.array(
                np.concatenate([[320000000000, PROVINCE], helper_codes, county_codes]), pa.int64()
            ),
            "high": pa.array(
                np.concatenate(
                    [[330000000000, PROVINCE + 10**10], helper_codes + 10**6, county_codes + 10**6]
                ),
                pa.int64(),
            ),
        }
    )
    # placements: a person of the pair's county, else (4 %) of another county, else (3 %) unknown
    person_county = (hh_village[person_household] // VILLAGES).astype(np.int64)
    order = np.argsort(person_county, kind="stable")
    bounds = np.searchsorted(person_county[order], np.arange(COUNTIES + 1))
    pl_county = rng.integers(0, COUNTIES, placements)
    pick = bounds[pl_county] + (rng.random(placements) * (bounds[pl_county + 1] - bounds[pl_county])).astype(
        np.int64
    )
    person = order[np.minimum(pick, people - 1)] + 1
    stray = rng.random(placements) < 0.04
    person[stray] = rng.integers(1, people + 1, int(stray.sum()))
    unknown = rng.random(placements) < 0.03
    person[unknown] = people + 1 + np.arange(int(unknown.sum()))
    start = rng.integers(days(dt.date(2018, 6, 1)), days(dt.date(2019, 12, 31)), placements)
    running = rng.random(placements) < 0.5
    end = start + rng.integers(20, 400, placements)
    records = np.arange(1, placements + 1)
    tables["placements"] = pa.table(
        {
            "record": pa.array(records, pa.int64()),
            "pairing": pa.array(pairing_ids[pl_county], pa.int64()),
            "year": pa.array(np.full(placements, 2019), pa.int16()),
            "side": pa.array(np.full(placements, "helped", object), pa.string()),
            "region_code": pa.array(county_codes[pl_county], pa.int64()),
            "workplace_region": pa.array(helper_codes[pl_county], pa.int64()),
            "start": date_array(start),
            "end": date_array(end, ~running),
            "destination": pa.array(
                np.where(rng.random(placements) < 0.4, "to_partner", "near_home"), pa.string()
            ),
            "arrangement": pa.array(np.full(placements, "organised", object), pa.string()),
        }
    )
    tables["record_people"] = pa.table(
        {
            "ledger": pa.array(np.full(placements, "placements", object), pa.string()),
            "record": pa.array(records, pa.int64()),
            "person": pa.array(person, pa.int64()),
            "checked_ok": pa.nulls(placements, pa.bool_()),
        }
    )
    return {name: t.cast(SCHEMAS[name]) for name, t in tables.items()}


E17_SQL = """
WITH x AS (
  SELECT p.record, p.pairing, rp.person, p.start AS d,
         date_diff('day', greatest(p.start, DATE '2019-01-01'),
                   least(coalesce(p."end", DATE '2019-12-31'), DATE '2019-12-31')) + 1 AS days
  FROM placements p JOIN record_people rp ON rp.record = p.record AND rp.ledger = 'placements'
  WHERE p.year = 2019),
v AS (
  SELECT x.* FROM x
  JOIN people m ON m.person = x.person
  JOIN pairing_sides h ON h.pairing = x.pairing AND h.side = 'helped'
                      AND m.region_code >= h.low AND m.region_code < h.high
  LEFT JOIN statuses s ON s.household = m.household AND s.start <= x.d AND (s."end" IS NULL OR s."end" > x.d)
  WHERE (m.left_on IS NULL OR m.left_on > x.d) AND (m.entered_on IS NULL OR m.entered_on <= x.d)
    AND (s.status IN ('poor', 'pre_exit', 'returned', 'exited')
         OR EXISTS (SELECT 1 FROM monitoring w WHERE w.household = m.household
                    AND w.start <= x.d AND (w."end" IS NULL OR w."end" > x.d)))
    AND x.days >= 90)
SELECT c.ancestor AS pairing, count(DISTINCT v.person) AS value
FROM v JOIN closure c ON c.descendant = v.pairing GROUP BY c.ancestor ORDER BY 1
"""


def e17_pandas(t: dict[str, pa.Table], clo: pa.Table) -> pd.DataFrame:
    pl = t["placements"].to_pandas()
    pl = pl[pl["year"] == 2019][["record", "pairing", "start", "end"]]
    jan1, dec31 = pd.Timestamp("2019-01-01"), pd.Timestamp("2019-12-31")
    start, end = pd.to_datetime(pl["start"]), pd.to_datetime(pl["end"]).fillna(dec31)
    pl["days"] = (end.clip(upper=dec31) - start.clip(lower=jan1)).dt.days + 1
    pl["d"] = start
    rp = t["record_people"].to_pandas()
    x = pl.merge(rp[rp["ledger"] == "placements"][["record", "person"]], on="record")
    people = t["people"].to_pandas()[["person", "household", "region_code", "entered_on", "left_on"]]
    x = x.merge(people, on="person")
    sides = t["pairing_sides"].to_pandas()
    helped = sides[sides["side"] == "helped"][["pairing", "low", "high"]]
    x = x.merge(helped, on="pairing")
    x = x[(x["region_code"] >= x["low"]) & (x["region_code"] < x["high"])]
    left, entered = pd.to_datetime(x["left_on"]), pd.to_datetime(x["entered_on"])
    x = x[(left.isna() | (left > x["d"])) & (entered.isna() | (entered <= x["d"]))]
    st = t["statuses"].to_pandas()
    st["start"], st["end"] = pd.to_datetime(st["start"]), pd.to_datetime(st["end"])
    y = x[["record", "person", "household", "d"]].merge(st, on="household")
    y = y[(y["start"] <= y["d"]) & (y["end"].isna() | (y["end"] > y["d"]))]
    y = y[y["status"].isin(["poor", "pre_exit", "returned", "exited"])]
    good = set(zip(y["record"], y["person"], strict=True))
    mon = t["monitoring"].to_pandas()
    mon["start"], mon["end"] = pd.to_datetime(mon["start"]), pd.to_datetime(mon["end"])
    z = x[["record", "person", "household", "d"]].merge(mon, on="household")
    z = z[(z["start"] <= z["d"]) & (z["end"].isna() | (z["end"] > z["d"]))]
    good |= set(zip(z["record"], z["person"], strict=True))
    keys = pd.MultiIndex.from_arrays([x["record"], x["person"]])
    x = x[keys.isin(list(good)) & (x["days"].to_numpy() >= 90)]
    c = clo.to_pandas()
    x = x.merge(c, left_on="pairing", right_on="descendant")
    out = x.drop_duplicates(["ancestor", "person"]).groupby("ancestor").size()
    return out.rename("value").rename_axis("pairing").reset_index().sort_values("pairing")


def timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=10_000_000)
    ap.add_argument("--placements", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    tables, t_build = timed(lambda: build(args.people, args.placements, args.seed))
    facts = Facts(tables)
    fws = framework.shipped()
    both = [fws["ew-2017-east"], fws["ew-2017-west"]]
    run, t_engine = timed(lambda: assess.assess(facts, both, 2019))
    con, ts, clo, helped = assess.connect(facts)
    ctx = library.Context(t=ts, year=2019, closure=clo, helped=helped)
    e17 = next(i for i in both[0].indicators if i.code == "E17")
    ours, t_e17 = timed(lambda: con.to_pyarrow(library.compute(ctx, e17.computation).values))
    raw = duckdb.connect()
    for name, table in facts.tables.items():
        raw.register(name, table)
    raw.register("closure", assess.closure(facts["pairings"]))
    sql, t_sql = timed(lambda: raw.sql(E17_SQL).to_arrow_table())
    pdf, t_pandas = timed(lambda: e17_pandas(facts.tables, assess.closure(facts["pairings"])))
    a = sorted(zip(ours["pairing"].to_pylist(), [int(v) for v in ours["value"].to_pylist()], strict=True))
    b = sorted(zip(sql["pairing"].to_pylist(), sql["value"].to_pylist(), strict=True))
    c = sorted(zip(pdf["pairing"].tolist(), pdf["value"].tolist(), strict=True))
    assert a == b == c, "the three E17 computations disagree"
    engine_e17 = {
        r.pairing: v.value for r in run.results if r.side == "helper" for v in r.indicators if v.code == "E17"
    }
    assert all(engine_e17[p] == v for p, v in a), "assess() and the library disagree"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other work; load average {load})"
    versions = f"Python {platform.python_version()}, duckdb {duckdb.__version__}, pandas {pd.__version__}"
    command = f"--people {args.people} --placements {args.placements} --seed {args.seed}"
    lines = [
        "# Assessment engine, province tier (bench/assessment.py)",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine}, {versions}.",
        "",
        f"Command: `.venv/bin/python bench/assessment.py {command}`",
        "",
        f"World: {args.people:,} people, {args.placements:,} placements of 2019, {COUNTIES} county pairs "
        f"under one provincial pair (built in memory in {t_build:.1f} s). Provincial E17 = "
        f"{dict(a)[1]:,} verified people placed ≥ 90 days.",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| engine: whole assessment, ew-2017-east + ew-2017-west, both sides, {len(run.results)} results, "
        f"evidence, findings | {t_engine:.2f} |",
        f"| engine: E17 alone (library expression, executed on DuckDB) | {t_e17:.2f} |",
        f"| hand-written DuckDB SQL for E17 | {t_sql:.2f} |",
        f"| plain pandas for E17 | {t_pandas:.2f} |",
        "",
        f"E17 engine ÷ hand-written SQL: {t_e17 / t_sql:.2f}×; pandas ÷ engine E17: {t_pandas / t_e17:.1f}×. "
        f"Peak resident memory of the process: {peak:.1f} GB. The three E17 results are equal for every "
        "pairing.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (Path(__file__).parent / "results" / "assessment_province.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
