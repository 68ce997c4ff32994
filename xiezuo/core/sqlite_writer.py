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
from collections.abc import Iterator, Sequence
from typing import Any

HEADER = struct.Struct("<Q")
PART = 10_000
LITERAL_MAX = 200  # a value written into the statement instead of bound is at most this long


def _literal(value: Any) -> str | None:
    """``value`` as an SQL literal, if it is an integer or a short text (else None: it is bound)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= LITERAL_MAX and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _null_groups(table: Any) -> Iterator[Any]:
    """``table``'s rows in groups null in the same columns, each without those columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = [c for c in table.column_names if table[c].null_count < table.num_rows]
    mixed = [c for c in present if table[c].null_count > 0]
    if not mixed or len(mixed) > 62:  # a bit a column in a 64-bit key
        yield table.select(present)
        return
    key = None
    for i, name in enumerate(mixed):
        bit = pc.multiply(pc.cast(pc.is_null(table[name]), pa.int64()), 1 << i)
        key = bit if key is None else pc.add(key, bit)
    for nulls in pc.unique(key).to_pylist():
        group = table.filter(pc.equal(key, nulls))
        yield group.select([c for c in present if c not in mixed or not nulls >> mixed.index(c) & 1])


def _one_value(column: Any) -> str | None:
    """The SQL literal of the one value of a column without nulls (_literal), else None; a type
    without an order (dictionary) is bound."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        low, high = (v.as_py() for v in pc.min_max(column).values())
    except pa.ArrowNotImplementedError:
        return None
    return _literal(low) if low == high else None


def insert_arrow(db: Any, table: str, rows: Any) -> int:
    """Insert the rows of the Arrow table ``rows`` into ``table`` (its columns by name) on the
    sqlite3 connection ``db``, in the caller's transaction; returns the rows inserted.

    Making a Python object for each value and binding it is most of the time of an insert, and
    None costs as much as a value. So the rows go in groups that are null in the same columns,
    each group without them (the insert leaves them null), and a column with one value in a group
    (the sheet's name, ok, the dataset) is written into the statement once instead of bound on
    every row. 10 M people, the staging rows of a direct load: 5.4 s a million rows bound as they
    are, 3.0 s without the null columns, 1.9 s with the constant ones written in."""
    if rows.num_rows == 0:
        return 0
    for group in _null_groups(rows):
        names, values, bound = [], [], []
        for name in group.column_names:
            column = group[name]
            literal = _one_value(column) if group.num_rows > 1 else None
            names.append(name)
            values.append(literal or "?")
            if literal is None:
                bound.append(column)
        sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join(values)})'
        for start in range(0, group.num_rows, PART):  # Python objects for a part at a time
            part = [column.slice(start, PART).to_pylist() for column in bound]
            if part:
                db.executemany(sql, zip(*part, strict=True))
            else:  # every value written in
                db.executemany(sql, [()] * min(PART, group.num_rows - start))
    return int(rows.num_rows)


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
                insert_arrow(db, table, rows)
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
