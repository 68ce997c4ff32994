"""Benchmark: the registry import at scale, side by side with Django ``bulk_create`` and a raw load.

    .venv/bin/python bench/registry_load.py --people 1000000 --databases postgres,sqlite
    .venv/bin/python bench/registry_load.py --people 10000000 --databases postgres --cache-dir /tmp

On the same synthetic CSV (``xiezuo synth registry --format csv``, cached under ``--cache-dir``):

- ``import``: ``import_registry`` end to end into an empty registry (parse, validate, seal personal
  data, stage, cross-check, merge households, members, statuses and income, build indexes), with
  an ``--errors`` report, as ``xiezuo import registry`` runs it;
- ``bulk_create``: Django ``Member.objects.bulk_create(batch_size=5000)`` of the already validated
  member rows (the rows the import wrote, dumped after it) into the member table with its indexes
  (households are put in first, untimed);
- ``raw``: binary ``COPY`` (PostgreSQL, pgpq, as the import writes its stage) / ``executemany``
  (SQLite) of the same rows into the member table with its secondary indexes dropped, and the
  indexes built afterwards (timed);
- ``incremental``: ``import_registry`` of a file of ``--changed`` people (whole households; income
  changed for all of them, a tenth of the households put under monitoring) into the loaded registry;
- ``queries``: the household list as the page asks it (first page + counts by status), unfiltered
  and with three filter combinations, median of ``--repeat`` runs.

Each step runs in its own process (peak RSS from ``getrusage``: the process, and separately the
largest child, i.e. a crypto worker). PostgreSQL is a throwaway cluster (``xiezuo.devtools.pgcluster``,
fsync off); every method gets a fresh copy of a migrated database holding all 665 k regions.
Results go to ``bench/results/registry_load.md`` (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "registry_load.md"
DATA_YEAR = 2019
AS_OF = dt.date(2019, 12, 31)


def _member_columns() -> list[str]:
    """The member columns a direct load writes, but the id (after Django is set up)."""
    from xiezuo.registry.importing import MEMBER_COPY

    return list(MEMBER_COPY[1:])


# --- workers: each runs in its own process against DATABASE_URL ---------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    import django

    django.setup()


def _rss() -> dict[str, float]:
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a worker would report the
    # driver's peak (it reads the whole CSV once to make the incremental file).
    hwm_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm_kb = int(line.split()[1])
    return {
        "peak_rss_mb": (hwm_kb or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024,
        "peak_child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process with its threads, and of its ended children
    (the crypto workers, joined when the import ends)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_main_s": me.ru_utime + me.ru_stime, "cpu_workers_s": kids.ru_utime + kids.ru_stime}


def _wal_bytes() -> int | None:
    """The server's write-ahead log position in bytes (PostgreSQL), or None. The difference of two
    is the log written meanwhile by every process; ``pg_stat_wal`` would miss what backends have
    not reported yet (they report at most once a second, and when idle)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')")
        return int(cursor.fetchone()[0])


def _wal_mb(start: int | None) -> dict[str, float]:
    end = _wal_bytes()
    return {} if start is None or end is None else {"wal_mb": (end - start) / 2**20}


def _server_cpu() -> float | None:
    """CPU seconds of the database server's ended processes (the postmaster's reaped children:
    the backends of a worker's connections once it has exited), or None (SQLite)."""
    if SERVER_PID is None:
        return None
    fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


SERVER_PID: int | None = None


class PssPeak:
    """Peak proportional set size (PSS) of this process and all its descendants together, sampled
    every ``interval`` seconds from ``/proc/<pid>/smaps_rollup``. PSS splits a page shared by
    several processes (the crypto workers share their memory with the importer after ``fork``)
    among them, so the sum is what the import holds in the machine; summed RSS would count shared
    pages once per process. The database server is not included."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.peak_kb = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass  # the process has just ended
        return 0

    @staticmethod
    def _descendants(root: int) -> list[int]:
        parent: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            parent[int(stat.parent.name)] = int(fields[1])
        found, frontier = [], [root]
        while frontier:
            pid = frontier.pop()
            kids = [c for c, p in parent.items() if p == pid]
            found += kids
            frontier += kids
        return found

    def sample(self) -> None:
        me = os.getpid()
        total = sum(self._pss_kb(pid) for pid in (me, *self._descendants(me)))
        self.peak_kb = max(self.peak_kb, total)

    def _run(self) -> None:
        while True:
            self.sample()
            self.cpu_s = time.thread_time()  # the sampling's own CPU (reading smaps_rollup is kernel work)
            if self._stop.wait(self.interval):
                return


def w_setup() -> dict[str, Any]:
    _setup_django()
    from django.core.management import call_command

    from xiezuo.regions.loading import load_regions

    call_command("migrate", verbosity=0, interactive=False)
    load_regions(level=5)
    return {}


def w_import(path: str, dump: str | None) -> dict[str, Any]:
    _setup_django()
    from xiezuo.core.scope import SYSTEM
    from xiezuo.registry.importing import import_registry
    from xiezuo.registry.models import Household, Member

    errors = Path(path).with_name("errors.csv")
    wal0 = _wal_bytes()
    t0 = time.perf_counter()
    # Every second (BENCH_PSS_INTERVAL; 0: none). Reading smaps_rollup is kernel work charged to
    # the import: every 0.5 s it took 5.9 CPU-s of a 117 s import on two cores (pss_sampler_cpu_s).
    interval = float(os.environ.get("BENCH_PSS_INTERVAL", "1.0"))
    with PssPeak(interval) if interval > 0 else contextlib.nullcontext() as pss:
        result = import_registry(
            path, actor=SYSTEM, data_year=DATA_YEAR, as_of=AS_OF, errors_out=errors, via="cli"
        )
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {"seconds": seconds, **_rss(), **_cpu(), **_wal_mb(wal0), "counts": result.counts()}
    if pss is not None:
        out["peak_pss_mb"] = pss.peak_kb / 1024
        out["pss_sampler_cpu_s"] = pss.cpu_s
    out["households"] = Household.objects.count()
    out["members"] = Member.objects.count()
    out["households_created"] = result.households_created
    out["households_updated"] = result.households_updated
    out["timings"] = {k: round(v, 1) for k, v in result.timings.items()}
    if dump and not Path(dump).exists():
        _dump(Path(dump))
    return out


def _dump(target: Path) -> None:
    """The member and household rows as the import wrote them, for the baselines (untimed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.db import connection

    target.mkdir(parents=True, exist_ok=True)
    tables = {
        "household": "SELECT id, number, region_code, attribute, main_cause, standard, registered_year, "
        "planned_exit_year, exit_year, status, monitored, pathway, size, income_per_capita_fen, "
        "first_dataset_id, last_dataset_id FROM registry_household ORDER BY id",
        "member": f"SELECT {', '.join(_member_columns())} FROM registry_member ORDER BY id",
    }
    for name, sql in tables.items():
        writer = None
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cols = [d[0] for d in cursor.description]
            while rows := cursor.fetchmany(200_000):
                table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
                if writer is None:
                    writer = pq.ParquetWriter(target / f"{name}.parquet", table.schema)
                writer.write_table(table)
        if writer is not None:
            writer.close()


def _parquet_rows(path: Path) -> Any:
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
        cols = [c.to_pylist() for c in batch.columns]
        yield from zip(*cols, strict=True)


def _put_households(dump: Path) -> None:
    """Households and the dataset the member rows point to, written before the timed part."""
    import pyarrow.parquet as pq
    from django.db import transaction

    from xiezuo.core.bulk import insert_rows
    from xiezuo.registry.models import Dataset, Household

    first = next(pq.ParquetFile(dump / "household.parquet").iter_batches(batch_size=1)).to_pylist()[0]
    with transaction.atomic():
        Dataset.objects.create(
            pk=first["last_dataset_id"], data_year=DATA_YEAR, as_of=AS_OF, file_name="x", file_sha256="0"
        )
        cols = list(pq.ParquetFile(dump / "household.parquet").schema_arrow.names)
        rows = ((*r[:13], "[]", *r[13:]) for r in _parquet_rows(dump / "household.parquet"))
        insert_rows(Household, [*cols[:13], "other_causes", *cols[13:]], rows)


def w_bulk_create(dump: str) -> dict[str, Any]:
    _setup_django()
    import pyarrow.parquet as pq
    from django.db import transaction

    from xiezuo.registry.models import Member

    d = Path(dump)
    _put_households(d)
    n = 0
    wal0 = _wal_bytes()
    t0 = time.perf_counter()
    with transaction.atomic():
        for batch in pq.ParquetFile(d / "member.parquet").iter_batches(batch_size=100_000):
            objs = [Member(**row) for row in batch.to_pylist()]
            Member.objects.bulk_create(objs, batch_size=5000)
            n += len(objs)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": n, **_rss(), **_wal_mb(wal0)}


def _copy_binary(table: str, columns: list[str], path: Path) -> int:
    """Binary ``COPY`` of a parquet file's batches (pgpq, as the import writes its stage)."""
    import polars as pl
    import pyarrow.parquet as pq
    from django.db import connection

    from xiezuo.core.pgcopy import column_types, copy_frame

    n = 0
    with connection.cursor() as cursor:
        types = column_types(cursor.cursor, table, columns)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000, columns=columns):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            copy_frame(cursor.cursor, table, frame, types)
            n += frame.height
    return n


def w_raw(dump: str) -> dict[str, Any]:
    _setup_django()
    from django.db import connection, transaction

    from xiezuo.core.bulk import insert_rows
    from xiezuo.registry.importing import defer_indexes, restore_indexes
    from xiezuo.registry.models import Member

    d = Path(dump)
    _put_households(d)
    wal0 = _wal_bytes()
    t0 = time.perf_counter()
    defer_indexes()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            n = _copy_binary(Member._meta.db_table, _member_columns(), d / "member.parquet")
        else:
            n = insert_rows(Member, _member_columns(), _parquet_rows(d / "member.parquet"))
    restore_indexes()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": n, **_rss(), **_wal_mb(wal0)}


def w_queries(repeat: int) -> dict[str, Any]:
    _setup_django()
    from django.db import connection

    from xiezuo.core.scope import SYSTEM
    from xiezuo.registry.models import Household
    from xiezuo.registry.selectors import (
        HouseholdFilters,
        filter_households,
        household_counts_for,
        households_for,
        keyset_page,
    )

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE registry_household")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # The busiest county, its province and prefecture, and the commonest cause.
    county = (
        (
            Household.objects.extra(select={"c": "region_code / 1000000"})
            .values_list("region_code", flat=True)
            .order_by("region_code")[Household.objects.count() // 2]
        )
        // 10**6
    )
    province = county // 10**4
    prefecture = county // 100
    combos = {
        "first page, no filter": HouseholdFilters(),
        f"county {county}": HouseholdFilters(region=(county * 10**6, (county + 1) * 10**6)),
        f"province {province} + status poor": HouseholdFilters(
            region=(province * 10**10, (province + 1) * 10**10), status="poor"
        ),
        f"prefecture {prefecture} + cause 1 (因病) + monitored": HouseholdFilters(
            region=(prefecture * 10**8, (prefecture + 1) * 10**8), main_cause="1", monitored=True
        ),
    }
    out: dict[str, Any] = {}
    for label, f in combos.items():
        times = []
        total = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            qs = filter_households(households_for(SYSTEM), f)
            page = keyset_page(qs, after=None)
            total, _by_status = household_counts_for(SYSTEM, f)
            times.append(time.perf_counter() - t0)
        out[label] = {"median_ms": statistics.median(times) * 1000, "rows": len(page.rows), "total": total}
    return out


WORKERS = {
    "setup": lambda a: w_setup(),
    "import": lambda a: w_import(a.path, a.dump),
    "incremental": lambda a: w_import(a.path, None),
    "bulk_create": lambda a: w_bulk_create(a.dump),
    "raw": lambda a: w_raw(a.dump),
    "queries": lambda a: w_queries(a.repeat),
}


# --- driver --------------------------------------------------------------------------------------


def _env(url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "DEBUG": "1", "XIEZUO_DATA_DIR": str(data_dir)})
    return env


def _run(step: str, url: str, data_dir: Path, **kw: Any) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", step]
    for k, v in kw.items():
        cmd += [f"--{k}", str(v)]
    print(f"  … {step}", flush=True)
    t0 = time.perf_counter()
    server0 = _server_cpu()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(url, data_dir), capture_output=True, text=True, check=False)
    if server0 is not None:
        time.sleep(1.0)  # the worker's backends end and are reaped
    server1 = _server_cpu()
    if os.environ.get("BENCH_LOG"):  # the worker's log lines (e.g. LOG_LEVEL=INFO), appended
        with open(os.environ["BENCH_LOG"], "a", encoding="utf-8") as log:
            log.write(f"--- {step}\n{proc.stderr}")
    if proc.returncode != 0:
        raise SystemExit(f"worker {step} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if server0 is not None and server1 is not None:
        result["cpu_server_s"] = server1 - server0
    print(
        f"    {step}: {json.dumps(result, ensure_ascii=False)} ({time.perf_counter() - t0:.0f} s wall)",
        flush=True,
    )
    return result


def _data(cache: Path, people: int, seed: int, changed: int) -> tuple[Path, Path]:
    base = cache / f"registry-p{people}-s{seed}"
    csv_path = base / "registry.csv"
    if not csv_path.exists():
        # Generated beside the cache and renamed into it whole: a run cut short leaves no half file.
        partial = base.with_name(base.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"generating {people} people → {base}", flush=True)
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "xiezuo"),
                "synth",
                "registry",
                "--people",
                str(people),
                "--seed",
                str(seed),
                "--out",
                str(partial),
                "--format",
                "csv",
            ],
            check=True,
            env=_env("sqlite:///:memory:", cache / "xiezuo-data"),
        )
        shutil.rmtree(base, ignore_errors=True)
        partial.rename(base)
    changed_path = base / f"changed-{changed}.csv"
    if not changed_path.exists():
        import polars as pl

        df = pl.read_csv(csv_path, infer_schema=False)
        numbers = df["户编号"].unique(maintain_order=True)
        sizes = df.group_by("户编号", maintain_order=True).len()
        keep = sizes.filter(pl.col("len").cum_sum() <= changed)["户编号"]
        part = df.filter(pl.col("户编号").is_in(keep.implode()))
        monitored = keep.gather_every(10)
        part = part.with_columns(
            pl.col("人均纯收入（元）").cast(pl.Int64, strict=False).add(100).cast(pl.String),
            pl.when(pl.col("户编号").is_in(monitored.implode()))
            .then(pl.lit("脱贫不稳定户"))
            .otherwise(pl.col("监测对象类型"))
            .alias("监测对象类型"),
            pl.when(pl.col("户编号").is_in(monitored.implode()))
            .then(pl.lit("2019-06-01"))
            .otherwise(pl.col("纳入监测日期"))
            .alias("纳入监测日期"),
        )
        part.write_csv(changed_path.with_suffix(".partial"))
        changed_path.with_suffix(".partial").rename(changed_path)
        del df, numbers
    return csv_path, changed_path


def _machine() -> dict[str, str]:
    mem_kb = 0
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def _bench_database(
    database: str, args: argparse.Namespace, csv_path: Path, changed_path: Path
) -> dict[str, Any]:
    people = args.people
    dump = csv_path.parent / f"dump-{database}"
    work = Path(args.cache_dir) / f"registry-bench-{database}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out: dict[str, Any] = {"database": database}
    methods = args.methods.split(",")

    def fresh(name: str) -> str:
        if database == "sqlite":
            target = work / f"{name}.sqlite3"
            shutil.copy(work / "template.sqlite3", target)
            return f"sqlite:///{target}"
        cluster.psql(f"CREATE DATABASE {name} TEMPLATE template_registry")
        return cluster.url_for(name)

    def run_all() -> None:
        if "import" in methods:
            url = fresh("imported")
            out["import"] = _run("import", url, work, path=csv_path, dump=dump)
            if "incremental" in methods:
                out["incremental"] = _run("incremental", url, work, path=changed_path)
            if "queries" in methods:
                out["queries"] = _run("queries", url, work, repeat=args.repeat)
        if "raw" in methods and dump.exists():
            out["raw"] = _run("raw", fresh("raw"), work, dump=dump)
        if "bulk_create" in methods and dump.exists():
            out["bulk_create"] = _run("bulk_create", fresh("bulk"), work, dump=dump)

    print(f"== {database}, {people} people", flush=True)
    if database == "sqlite":
        _run("setup", f"sqlite:///{work / 'template.sqlite3'}", work)
        out["version"] = sqlite3.sqlite_version
        run_all()
    else:
        from xiezuo.devtools.pgcluster import pg_cluster

        global SERVER_PID
        with pg_cluster(database="template_registry") as cluster:
            SERVER_PID = int((cluster.data / "postmaster.pid").read_text().split()[0])
            out["version"] = cluster.server_version()
            try:
                _run("setup", cluster.url_for("template_registry"), work)
                run_all()
            finally:
                SERVER_PID = None
    shutil.rmtree(work, ignore_errors=True)
    return out


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "—"


def _write(results: list[dict[str, Any]], args: argparse.Namespace, command: str, path: Path) -> None:
    m = _machine()
    lines = [
        "# Registry load — import vs bulk_create vs raw load, incremental import, list queries",
        "",
        f"- Date: {m['date']}; machine: {m['cpu']}, {m['nproc']} cores, {m['memory']}; Python {m['python']}.",
        f"- Command: `{command}`",
        f"- Data: `xiezuo synth registry --people {args.people} --seed {args.seed} --format csv` "
        f"(data year {DATA_YEAR}); incremental file: {args.changed:,} people of whole households, "
        "income changed for all, a tenth of the households newly monitored.",
        "- Goals (issue #3): initial load of 10 M people < 3 min on PostgreSQL; ≥ 5× `bulk_create`, "
        "≥ ½ the raw rate on both databases; peak memory < 2 GB; list queries < 200 ms at 10 M.",
        "",
    ]
    for r in results:
        db = r["database"]
        lines += [f"## {db} {r.get('version', '')}", ""]
        lines += [
            "| method | people | seconds | people/s | × bulk_create | ÷ raw | peak RSS (main / worker) "
            "| peak PSS, all processes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        imp = r.get("import")
        bulk = r.get("bulk_create")
        raw = r.get("raw")
        n_people = args.people

        def row(
            name: str,
            x: dict[str, Any] | None,
            n: int,
            bulk: dict[str, Any] | None = bulk,
            raw: dict[str, Any] | None = raw,
            lines: list[str] = lines,
        ) -> None:
            if not x:
                return
            rate = n / x["seconds"]
            vs_bulk = f"{rate / (bulk['rows'] / bulk['seconds']):.1f}×" if bulk else "—"
            vs_raw = f"{rate / (raw['rows'] / raw['seconds']):.2f}" if raw else "—"
            lines.append(
                f"| {name} | {n:,} | {x['seconds']:.1f} | {rate:,.0f} | {vs_bulk} | {vs_raw} | "
                f"{x['peak_rss_mb']:,.0f} MB / {x.get('peak_child_rss_mb', 0):,.0f} MB | "
                + (f"{x['peak_pss_mb']:,.0f} MB |" if "peak_pss_mb" in x else "— |")
            )

        if imp:
            row("import (end to end)", imp, n_people)
        row("bulk_create (members only)", bulk, bulk["rows"] if bulk else 0)
        row("raw load + index build (members only)", raw, raw["rows"] if raw else 0)
        inc = r.get("incremental")
        if inc:
            row("incremental import", inc, inc["counts"]["read"])
        lines.append("")
        if imp:
            lines.append(f"Import counts: `{json.dumps(imp['counts'])}`; households {imp['households']:,}.")
        if inc:
            lines.append(
                f"Incremental counts: `{json.dumps(inc['counts'])}`; households updated "
                f"{inc['households_updated']:,}."
            )
        wal = [
            f"{label} {x['wal_mb']:,.0f}"
            for label, x in (
                ("import", imp),
                ("incremental import", inc),
                ("raw load", raw),
                ("bulk_create", bulk),
            )
            if x and "wal_mb" in x
        ]
        if wal:
            lines.append(f"\nWrite-ahead log the server wrote (MB): {', '.join(wal)}.")
        for label, x in (("import", imp), ("incremental import", inc)):
            if x and "cpu_main_s" in x:
                server = f", database server {x['cpu_server_s']:.1f}" if "cpu_server_s" in x else ""
                lines.append(
                    f"\nCPU seconds of the {label} ({x['seconds']:.1f} s wall): importing process "
                    f"{x['cpu_main_s']:.1f}, crypto workers {x['cpu_workers_s']:.1f}{server}."
                )
            if x and x.get("timings"):
                phases = ", ".join(f"{k} {v:.1f}" for k, v in x["timings"].items())
                lines.append(f"\nWhere the {label}'s time went (seconds): {phases}.")
        q = r.get("queries")
        if q:
            lines += [
                "",
                "| household list (page of 50 + counts by status) | median ms | households |",
                "|---|---:|---:|",
            ]
            for label, v in q.items():
                if not isinstance(v, dict):  # cpu_server_s
                    continue
                lines.append(f"| {label} | {v['median_ms']:.1f} | {v['total']:,} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--changed", type=int, help="people in the incremental file (default a tenth)")
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--methods", default="import,incremental,queries,raw,bulk_create")
    parser.add_argument("--cache-dir", default="/tmp")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--path")
    parser.add_argument("--dump")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args), default=str))
        return 0
    args.changed = args.changed or max(1, args.people // 10)
    cache = Path(args.cache_dir)
    csv_path, changed_path = _data(cache, args.people, args.seed, args.changed)
    results = [
        _bench_database(db.strip(), args, csv_path, changed_path)
        for db in args.databases.split(",")
        if db.strip()
    ]
    if not args.no_write:
        command = ".venv/bin/python bench/registry_load.py " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        _write(results, args, command, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
