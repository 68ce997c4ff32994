"""Rows written into a SQLite table by a process of its own, batch after batch, while the caller
goes on (the registry's direct first load on SQLite: ADR 0008).

SQLite inserts on the caller's connection hold Python's lock for every value bound, so a thread
does not help (measured: the member rows of 1 M people took 5.2 s in place and 9.3 s on a thread,
the import as long as before). A child process has a core of its own. It is a new interpreter
(``python -m xiezuo.core.sqlite_writer``), not a fork: a forked child must not touch the parent's
SQLite connections, nor polars' or Arrow's thread pools. It imports neither Django nor the
project, only pyarrow, and opens the database file itself.

Protocol: the parent writes each batch to the child's stdin as an 8-byte little-endian length
and an Arrow IPC stream; the child inserts it in one transaction and answers one line on stdout,
``ok N`` or ``error …``. End of input: the child closes the database and exits 0. The child dies
with its parent (``PR_SET_PDEATHSIG``): what it had not committed is rolled back, and an import
killed in the middle leaves only what a killed import leaves anyway (whole batches).
"""

from __future__ import annotations

import ctypes
import io
import signal
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

HEADER = struct.Struct("<Q")
PART = 10_000


class WriterFailed(RuntimeError):
    pass


class SqliteWriter:
    """A child process inserting the rows of Arrow tables into ``table`` (its ``columns``, in
    order) of the SQLite database file ``path``, one batch in flight at most."""

    def __init__(self, path: str, table: str, columns: Sequence[str]) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "xiezuo.core.sqlite_writer", path, table, ",".join(columns)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._in_flight = False

    def submit(self, batch: Any) -> None:
        """Send an Arrow table or record batch (waiting for the previous batch first)."""
        import pyarrow as pa

        self.wait()
        buffer = io.BytesIO()
        with pa.ipc.new_stream(buffer, batch.schema) as stream:
            stream.write(batch)
        data = buffer.getbuffer()
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(HEADER.pack(len(data)))
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise WriterFailed(f"the SQLite writer ended early ({self._proc.wait()})") from None
        self._in_flight = True

    def wait(self) -> int:
        """Rows the batch in flight inserted (0 if none was)."""
        if not self._in_flight:
            return 0
        self._in_flight = False
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line.startswith("ok "):
            raise WriterFailed(
                line.removeprefix("error ") or f"the SQLite writer ended early ({self._proc.wait()})"
            )
        return int(line[3:])

    def close(self) -> None:
        """Wait for the last batch (raising its error), then end the child."""
        try:
            self.wait()
        finally:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
            code = self._proc.wait()
        if code != 0:
            raise WriterFailed(f"the SQLite writer exited with {code}")

    def kill(self) -> None:
        """End the child now (the caller failed): what it had not committed is rolled back."""
        self._proc.kill()
        self._proc.wait()


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the end of input still stops the child


def main(argv: Sequence[str] | None = None) -> int:
    import pyarrow as pa

    path, table, columns = argv if argv is not None else sys.argv[1:]
    _die_with_parent()
    names = columns.split(",")
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA foreign_keys = OFF")  # checked by the caller afterwards
    sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
    source, answer = sys.stdin.buffer, sys.stdout
    try:
        while True:
            head = source.read(HEADER.size)
            if len(head) < HEADER.size:
                return 0
            (size,) = HEADER.unpack(head)
            data = source.read(size)
            try:
                rows = pa.ipc.open_stream(data).read_all().select(names)
                del data
                db.execute("BEGIN")
                for start in range(0, rows.num_rows, PART):  # Python objects for a part at a time
                    part = rows.slice(start, PART)
                    db.executemany(sql, zip(*[column.to_pylist() for column in part.columns], strict=True))
                db.execute("COMMIT")
                answer.write(f"ok {rows.num_rows}\n")
            except Exception as exc:  # reported to the parent, which raises it
                if db.in_transaction:
                    db.execute("ROLLBACK")
                answer.write("error " + " ".join(f"{type(exc).__name__}: {exc}".split()) + "\n")
            answer.flush()
    finally:
        db.close()


if __name__ == "__main__":
    raise SystemExit(main())
