"""PostgreSQL binary ``COPY`` of a polars frame (ADR 0009).

A registry load COPYs ten million rows twice (staging, members). In CSV the server parses every
field back from text (numbers, dates, quoting); in the binary format it reads each field as it is
stored. The rows are encoded from Arrow by pgpq (Rust, no Python per row). Measured at 1 M rows
(bench/results/registry_load.md): the server read 1 M member rows in 1.8 s instead of 3.0–3.3 s
of CSV, and encoding the staging and member batches of a 1 M-row import cost this process 1.0 s
instead of 1.1 s for ``write_csv`` (a hand-written Arrow encoder, tried first, cost 2.2 s).

Binary fields must have the column's exact type (an int8 into an int4 column is an error), so each
column is cast to the polars type of the table's column first, the types read from the table
itself (:func:`column_types`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pgpq
import polars as pl

# Rows encoded at a time. Each call's buffer grows by doubling and is copied into a bytes object:
# at 100,000 member rows (30 MB) every batch took fresh pages from the kernel (page faults, zeroing),
# 2 M member rows cost 1.0-1.5 CPU-s to encode; in pieces of 8,192 rows the memory is reused: 0.4 s.
ENCODE_ROWS = 8192

# The table's type (format_type) → the polars type whose Arrow type pgpq sends as it.
POLARS_TYPES: dict[str, Any] = {
    "bigint": pl.Int64,
    "integer": pl.Int32,
    "smallint": pl.Int16,
    "date": pl.Date,
    "boolean": pl.Boolean,
    "text": pl.String,
    "character varying": pl.String,
    "character": pl.String,
}


def column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[str]:
    """The PostgreSQL type of each column (``bigint``, ``text``, ``character varying`` …)."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    types = dict(cursor.fetchall())
    return [types[c] for c in columns]


def encode(frame: pl.DataFrame, types: Sequence[str]) -> list[bytes]:
    """The COPY data of ``frame`` (columns in the order of ``types``): buffers to write in turn."""
    if len(types) != frame.width:
        raise ValueError(f"binary COPY: {frame.width} columns, {len(types)} types")
    unknown = sorted({t for t in types if t not in POLARS_TYPES})
    if unknown:
        raise TypeError(f"binary COPY: no encoding for the PostgreSQL types {unknown}")
    table = frame.select(
        pl.col(c).cast(POLARS_TYPES[t], strict=True) for c, t in zip(frame.columns, types, strict=True)
    ).to_arrow()
    encoder = pgpq.ArrowToPostgresBinaryEncoder(table.schema)
    batches = table.to_batches(max_chunksize=ENCODE_ROWS)
    return [encoder.write_header(), *(encoder.write_batch(b) for b in batches), encoder.finish()]


def copy_frame(cursor: Any, table: str, frame: pl.DataFrame, types: Sequence[str] | None = None) -> None:
    """COPY the frame's rows into ``table`` (its columns by name) in the binary format. ``cursor``:
    a psycopg cursor (Django's ``cursor.cursor``); ``types`` as :func:`column_types` gives them."""
    if types is None:
        types = column_types(cursor, table, frame.columns)
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT binary)") as copy:
        for buffer in encode(frame, types):
            copy.write(buffer)
