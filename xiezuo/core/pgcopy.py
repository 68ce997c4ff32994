"""PostgreSQL binary ``COPY`` of a polars frame, encoded by columns.

A registry load COPYs ten million rows twice (staging, members). In CSV the server parses every
field back from text (numbers, dates, quoting); in the binary format it reads each field as it is
stored. Encoded here a column at a time with Arrow (no Python per row): at 1 M member rows this
process spent 0.9–1.2 s encoding instead of 1.3–1.5 s for ``write_csv``, and the server 1.8 s
instead of 3.0–3.3 s reading them (bench notes in bench/results/registry_load.md).

The format (PostgreSQL docs, "COPY … Binary Format"): a signature and two 32-bit zeros, then per
row a 16-bit field count and per field a 32-bit length (−1 for null) and the value's bytes in
network order — ``int8``/``int4``/``int2`` big-endian, ``date`` as days since 2000-01-01,
``boolean`` one byte, text types as the string's bytes in the client encoding (UTF-8) — and a
16-bit −1 at the end. Each column type must match the table's exactly (an int8 into an int4
column is an error), so the types are read from the table itself (:func:`column_types`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH = 10_957  # 2000-01-01 in days since 1970-01-01

BINARY = pa.large_binary()
# The table's type (format_type) → (polars type, numpy type of the value in network order).
FIXED: dict[str, tuple[Any, str]] = {
    "bigint": (pl.Int64, ">i8"),
    "integer": (pl.Int32, ">i4"),
    "smallint": (pl.Int16, ">i2"),
    "date": (pl.Int32, ">i4"),  # days since 2000-01-01
    "boolean": (pl.UInt8, "u1"),
}
TEXT_TYPES = ("text", "character varying", "character")


def column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[str]:
    """The PostgreSQL type of each column (``bigint``, ``text``, ``character varying`` …)."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    types = dict(cursor.fetchall())
    return [types[c] for c in columns]


def _fixed_width(raw: bytes, n: int, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """``n`` values of ``width`` bytes each, back to back in ``raw``, as a binary column."""
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int64) * width).tobytes())
    mask = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    return pa.LargeBinaryArray.from_buffers(BINARY, n, [mask, offsets, pa.py_buffer(raw)])


def _field(column: pl.Series, pg_type: str) -> list[pa.Array]:
    """A column's fields: the lengths (−1 for null) and the values (null → no bytes)."""
    n = len(column)
    if pg_type.startswith(TEXT_TYPES):
        values = column.cast(pl.String).to_arrow()
        if values.type != BINARY:
            values = values.cast(BINARY)
        lengths = pc.binary_length(values).fill_null(-1).to_numpy(zero_copy_only=False).astype(">i4")
        return [_fixed_width(lengths.tobytes(), n, 4), values]
    if pg_type not in FIXED:
        raise TypeError(f"binary COPY: no encoder for the PostgreSQL type {pg_type!r}")
    dtype, network = FIXED[pg_type]
    if pg_type == "date":
        days = column.cast(pl.Date).cast(pl.Int32) - PG_EPOCH
    else:
        days = column.cast(dtype, strict=True)
    null = days.is_null().to_numpy() if days.null_count() else None
    values = days.fill_null(0).to_numpy().astype(network)
    width = values.dtype.itemsize
    lengths = np.full(n, width, dtype=">i4")
    if null is not None:
        lengths[null] = -1
    return [
        _fixed_width(lengths.tobytes(), n, 4),
        _fixed_width(values.tobytes(), n, width, None if null is None else ~null),
    ]


def encode(frame: pl.DataFrame, types: Sequence[str]) -> list[Any]:
    """The COPY data of ``frame`` (columns in the order of ``types``): a list of buffers to write."""
    n = frame.height
    if len(types) != frame.width:
        raise ValueError(f"binary COPY: {frame.width} columns, {len(types)} types")
    if n == 0:
        return [SIGNATURE, TRAILER]
    counts = np.full(n, frame.width, dtype=">i2")
    parts = [_fixed_width(counts.tobytes(), n, 2)]
    for name, pg_type in zip(frame.columns, types, strict=True):
        parts += _field(frame[name], pg_type)
    rows = pc.binary_join_element_wise(
        *parts, pa.scalar(b"", BINARY), null_handling="replace", null_replacement=b""
    )
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=n + 1, offset=rows.offset * 8)
    return [SIGNATURE, memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])], TRAILER]


def copy_frame(cursor: Any, table: str, frame: pl.DataFrame, types: Sequence[str] | None = None) -> None:
    """COPY the frame's rows into ``table`` (its columns by name) in the binary format. ``cursor``:
    a psycopg cursor (Django's ``cursor.cursor``); ``types`` as :func:`column_types` gives them."""
    if types is None:
        types = column_types(cursor, table, frame.columns)
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT binary)") as copy:
        for buffer in encode(frame, types):
            copy.write(buffer)
