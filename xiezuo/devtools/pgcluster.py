"""A throwaway PostgreSQL cluster for tests and benchmarks (DESIGN.md D13).

``with pg_cluster() as cluster:`` runs ``initdb`` into a temporary directory (as the ``postgres``
user when running as root, because PostgreSQL refuses to run as root), starts the server on a free
port of 127.0.0.1 with its own socket directory and durability switched off, creates a database and
gives its ``DATABASE_URL``. At the end the server is stopped (``pg_ctl stop -m immediate``) and the
directory removed. Anything that goes wrong raises :class:`ClusterError` with the server log: the
harness fails loudly and never skips.

Command line: ``python -m xiezuo.devtools.pgcluster -- CMD ARGS...`` runs CMD with ``DATABASE_URL``
set and stops the cluster when CMD ends; without CMD it prints the URL and waits for Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "xiezuo"
DATABASE = "xiezuo"
SERVER_OPTIONS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
DEFAULT_BINDIR = "/usr/lib/postgresql/15/bin"


class ClusterError(RuntimeError):
    """The throwaway cluster could not be made, started or used."""


@dataclass(frozen=True)
class Cluster:
    bindir: Path
    root: Path  # temporary directory: data/, socket/, server.log
    port: int
    database: str

    @property
    def url(self) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{self.database}"

    def url_for(self, database: str) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def server_version(self) -> str:
        """``server_version`` as the running server reports it, e.g. ``15.14 (Debian 15.14-0+deb12u1)``."""
        return self.psql("SHOW server_version").strip()

    def psql(self, sql: str, database: str | None = None) -> str:
        """Run one statement with psql over TCP and return its unaligned output."""
        cmd = [
            str(self.bindir / "psql"),
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            USER,
            "-d",
            database or self.database,
            "-c",
            sql,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ClusterError(f"psql failed ({sql!r}): {proc.stderr.strip()}\n{_tail(self.log)}")
        return proc.stdout

    def create_database(self, name: str) -> str:
        """Create another database on this server and return its URL."""
        self.psql(f'CREATE DATABASE "{name}"', database="postgres")
        return self.url_for(name)


def find_bindir() -> Path:
    """Where the server binaries are: ``PG_BINDIR``, else ``pg_config --bindir``, else the Debian path."""
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        proc = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            candidates.append(proc.stdout.strip())
    candidates.append(DEFAULT_BINDIR)
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise ClusterError(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found in {candidates}; "
        "install postgresql-15 (Debian) or set PG_BINDIR"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no server log at {path})"
    return "--- server log ---\n" + "\n".join(text.splitlines()[-lines:])


def _as_server_user() -> list[str]:
    """Prefix that runs a command as a non-root user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("running as root and `runuser` is missing: cannot run PostgreSQL as `postgres`")
    return [runuser, "-u", "postgres", "--"]


def _run(cmd: Sequence[str], what: str, cwd: Path, log: Path | None = None) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        extra = f"\n{_tail(log)}" if log is not None else ""
        raise ClusterError(
            f"{what} failed with exit code {proc.returncode}: {' '.join(cmd)}\n"
            f"{proc.stdout.strip()}\n{proc.stderr.strip()}{extra}"
        )


def _start(bindir: Path, root: Path, prefix: list[str], port: int) -> None:
    options = " ".join(
        [
            "-c listen_addresses=127.0.0.1",
            f"-c port={port}",
            f"-c unix_socket_directories={root / 'socket'}",
            *SERVER_OPTIONS,
        ]
    )
    _run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(root / "data"),
            "-l",
            str(root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
        "pg_ctl start",
        cwd=root,
        log=root / "server.log",
    )


def _wait_ready(bindir: Path, port: int, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        proc = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "postgres"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return
        last = proc.stdout.strip() + proc.stderr.strip()
        time.sleep(0.1)
    raise ClusterError(f"PostgreSQL on port {port} not ready after {timeout:.0f} s: {last}\n{_tail(log)}")


@contextmanager
def pg_cluster(database: str = DATABASE, keep: bool = False) -> Iterator[Cluster]:
    """Make, start and finally remove a throwaway cluster; yields it (``cluster.url``)."""
    bindir = find_bindir()
    prefix = _as_server_user()
    # Under /tmp (or TMPDIR): the postgres user must be able to reach the directory.
    root = Path(tempfile.mkdtemp(prefix="xiezuo-pg-"))
    started = False
    try:
        (root / "socket").mkdir()
        if prefix:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(root / "socket", "postgres", "postgres")
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(root / "data"),
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-U",
                USER,
                "--auth=trust",
                "--no-sync",
            ],
            "initdb",
            cwd=root,
        )
        # A port can be taken between choosing and binding it: try a few.
        error: ClusterError | None = None
        port = 0
        for _attempt in range(3):
            port = free_port()
            try:
                _start(bindir, root, prefix, port)
            except ClusterError as exc:
                error = exc
                if "could not bind" not in _tail(root / "server.log"):
                    raise
                continue
            started = True
            break
        if not started:
            assert error is not None
            raise error
        _wait_ready(bindir, port, root / "server.log")
        cluster = Cluster(bindir=bindir, root=root, port=port, database=database)
        cluster.create_database(database)
        yield cluster
    finally:
        # Also when pg_ctl gave up waiting: a postmaster.pid means a server may be running.
        if started or (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                cwd=root,
                check=False,
            )
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    if args and args[0] == "--":
        args = args[1:]
    with pg_cluster() as cluster:
        version = cluster.server_version()
        print(f"[pgcluster] PostgreSQL {version} at {cluster.url} (dir {cluster.root})", file=sys.stderr)
        env = {**os.environ, "DATABASE_URL": cluster.url}
        if not args:
            print(cluster.url, flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
            return 0
        try:
            return subprocess.run(args, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    raise SystemExit(main())
