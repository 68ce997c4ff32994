"""The SQLite writing process of direct first loads (xiezuo.core.sqlite_writer)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from xiezuo.core.sqlite_writer import SqliteWriter, WriterFailed

COLUMNS = ["id", "name", "blob", "born", "note"]


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "w.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (id integer PRIMARY KEY, name text NOT NULL, blob blob, born text, note text)")
    db.close()
    return path


def _rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, name, blob, born, note FROM t ORDER BY id").fetchall()
    finally:
        db.close()


def _batch(ids: list[int], names: list[str | None]) -> pa.Table:
    return pa.table(
        {
            # Columns in another order than the table's: the writer inserts them by name.
            "note": pa.array([None if i % 2 else f"第{i}行" for i in ids], pa.large_string()),
            "id": pa.array(ids, pa.int64()),
            "name": pa.array(names, pa.large_string()),
            "blob": pa.array([bytes([i % 256]) * 3 for i in ids], pa.large_binary()),
            "born": pa.array(["2001-02-03" for _ in ids], pa.large_string()),
        }
    )


def test_batches_land_in_order_and_a_failed_batch_is_reported_and_rolled_back(tmp_path: Path) -> None:
    path = _db(tmp_path)
    writer = SqliteWriter(str(path), "t", COLUMNS)
    writer.submit(_batch([1, 2], ["张三", "欧阳·娜娜"]))
    assert writer.wait() == 2
    writer.submit(_batch([3], ["李四"]))
    # The second batch is waited for before the third is sent; the third breaks NOT NULL.
    writer.submit(_batch([4, 5], ["王五", None]))
    with pytest.raises(WriterFailed) as failed:
        writer.wait()
    assert str(failed.value) == "IntegrityError: NOT NULL constraint failed: t.name"
    writer.submit(_batch([6], ["赵六"]))
    writer.close()
    assert _rows(path) == [
        (1, "张三", b"\x01\x01\x01", "2001-02-03", None),
        (2, "欧阳·娜娜", b"\x02\x02\x02", "2001-02-03", "第2行"),
        (3, "李四", b"\x03\x03\x03", "2001-02-03", None),
        (6, "赵六", b"\x06\x06\x06", "2001-02-03", "第6行"),
    ]


def test_close_reports_the_last_batch_error(tmp_path: Path) -> None:
    path = _db(tmp_path)
    writer = SqliteWriter(str(path), "t", COLUMNS)
    writer.submit(_batch([1, 1], ["甲", "乙"]))  # the same key twice
    with pytest.raises(WriterFailed) as failed:
        writer.close()
    assert str(failed.value) == "IntegrityError: UNIQUE constraint failed: t.id"
    assert _rows(path) == []


PARENT = """
import sys, time
from xiezuo.core.sqlite_writer import SqliteWriter
writer = SqliteWriter(sys.argv[1], "t", ["id", "name", "blob", "born", "note"])
print(writer._proc.pid, flush=True)
time.sleep(60)
"""


def test_the_writer_dies_with_its_parent(tmp_path: Path) -> None:
    """A killed import leaves no writer behind that could commit a batch after it."""
    path = _db(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(path)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # it runs
    parent.kill()
    parent.wait()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # A zombie until its own parent (the dead one's) reaps it: gone once it is not running.
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the writer outlived its parent")


def test_insert_arrow_lands_every_value_as_binding_it_would() -> None:
    """insert_arrow writes some values into the statement (one value in a group of rows) and
    leaves out null columns; the table ends exactly as binding every value of every row would
    leave it: quotes, a NUL character, long and empty texts, booleans, dates, nulls, a column of
    a type without an order (dictionary), and groups of one row among them."""
    import datetime as dt

    from xiezuo.core.sqlite_writer import LITERAL_MAX, insert_arrow

    long = "长" * (LITERAL_MAX + 1)
    rows = pa.table(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "name": ["it's", "it's", "it's", "a\x00b", "a\x00b", "x"],
            "flag": [True, True, None, True, True, False],
            "born": [dt.date(2019, 3, 5)] * 5 + [None],
            "note": [None, None, "", "", long, None],
            "long": [long, long, long, None, None, None],
            "empty": pa.array([None] * 6, pa.string()),
            # No order for min_max (a categorical column of polars): always bound.
            "code": pa.array(["01", "01", "01", "02", "02", "02"]).dictionary_encode(),
        }
    )
    ddl = (
        "CREATE TABLE t (id integer PRIMARY KEY, name text, flag boolean, born date, note text, "
        "long text, empty text, code text)"
    )
    plain = sqlite3.connect(":memory:")
    plain.execute(ddl)
    plain.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", zip(*rows.to_pydict().values(), strict=True)
    )
    db = sqlite3.connect(":memory:")
    db.execute(ddl)
    assert insert_arrow(db, "t", rows) == 6
    assert insert_arrow(db, "t", rows.slice(0, 0)) == 0
    select = "SELECT *, typeof(flag), typeof(born) FROM t ORDER BY id"
    assert db.execute(select).fetchall() == plain.execute(select).fetchall()
    assert db.execute("SELECT name, flag, note FROM t WHERE id IN (4, 6) ORDER BY id").fetchall() == [
        ("a\x00b", 1, ""),
        ("x", 0, None),
    ]
