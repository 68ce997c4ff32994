"""Benchmark: ledger import in batches (ADR 0015) against the per-row path it replaced, side by side.

    .venv/bin/python bench/ledger_import.py --people 1000000 --rows 1000000 --databases sqlite,postgres
    .venv/bin/python bench/ledger_import.py --people 20000 --rows 20000 --side-rows 2000 --no-write

Per database, one fresh database: migrate, the whole region tree (``load_regions(level=5)``), a
registry of ``--people`` synthetic people (``xiezuo synth registry --format csv`` cached under
``--cache-dir``, then ``import_registry``), and pairings from 东丽区 (120110) to the province that
has the most people in the file. Placement-like rows (转移就业: pairing, year, ID number of a
registry person of that province — 2 % people the registry lacks —, employer among 200 names,
workplace 120110, start date, arrangement) are made in memory as the tabular reader returns them,
so the time is the write path alone (reading the sheet is ``bench/xlsx_read.py``'s subject).

Steps, each in its own process (peak RSS from ``VmHWM``):

- ``old``: ``--side-rows`` rows through the per-row ``save_record`` of commit 89c6774
  (``bench/ledger_import_old.py``, a verbatim copy), as ``import_ledger`` called it then: one
  savepoint per row, 500 rows per transaction, ``seen`` / ``cache`` across the file;
- ``new``: the same rows (under another pairing, so they are new records) through
  ``services.import_rows`` in batches of ``importing.BATCH``, as ``import_ledger`` calls it now;
- ``again``: the same rows once more through the new path: every one unchanged;
- ``big``: ``--rows`` rows through the new path (a third pairing).

Every step checks its counts (created / unchanged) and the person checks written. Results go to
``bench/results/ledger_import.md`` (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ledger_import.md"
HELPER = "120110"
YEAR = 2019


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    import django

    django.setup()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- workers -----------------------------------------------------------------------------------


def w_setup(csv: str) -> dict[str, Any]:
    _setup_django()
    from django.core.management import call_command

    from xiezuo.core.scope import SYSTEM
    from xiezuo.regions.loading import load_regions
    from xiezuo.registry.importing import import_registry

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    load_regions(level=5)
    t1 = time.perf_counter()
    result = import_registry(csv, actor=SYSTEM, data_year=YEAR, as_of=dt.date(YEAR, 12, 31), via="cli")
    return {
        "regions_s": round(t1 - t0, 1),
        "registry_s": round(time.perf_counter() - t1, 1),
        "registry": result.counts(),
    }


def _pairing(label: str, province: str) -> Any:
    from xiezuo.pairings.models import Pairing, PairingSide
    from xiezuo.regions.models import Region

    helper = Region.objects.filter(code=int(HELPER.ljust(12, "0"))).order_by("-level").first()
    helped = Region.objects.filter(code=int(province.ljust(12, "0"))).order_by("-level").first()
    assert helper is not None and helped is not None
    p = Pairing.objects.create(
        programme="east_west", level="county", start_year=2016, name=f"bench {label}", source="bench"
    )
    for side, r in (("helper", helper), ("helped", helped)):
        PairingSide.objects.create(pairing=p, side=side, region=r, region_code=r.code, region_level=r.level)
    return p


def _rows(csv: str, n: int, pairing_pk: int) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """``n`` rows as the reader returns them, and the province they are in."""
    import polars as pl

    from xiezuo.synth.ledgers import id_number

    ids = pl.read_csv(csv, columns=["证件号码"], infer_schema=False)["证件号码"].drop_nulls()
    ids = ids.filter(ids.str.len_chars() == 18)
    province = ids.str.slice(0, 2).value_counts(sort=True)[0, 0]
    pool = ids.filter(ids.str.starts_with(province)).unique(maintain_order=True).to_list()
    rows = []
    start0 = dt.date(YEAR, 1, 1)
    for i in range(n):
        if i % 50 == 49:  # 2 %: a valid number of nobody in the registry
            number = id_number(province + "0102", dt.date(1960, 1, 1) + dt.timedelta(days=i % 15000), i)
        else:
            number = pool[i % len(pool)]
        rows.append(
            (
                i + 2,
                {
                    "pairing": pairing_pk,
                    "year": YEAR,
                    "id_number": number,
                    "employer": f"天津某制造有限公司{pairing_pk}-{i % 200:03d}",
                    "workplace_region": HELPER,
                    "start": start0 + dt.timedelta(days=(i // len(pool)) % 360),
                    "arrangement": "organised",
                },
            )
        )
    return rows, province


def w_step(step: str, csv: str, rows: int) -> dict[str, Any]:
    _setup_django()
    from django.db import connection, transaction

    from xiezuo.core.scope import SYSTEM
    from xiezuo.labour.models import Placement
    from xiezuo.ledgers import importing, services, types
    from xiezuo.ledgers.models import PersonCheck

    ltype = types.get("placements")
    label = {"again": "new"}.get(step, step)
    t_rows = time.perf_counter()
    from xiezuo.pairings.models import Pairing

    pairing = Pairing.objects.filter(name=f"bench {label}").first()
    if pairing is None:
        import polars as pl

        ids = pl.read_csv(csv, columns=["证件号码"], infer_schema=False)["证件号码"].drop_nulls()
        province = ids.str.slice(0, 2).value_counts(sort=True)[0, 0]
        pairing = _pairing(label, province)
    data, province = _rows(csv, rows, pairing.pk)
    rows_s = time.perf_counter() - t_rows
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    t0 = time.perf_counter()
    if step == "old":
        sys.path.insert(0, str(ROOT / "bench"))
        import ledger_import_old as old

        seen: dict[str, int] = {}
        cache: dict[Any, Any] = {}
        for start in range(0, len(data), importing.BATCH):
            with transaction.atomic():
                for number, values in data[start : start + importing.BATCH]:
                    try:
                        with transaction.atomic():
                            obj = old.save_record(
                                ltype,
                                actor=SYSTEM,
                                values=values,
                                via="import",
                                upsert=True,
                                check_rate=False,
                                seen=seen,
                                row=number,
                                cache=cache,
                            )
                    except old.RecordInvalid:
                        counts["rejected"] += 1
                        continue
                    counts[obj.outcome] += 1
    else:
        seen = {}
        for start in range(0, len(data), importing.BATCH):
            with transaction.atomic():
                for r in services.import_rows(
                    ltype, data[start : start + importing.BATCH], actor=SYSTEM, seen=seen
                ):
                    counts[r.outcome or "rejected"] += 1
    seconds = time.perf_counter() - t0
    ids = Placement.objects.filter(pairing=pairing).values_list("id", flat=True)
    out = {
        "step": step,
        "rows": len(data),
        "province": province,
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(data) / seconds),
        "make_rows_s": round(rows_s, 1),
        "counts": counts,
        "records": Placement.objects.filter(pairing=pairing).count(),
        "flagged": Placement.objects.filter(pairing=pairing, flagged=True).count(),
        "person_checks": PersonCheck.objects.filter(ledger="placements", record_id__in=ids).count(),
        "matched": PersonCheck.objects.filter(ledger="placements", record_id__in=ids, ok=True).count(),
        "batch": importing.BATCH,
        "peak_rss_mb": round(_peak_rss_mb()),
        "vendor": connection.vendor,
    }
    return out


# --- driver ------------------------------------------------------------------------------------


def _env(url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "DEBUG": "1", "XIEZUO_DATA_DIR": str(data_dir)})
    return env


def _run(worker: str, url: str, data_dir: Path, **kw: Any) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", worker]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    print(f"  … {worker} {kw.get('step', '')}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(url, data_dir), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {worker} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"    {json.dumps(result, ensure_ascii=False)} ({time.perf_counter() - t0:.0f} s wall)", flush=True)
    return result


def _data(cache: Path, people: int, seed: int) -> Path:
    base = cache / f"registry-p{people}-s{seed}"
    csv = base / "registry.csv"
    if not csv.exists():
        partial = base.with_name(base.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"generating {people} people → {base}", flush=True)
        subprocess.run(
            [
                str(ROOT / ".venv/bin/xiezuo"),
                *("synth", "registry", "--people", str(people), "--seed", str(seed)),
                *("--out", str(partial), "--format", "csv"),
            ],
            check=True,
            env=_env("sqlite:///:memory:", cache / "xiezuo-data"),
        )
        shutil.rmtree(base, ignore_errors=True)
        partial.rename(base)
    return csv


def _bench(database: str, args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    work = Path(args.cache_dir) / f"ledger-bench-{database}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out: dict[str, Any] = {"database": database, "steps": []}

    def run_all(url: str) -> None:
        out["setup"] = _run("setup", url, work, csv=csv)
        for step, n in (("old", args.side_rows), ("new", args.side_rows), ("again", args.side_rows)):
            if step in args.steps:
                out["steps"].append(_run("step", url, work, step=step, csv=csv, rows=n))
        if "big" in args.steps:
            out["steps"].append(_run("step", url, work, step="big", csv=csv, rows=args.rows))

    print(f"== {database}", flush=True)
    if database == "sqlite":
        run_all(f"sqlite:///{work / 'bench.sqlite3'}")
    else:
        from xiezuo.devtools.pgcluster import pg_cluster

        with pg_cluster(database="ledgers") as cluster:
            out["version"] = cluster.server_version()
            run_all(cluster.url_for("ledgers"))
    shutil.rmtree(work, ignore_errors=True)
    return out


def _write(results: list[dict[str, Any]], args: argparse.Namespace, command: str, path: Path) -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        "# Ledger import — batches (ADR 0015) vs the per-row path, side by side",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores shared with other "
        f"sessions (load average at the end {' '.join(load)}); Python {platform.python_version()}.",
        f"- Command: `{command}`",
        f"- Registry: `xiezuo synth registry --people {args.people} --seed {args.seed} --format csv`, "
        "imported with `import_registry`; the whole region tree loaded.",
        "- Rows: placement-like rows made in memory as the reader returns them (the write path alone), "
        "actor SYSTEM; see the module docstring of `bench/ledger_import.py`.",
        "- Goal (issue 16): 1,000,000 rows in under 2 minutes on both databases, at least 50× the "
        "per-row path measured side by side on 10,000 rows.",
        "",
    ]
    for r in results:
        lines += [
            f"## {r['database']} {r.get('version', '')}",
            "",
            f"Setup: {json.dumps(r.get('setup'))}",
            "",
        ]
        lines += [
            "| step | rows | seconds | rows/s | created | updated | unchanged | rejected | person checks "
            "| matched | flagged | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in r["steps"]:
            c = s["counts"]
            lines.append(
                f"| {s['step']} | {s['rows']:,} | {s['seconds']:,.1f} | {s['rows_per_s']:,} "
                f"| {c['created']:,} | {c['updated']:,} | {c['unchanged']:,} | {c['rejected']:,} "
                f"| {s['person_checks']:,} "
                f"| {s['matched']:,} | {s['flagged']:,} | {s['peak_rss_mb']:,} |"
            )
        by = {s["step"]: s for s in r["steps"]}
        if "old" in by and "new" in by:
            ratio = by["old"]["seconds"] / by["new"]["seconds"]
            lines += ["", f"Speed-up on {by['new']['rows']:,} rows: {ratio:.1f}×."]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--csv", help=argparse.SUPPRESS)
    p.add_argument("--people", type=int, default=1_000_000)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--side-rows", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2019)
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--steps", default="old,new,again,big")
    p.add_argument("--cache-dir", default="/tmp")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if args.worker == "setup":
        print(json.dumps(w_setup(args.csv)))
        return 0
    if args.worker == "step":
        print(json.dumps(w_step(args.step, args.csv, args.rows), ensure_ascii=False))
        return 0
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/ledger_import.py", *sys.argv[1:]])
    csv = _data(Path(args.cache_dir), args.people, args.seed)
    results = [_bench(db, args, csv) for db in args.databases.split(",")]
    if not args.no_write:
        _write(results, args, command, Path(args.results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
