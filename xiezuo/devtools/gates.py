"""Every gate CI runs, in order, with a summary (DESIGN.md D12, D13). Called by ``bin/check``.

    python -m xiezuo.devtools.gates                   # all gates
    python -m xiezuo.devtools.gates --only lint       # ruff, mypy, migrations, OpenAPI
    python -m xiezuo.devtools.gates --only sqlite -k regions -- -x --durations=5
    python -m xiezuo.devtools.gates --fast            # ruff, and the tests not marked heavy, on SQLite

Gates: ruff check, ruff format --check, mypy, makemigrations --check, OpenAPI schema against the
committed ``openapi.json``, the test suite on SQLite, the test suite on a throwaway PostgreSQL
cluster. All gates run; the exit code is 1 if any failed. The i18n checks are tests in the suite.

The two test runs are independent (each its own data directory and database), so with two or more
CPUs they run side by side, their lines prefixed ``[sqlite]`` / ``[postgresql]``; ``--serial`` runs
them one after the other.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
XIEZUO = [PY, "-m", "xiezuo.cli"]
# pytest's last line: "12 passed, 1 skipped in 3.21s", "1 failed, 2 passed in 65.00s (0:01:05)",
# "no tests ran in 0.01s".
SUMMARY = re.compile(r"^=*\s*(?P<text>(?:\d+ \w+|no tests ran)(?:, \d+ \w+)* in [\d.]+s)\b")


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


# Gates running side by side (threads) print whole lines, each under its gate's prefix.
_local = threading.local()
_print_lock = threading.Lock()
_running: set[subprocess.Popen[str]] = set()  # commands running now, stopped on SIGTERM


def _cancel(signum: int, frame: object) -> None:
    """SIGTERM (CI cancelling): stop the running commands, so every gate's thread returns and the
    throwaway cluster is stopped and removed, then unwind the main thread normally."""
    for proc in list(_running):
        proc.terminate()
    sys.exit(128 + signum)


def _say(text: str) -> None:
    prefix = getattr(_local, "prefix", "")
    with _print_lock:
        for line in text.split("\n"):
            sys.stdout.write(f"{prefix}{line}\n" if prefix else f"{line}\n")
        sys.stdout.flush()


def _header(name: str) -> None:
    _say(f"\n== {name}")


def _base_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env["DEBUG"] = "1"
    env["XIEZUO_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    return env


def _stream(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run a command in the repository, echoing its output; return exit code and output lines."""
    _say("$ " + " ".join(cmd))
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            list(cmd), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except OSError as exc:
        _say(f"cannot run {cmd[0]}: {exc}")
        return 127, [str(exc)]
    assert proc.stdout is not None
    _running.add(proc)
    try:
        for line in proc.stdout:
            _say(line.rstrip("\n"))
            lines.append(line.rstrip("\n"))
        return proc.wait(), lines
    finally:
        _running.discard(proc)
        if proc.poll() is None:  # interrupted: do not leave the command running
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _simple(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[bool, str]:
    code, lines = _stream(cmd, env)
    last = next((line for line in reversed(lines) if line.strip()), "")
    return code == 0, (last if code else "ok")[:100]


def gate_ruff_check(env: dict[str, str]) -> tuple[bool, str]:
    return _simple([PY, "-m", "ruff", "check", "."], env)


def gate_ruff_format(env: dict[str, str]) -> tuple[bool, str]:
    return _simple([PY, "-m", "ruff", "format", "--check", "."], env)


def gate_mypy(env: dict[str, str]) -> tuple[bool, str]:
    return _simple([PY, "-m", "mypy", "xiezuo"], env)


def gate_migrations(env: dict[str, str]) -> tuple[bool, str]:
    return _simple([*XIEZUO, "manage", "makemigrations", "--check", "--dry-run"], env)


def gate_openapi(env: dict[str, str]) -> tuple[bool, str]:
    committed = ROOT / "openapi.json"
    with tempfile.TemporaryDirectory(prefix="xiezuo-openapi-") as tmp:
        out = Path(tmp) / "openapi.json"
        code, _ = _stream([*XIEZUO, "openapi", "--out", str(out)], env)
        if code != 0:
            return False, f"`xiezuo openapi` failed (exit {code})"
        if not out.exists():
            return False, "`xiezuo openapi` wrote no file"
        if not committed.exists():
            return False, "openapi.json is not committed (run: xiezuo openapi --out openapi.json)"
        new, old = out.read_text(encoding="utf-8"), committed.read_text(encoding="utf-8")
        try:
            same = json.loads(new) == json.loads(old)
        except json.JSONDecodeError as exc:
            return False, f"invalid JSON: {exc}"
        if same:
            return True, "matches openapi.json"
        diff = difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            "openapi.json (committed)",
            "openapi.json (generated)",
            lineterm="",
        )
        for i, line in enumerate(diff):
            if i >= 200:
                print("... (diff cut)")
                break
            print(line)
        return False, "schema differs from openapi.json (run: xiezuo openapi --out openapi.json)"


def _pytest(label: str, env: dict[str, str], pytest_args: Sequence[str]) -> tuple[bool, str]:
    # Its own temporary directory next to its data directory: suites side by side never share one.
    basetemp = Path(env["XIEZUO_DATA_DIR"]).parent / f"pytest-{label.split()[0]}"
    code, lines = _stream([PY, "-m", "pytest", f"--basetemp={basetemp}", *pytest_args], env)
    summary = ""
    for line in reversed(lines):
        match = SUMMARY.match(line.strip())
        if match:
            summary = re.sub(r" in ([\d.]+)s\b", r" in \1 s", match.group("text")).strip()
            break
    if code == 5:
        summary = summary or "no tests ran"
        detail = f"{summary} (exit 5: no tests collected)"
    elif code != 0:
        detail = f"{summary or 'pytest failed'} (exit {code})"
    else:
        detail = summary or "passed"
    _say(f"== tests on {label}: {detail}")
    return code == 0, detail


def gate_sqlite(env: dict[str, str], pytest_args: Sequence[str]) -> tuple[bool, str]:
    return _pytest("sqlite", env, pytest_args)


def gate_postgres(env: dict[str, str], pytest_args: Sequence[str]) -> tuple[bool, str]:
    from xiezuo.devtools.pgcluster import ClusterError, pg_cluster

    try:
        with pg_cluster() as cluster:
            version = cluster.server_version().split()[0]
            _say(f"PostgreSQL {version} at {cluster.url}")
            ok, detail = _pytest(f"postgresql {version}", {**env, "DATABASE_URL": cluster.url}, pytest_args)
            return ok, f"PostgreSQL {version}: {detail}"
    except ClusterError as exc:
        _say(f"throwaway PostgreSQL cluster failed:\n{exc}")
        return False, "throwaway PostgreSQL cluster failed (see above)"


def _run_gate(name: str, run: Callable[[], tuple[bool, str]], *, prefix: str) -> Result:
    """Run one gate under its output prefix; a gate that crashes is a failed gate, never a skipped one."""
    _local.prefix = prefix
    _header(name)
    t0 = time.monotonic()
    try:
        ok, detail = run()
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
        _say(detail)
    seconds = time.monotonic() - t0
    _say(f"== {name}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s")
    return Result(name, ok, seconds, detail)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    parser = argparse.ArgumentParser(
        prog="bin/check", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--only", choices=["lint", "sqlite", "postgres"], help="run one group of gates")
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    parser.add_argument("--serial", action="store_true", help="run the two test suites one after the other")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="ruff, then the tests not marked heavy (no processes, live site, big loads) on SQLite",
    )
    opts = parser.parse_args(args)
    signal.signal(signal.SIGTERM, _cancel)

    pytest_args = [
        *(["-k", opts.keyword] if opts.keyword else []),
        *(["-m", "not heavy"] if opts.fast else []),
        *extra,
    ]
    results: list[Result] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="xiezuo-check-") as tmp:
        env = _base_env(Path(tmp) / "data")
        lint: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
            ("ruff check", lambda: gate_ruff_check(env)),
            ("ruff format --check", lambda: gate_ruff_format(env)),
            ("mypy", lambda: gate_mypy(env)),
            ("migrations", lambda: gate_migrations(env)),
            ("openapi", lambda: gate_openapi(env)),
        ]
        # Each suite its own data directory, so the two can run side by side.
        env_sqlite = _base_env(Path(tmp) / "data-sqlite")
        env_pg = _base_env(Path(tmp) / "data-postgresql")
        tests: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
            ("tests on sqlite", lambda: gate_sqlite(env_sqlite, pytest_args)),
            ("tests on postgresql", lambda: gate_postgres(env_pg, pytest_args)),
        ]
        side_by_side = opts.only is None and not opts.serial and (os.cpu_count() or 1) >= 2
        groups: list[list[tuple[str, Callable[[], tuple[bool, str]]]]] = {
            "fast": [[g] for g in lint[:2]] + [tests[:1]],
            None: [[g] for g in lint] + ([tests] if side_by_side else [[t] for t in tests]),
            "lint": [[g] for g in lint],
            "sqlite": [tests[:1]],
            "postgres": [tests[1:]],
        }["fast" if opts.fast else opts.only]
        for group in groups:
            if len(group) == 1:
                results.append(_run_gate(*group[0], prefix=""))
                continue
            labels = {name: "[" + name.removeprefix("tests on ") + "] " for name, _ in group}
            with ThreadPoolExecutor(len(group)) as pool:
                futures = [pool.submit(_run_gate, name, run, prefix=labels[name]) for name, run in group]
                results.extend(f.result() for f in futures)

    width = max(len(r.name) for r in results)
    print("\n== summary")
    for r in results:
        print(f"  {r.name:<{width}}  {'ok' if r.ok else 'FAILED':<6}  {r.seconds:7.1f} s  {r.detail}")
    failed = [r.name for r in results if not r.ok]
    total = time.monotonic() - started
    if failed:
        print(f"== {len(failed)} of {len(results)} gates FAILED in {total:.1f} s: {', '.join(failed)}")
        return 1
    print(f"== all {len(results)} gates passed in {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
