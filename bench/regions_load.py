"""Benchmark: load the whole five-level region tree (620,573 villages) into an empty database.

    .venv/bin/python bench/regions_load.py                 # SQLite and PostgreSQL, both methods
    .venv/bin/python bench/regions_load.py --databases sqlite --methods loader --level 3

Methods, each into a freshly migrated, empty database:

- ``loader``: ``xiezuo.regions.loading.load_regions(level=5)``, what ``xiezuo regions load`` runs
  (COPY on PostgreSQL, executemany on SQLite, via ``xiezuo.core.bulk.insert_rows``);
- ``bulk_create``: the baseline, plain Django ORM ``Region.objects.bulk_create(batch_size=5000)``
  of the same rows level by level, parents resolved the same way (one ``values_list`` query per
  level), with the same code history and flags loaded as the loader loads them.

PostgreSQL is a throwaway cluster (``xiezuo.devtools.pgcluster``: fsync off). Each run is its own
process; the time measured is the load alone (migrations excluded), inside one transaction.
Results go to ``bench/results/regions_load.md`` (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "regions_load.md"
GOAL_SECONDS = 60.0
LEVEL_NAMES = {1: "province", 2: "prefecture", 3: "county", 4: "township", 5: "village"}


# --- worker: runs in its own process against DATABASE_URL --------------------------------------


def _baseline(level: int) -> int:
    """The same rows as load_regions, written with Region.objects.bulk_create(batch_size=5000)."""
    from django.db import transaction

    from xiezuo.regions import loading, rules
    from xiezuo.regions.models import Region

    history = list(loading._read("county_code_history.csv.gz"))
    in_use = {h["代码"] for h in history if h["状态"] == "在用"}
    zones = {r["code"] for r in loading._read("areas.csv.gz") if rules.is_statistical_zone(r["code"], in_use)}
    start_year = {int(h["代码"]): int(h["启用时间"]) for h in history if h["状态"] == "在用"}
    rows = 0
    with transaction.atomic():
        loading._load_history(history)
        ids: dict[tuple[int, int], int] = {}
        for lev in range(1, level + 1):
            objs: list[Region] = []
            for row in loading._rows(lev, None, zones):
                parent_id = ids.get((row.parent_code, lev - 1)) if row.parent_code is not None else None
                if row.parent_code is not None and parent_id is None:
                    raise ValueError(f"region {row.code} has unknown parent {row.parent_code}")
                objs.append(
                    Region(
                        code=row.code,
                        level=lev,
                        name=row.name,
                        kind=row.kind,
                        parent_id=parent_id,
                        valid_from=start_year.get(int(str(row.code)[:6])) if lev <= 3 else None,
                    )
                )
            Region.objects.bulk_create(objs, batch_size=5000)
            rows += len(objs)
            ids.update(((c, lev), i) for c, i in Region.objects.filter(level=lev).values_list("code", "id"))
        loading.load_flags(ids)
    return rows


def worker(method: str, level: int) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from xiezuo.regions.loading import load_regions
    from xiezuo.regions.models import Region

    call_command("migrate", verbosity=0, interactive=False)
    if Region.objects.exists():
        raise SystemExit("the database is not empty")
    t0 = time.perf_counter()
    if method == "loader":
        result = load_regions(level=level)
        rows = sum(result.inserted.values())
    elif method == "bulk_create":
        rows = _baseline(level)
    else:
        raise SystemExit(f"unknown method {method!r}")
    seconds = time.perf_counter() - t0
    by_level = {LEVEL_NAMES[lv]: n for lv, n in _counts(Region).items()}
    if sum(by_level.values()) != rows:
        raise SystemExit(f"{method}: wrote {rows} rows but the table holds {sum(by_level.values())}")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = str(cursor.fetchone()[0]).split()[0]
    return {
        "database": connection.vendor,
        "version": version,
        "method": method,
        "rows": rows,
        "by_level": by_level,
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _counts(region_model: Any) -> dict[int, int]:
    from django.db.models import Count

    return {
        r["level"]: r["n"]
        for r in region_model.objects.values("level").annotate(n=Count("id")).order_by("level")
    }


# --- driver --------------------------------------------------------------------------------------


def _run_worker(method: str, level: int, database_url: str, data_dir: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": database_url, "DEBUG": "1", "XIEZUO_DATA_DIR": str(data_dir)})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", method, "--level", str(level)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {method} on {database_url} failed:\n{proc.stdout}\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _print_row(r: dict[str, Any]) -> None:
    rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
    print(
        f"{r['database'] + ' ' + r['version']:<20} {r['method']:<12} {r['rows']:>9,} "
        f"{r['seconds']:>9.1f} {rate:>11,.0f} {r['peak_rss_mb']:>8.0f}",
        flush=True,
    )


def _machine() -> dict[str, str]:
    mem_kb = 0
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite (Python sqlite3 module)": sqlite3.sqlite_version,
    }


def _write(results: list[dict[str, Any]], command: str, level: int) -> None:
    machine = _machine()
    for r in results:
        if r["database"] == "postgresql":
            machine["postgresql"] = f"{r['version']} (throwaway cluster: fsync=off, synchronous_commit=off)"
    lines = [
        "# Region tree load benchmark",
        "",
        f"Loads levels 1..{level} of the region tree (the whole tree at level 5: 620,573 villages) into "
        "an empty, migrated database, one fresh database and process per run. Seconds are the load alone "
        "(migrations excluded), one transaction. `loader` is `xiezuo.regions.loading.load_regions` "
        "(COPY on PostgreSQL, executemany on SQLite); `bulk_create` is the plain Django ORM baseline "
        "`Region.objects.bulk_create(batch_size=5000)` of the same rows level by level. Both also load "
        "the county code history and the region flags. "
        f"Goal: under {GOAL_SECONDS:.0f} s on both databases.",
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
        "| database | method | rows | seconds | rows/s | peak RSS (MB) | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
        goal = "met" if r["seconds"] < GOAL_SECONDS else "missed"
        if r["method"] != "loader":
            goal = "(baseline)"
        lines.append(
            f"| {r['database']} {r['version']} | {r['method']} | {r['rows']:,} | {r['seconds']:.1f} "
            f"| {rate:,.0f} | {r['peak_rss_mb']:.0f} | {goal} |"
        )
    if results:
        lines += ["", "Rows by level: " + ", ".join(f"{k} {v:,}" for k, v in results[0]["by_level"].items())]
    lines += ["", "Machine:", ""]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Region tree load benchmark")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--methods", default="loader,bulk_create", help="comma list: loader,bulk_create")
    parser.add_argument("--level", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.worker:
        print(json.dumps(worker(opts.worker, opts.level)))
        return 0

    databases = [d.strip() for d in opts.databases.split(",") if d.strip()]
    methods = [m.strip() for m in opts.methods.split(",") if m.strip()]
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/regions_load.py", *sys.argv[1:]])
    print(f"{'database':<20} {'method':<12} {'rows':>9} {'seconds':>9} {'rows/s':>11} {'RSS MB':>8}")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="xiezuo-bench-") as tmp:
        for database in databases:
            if database == "sqlite":
                for method in methods:
                    url = f"sqlite:///{tmp}/{method}.sqlite3"
                    results.append(_run_worker(method, opts.level, url, Path(tmp) / "data"))
                    _print_row(results[-1])
            elif database in {"postgres", "postgresql"}:
                from xiezuo.devtools.pgcluster import pg_cluster

                with pg_cluster(database="bench") as cluster:
                    for method in methods:
                        url = cluster.create_database(f"bench_{method}")
                        results.append(_run_worker(method, opts.level, url, Path(tmp) / "data"))
                        _print_row(results[-1])
            else:
                raise SystemExit(f"unknown database {database!r}")
    if not opts.no_write:
        _write(results, command, opts.level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
