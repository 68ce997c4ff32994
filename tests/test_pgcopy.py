"""Binary COPY of polars frames (xiezuo.core.pgcopy) against a real PostgreSQL server: every value
comes back as it was, whatever the database the suite runs on (the test starts its own server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import psycopg
import pytest

from xiezuo.core import pgcopy
from xiezuo.devtools.pgcluster import pg_cluster

TABLE = """CREATE TABLE t (
    i8 bigint, i4 integer, i2 smallint, d date, b boolean, t text, v varchar(8), c char(2)
)"""

FRAME = pl.DataFrame(
    {
        "i8": [9_223_372_036_854_775_807, -9_223_372_036_854_775_808, 0, None, 110_101_001_001],
        "i4": [2_147_483_647, -1, None, 0, 2019],
        "i2": [None, 32_767, -32_768, 1, 0],
        "d": [dt.date(2000, 1, 1), dt.date(1969, 12, 31), None, dt.date(1999, 12, 31), dt.date(2020, 2, 29)],
        "b": [True, False, None, True, False],
        "t": ['贫困户,"逗号"\n换行', "", None, "\\N", "k1:IOhnNRkoEV53X+b/="],
        "v": ["张**", "阿卜杜·热", "", None, "01"],
        "c": ["1", "2", None, "ab", "x"],
    },
    schema={
        "i8": pl.Int64,
        "i4": pl.Int64,  # wider in the frame than in the table: cast on the way
        "i2": pl.Int64,
        "d": pl.Date,
        "b": pl.Boolean,
        "t": pl.String,
        "v": pl.String,
        "c": pl.String,
    },
)


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection]:
    with pg_cluster(database="pgcopy") as cluster, psycopg.connect(cluster.url, autocommit=True) as c:
        yield c


def _fresh(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS t")
    conn.execute(TABLE)


@pytest.mark.parametrize("encode_rows", [8192, 2])
def test_every_value_comes_back_as_it_was(
    conn: psycopg.Connection, encode_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgcopy, "ENCODE_ROWS", encode_rows)  # 2: the rows encoded in pieces
    _fresh(conn)
    with conn.cursor() as cursor:
        types = pgcopy.column_types(cursor, "t", FRAME.columns)
        assert types == [
            "bigint",
            "integer",
            "smallint",
            "date",
            "boolean",
            "text",
            "character varying",
            "character",
        ]
        # The header, one buffer per piece of rows, the trailer.
        assert len(pgcopy.encode(FRAME, types)) == 2 + -(-FRAME.height // encode_rows)
        pgcopy.copy_frame(cursor, "t", FRAME, types)
        # Two batches into one table: each COPY is whole.
        pgcopy.copy_frame(cursor, "t", FRAME.slice(1, 2))
        cursor.execute("SELECT i8, i4, i2, d, b, t, v, rtrim(c) FROM t")
        got = cursor.fetchall()
    assert got == [*FRAME.rows(), *FRAME.slice(1, 2).rows()]


def test_the_same_rows_as_a_csv_copy(conn: psycopg.Connection) -> None:
    """The binary rows and polars' CSV of the same frame land as the same table."""
    _fresh(conn)
    conn.execute("CREATE TABLE t2 (LIKE t)")
    with conn.cursor() as cursor:
        pgcopy.copy_frame(cursor, "t", FRAME)
        with cursor.copy("COPY t2 FROM STDIN (FORMAT csv)") as copy:
            copy.write(FRAME.write_csv(include_header=False).encode())
        cursor.execute("SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM t2) x")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM t2")
        assert cursor.fetchone() == (5,)
    conn.execute("DROP TABLE t2")


def test_an_empty_frame_copies_nothing_and_a_type_without_encoder_is_refused(
    conn: psycopg.Connection,
) -> None:
    _fresh(conn)
    with conn.cursor() as cursor:
        pgcopy.copy_frame(cursor, "t", FRAME.clear())
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (0,)
    with pytest.raises(TypeError, match="numeric"):
        pgcopy.encode(pl.DataFrame({"x": [1]}), ["numeric"])
    with pytest.raises(ValueError, match="1 columns, 2 types"):
        pgcopy.encode(pl.DataFrame({"x": [1]}), ["bigint", "text"])
