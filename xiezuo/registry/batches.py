"""The front of the registry import: any registry file as a stream of column batches.

A plain CSV table (UTF-8, header in the first row) is read by polars in batches of columns and
each column is parsed once per *distinct* value with the very same cell parser the row reader
uses (``parse_cell``), so values and messages are identical; anything else (XLSX with title rows
and merged headers, GBK CSV, Parquet, ZIP) goes through the row parser of ``xiezuo.core.tabular``
and is gathered into the same :class:`Batch`. Everything after this module is one pipeline.

Rows are numbered ``seq`` 0, 1, … over the rows read (skipped empty, total and footer rows do not
count); reading the file again gives the same numbers, which is how the error report finds the
original cells of rejected rows without storing them (D3: no clear text in the database).
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from xiezuo.core.tabular import Summary, UnitUsed, parse, values
from xiezuo.core.tabular.errors import CellError, ParsedRow
from xiezuo.core.tabular.guard import check
from xiezuo.core.tabular.header import (
    HEADER_SCAN_ROWS,
    IGNORED_HEADERS,
    classify_row,
    find_header,
    norm_header,
    row_meta,
)
from xiezuo.core.tabular.limits import Limits
from xiezuo.core.tabular.readers import SNIFF_BYTES, _sniff_delimiter, bounded_lines, detect_encoding
from xiezuo.core.tabular.spec import Column, Spec, parse_cell

DTYPES: dict[str, Any] = {
    "text": pl.String,
    "name": pl.String,
    "code": pl.String,
    "raw": pl.Object,
    "year": pl.Int32,
    "int": pl.Int64,
    "money": pl.Int64,
    "date": pl.Date,
}


@dataclass
class Batch:
    """Rows of one source: parsed values by column key (``frame``), parse errors by row index."""

    source: str
    seq0: int
    labels: tuple[str, ...]
    positions: dict[str, int]
    row_numbers: list[int]
    frame: pl.DataFrame  # one column per spec key (null where the sheet has no such column)
    ids: pl.Series | list[Any]  # the raw ID cells, for the vectorised validator
    errors: dict[int, list[CellError]] = field(default_factory=dict)
    raw: list[list[Any]] | None = None  # original cells, only when asked for (error report)

    def __len__(self) -> int:
        return len(self.row_numbers)


def _empty_frame(spec: Spec, n: int) -> dict[str, pl.Series]:
    return {
        c.key: pl.repeat(None, n, dtype=DTYPES.get(c.kind, pl.String), eager=True).alias(c.key)
        for c in spec.columns
        if c.kind != "raw"
    }


# --- the row parser, gathered into batches ---------------------------------------------------


def _row_batches(
    path: Path, spec: Spec, summary_out: list[Summary], size: int, keep_raw: bool
) -> Iterator[Batch]:
    rows, summary = parse(path, spec)
    summary_out.append(summary)
    seq = 0
    for source, group in itertools.groupby(rows, key=lambda r: r.source):
        while chunk := list(itertools.islice(group, size)):
            yield _batch_of_rows(source, seq, chunk, spec, keep_raw)
            seq += len(chunk)


def _batch_of_rows(source: str, seq0: int, rows: list[ParsedRow], spec: Spec, keep_raw: bool) -> Batch:
    cols: dict[str, pl.Series] = {}
    for c in spec.columns:
        if c.kind == "raw":
            continue
        vals = [r.values.get(c.key) for r in rows]
        cols[c.key] = pl.Series(c.key, vals, dtype=DTYPES.get(c.kind, pl.String), strict=False)
    return Batch(
        source=source,
        seq0=seq0,
        labels=rows[0].labels,
        positions=rows[0].positions,
        row_numbers=[r.row_number for r in rows],
        frame=pl.DataFrame(cols),
        ids=[r.values.get("id_number") for r in rows],
        errors={i: list(r.errors) for i, r in enumerate(rows) if r.errors},
        raw=[r.raw for r in rows] if keep_raw else None,
    )


# --- the column reader for plain CSV tables --------------------------------------------------


@dataclass
class _Plain:
    encoding: str
    delimiter: str
    header: Any
    width: int


def _plain_csv(path: Path, spec: Spec) -> _Plain | None:
    """A CSV whose header is its first row and whose text is UTF-8: read it by columns."""
    if path.suffix.lower() != ".csv":
        return None
    check(path, path.name)  # by content, before polars sees it (ADR 0011)
    with path.open("rb") as fh:
        head_bytes = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(head_bytes)
    if encoding not in ("utf-8", "utf-8-sig"):
        return None
    sample = codecs.getincrementaldecoder(encoding)("replace").decode(head_bytes, final=False)
    delimiter = _sniff_delimiter(sample)
    with path.open(encoding=encoding, errors="replace", newline="") as text:
        lines = bounded_lines(text, path.name, Limits.from_env().max_line_chars)
        head = list(
            itertools.islice(enumerate(csv.reader(lines, delimiter=delimiter), start=1), HEADER_SCAN_ROWS)
        )
    if head and len(head[0][1]) > Limits.from_env().max_columns:
        return None  # the row reader refuses it with its message
    header = find_header(head, spec)
    if header is None or header.first_row != 1 or header.last_row != 1:
        return None
    return _Plain(encoding, delimiter, header, len(head[0][1]))


def _scan_plain(path: Path, plain: _Plain) -> pl.LazyFrame:
    """Every cell of a plain CSV as text, as it is written."""
    return pl.scan_csv(
        path,
        has_header=True,
        separator=plain.delimiter,
        infer_schema=False,
        empty_string_is_null=False,
        truncate_ragged_lines=True,
        encoding="utf8",
    )


def _parse_column(column: Column, text: pl.Series, unit: str | None) -> tuple[pl.Series, pl.Series]:
    """Values and error numbers (index into the returned message list via ``_ERRS``) of a column.

    Each distinct cell text is parsed once with ``parse_cell``; the results are joined back.
    """
    n = text.len()
    plain: pl.Series | None = None
    plain_values: pl.Series | None = None
    if column.kind in ("text", "name"):
        # Cells of letters, digits and CJK only (no space, dot, full-width form or blank marker)
        # come out of clean_text / clean_name unchanged: they skip the per-value parse.
        plain = text.str.contains(_PLAIN) & ~text.str.to_lowercase().is_in(_BLANKS)
        if column.pattern is not None:  # a cell outside the column's character set gets its message
            plain = plain & text.str.contains(column.pattern)
        plain_values = text
    elif column.kind == "money":
        # Whole amounts in ASCII digits are int × the unit in fen, as parse_money makes them
        # (never negative, never blank): only the other cells are parsed one by one.
        fen = values.MONEY_UNITS[unit or column.unit] * 100
        # At most 19 - len(str(fen)) digits: the fen fit in 64 bits.
        plain = text.str.contains(rf"^[0-9]{{1,{19 - len(str(fen))}}}$")
        plain_values = text.str.to_integer(strict=False) * fen
    if plain is not None and plain_values is not None:
        if plain.all():
            return plain_values.alias(column.key), pl.repeat(None, n, dtype=pl.Int32, eager=True)
        distinct = text.filter(~plain).unique().to_list()
    else:
        distinct = text.unique().to_list()
    parsed: list[Any] = []
    errs: list[int | None] = []
    for raw in distinct:
        try:
            value = parse_cell(column, raw, unit=unit)
        except values.Invalid as exc:
            parsed.append(None)
            errs.append(_err_id(exc.code, exc.message_zh, exc.message_en))
            continue
        if isinstance(value, values.MonthDate):
            value = _plain_date(value)
        if column.required and (value is None or (isinstance(value, str) and not value.strip())):
            errs.append(_err_id("required", "不能为空", f"{column.key} is required"))
        else:
            errs.append(None)
        parsed.append(value)
    mapping = pl.DataFrame(
        {
            "raw": pl.Series(distinct, dtype=pl.String),
            "value": pl.Series(parsed, dtype=DTYPES[column.kind], strict=False),
            "err": pl.Series(errs, dtype=pl.Int32),
        }
    )
    joined = text.to_frame("raw").join(mapping, on="raw", how="left", maintain_order="left")
    if plain is not None and plain_values is not None:
        joined = joined.with_columns(
            value=pl.when(pl.Series(plain)).then(plain_values).otherwise(pl.col("value"))
        )
    return joined["value"].alias(column.key), joined["err"]


_PLAIN = r"^[0-9A-Za-z\x{3400}-\x{9fff}]+$"
_BLANKS = sorted(values.BLANKS)


_ERRS: list[tuple[str, str, str]] = []
_ERR_IDS: dict[tuple[str, str, str], int] = {}


def _err_id(code: str, zh: str, en: str) -> int:
    key = (code, zh, en)
    if key not in _ERR_IDS:
        _ERR_IDS[key] = len(_ERRS)
        _ERRS.append(key)
    return _ERR_IDS[key]


def _plain_date(value: Any) -> Any:
    import datetime as dt

    return dt.date(value.year, value.month, value.day)


# A total row says 合计/小计/总计 and a footer "填报人：…" (classify_row decides): rows with neither
# these characters nor a blank first cell are data, found without looking at them one by one.
_SUSPECT = [":", "：", "计"]
_BLANK = r"^\s*$"


def _suspect_rows(chunk: pl.DataFrame) -> pl.Series:
    """Positions of the rows that may be total, footer or empty rows (a superset: classify_row
    decides). Every column is searched for the characters of totals and footers; only rows whose
    first cell is blank are searched for being blank throughout."""
    names = chunk.columns
    marked = pl.any_horizontal([pl.col(c).str.contains_any(_SUSPECT) for c in names])
    first_blank = pl.col(names[0]).str.contains(_BLANK)
    hit = chunk.select((marked | first_blank).alias("s"))["s"].arg_true()
    if not len(hit):
        return hit
    part = chunk.select(pl.all().gather(hit))
    blank = pl.all_horizontal([pl.col(c).str.contains(_BLANK) for c in names])
    return hit.filter(part.select((marked | blank).alias("s"))["s"])


def _column_batches(
    path: Path,
    spec: Spec,
    plain: _Plain,
    summary_out: list[Summary],
    size: int,
    keep_raw: bool,
    unit: str | None,
    raw_only: Collection[int] | None = None,
) -> Iterator[Batch]:
    header = plain.header
    source = path.name
    summary = Summary()
    summary_out.append(summary)
    summary.sources.append(source)
    summary.encodings[source] = plain.encoding
    summary.header_rows[source] = (1, 1)
    units: dict[str, UnitUsed] = {}
    for column in spec.columns:
        if column.kind == "money" and column.key in header.columns:
            label = header.labels[header.columns[column.key]]
            if column.key in header.header_units:
                units[column.key] = UnitUsed(header.header_units[column.key], "header", label)
            elif unit:
                units[column.key] = UnitUsed(unit, "argument", label)
            else:
                units[column.key] = UnitUsed(column.unit, "default", label)
    summary.units[source] = units
    summary.ignored_columns[source] = [h for h in header.ignored if norm_header(h) not in IGNORED_HEADERS] + [
        h for h in header.ignored if norm_header(h) in IGNORED_HEADERS
    ]
    summary.missing_columns[source] = [c.header for c in header.missing]
    meta: dict[str, Any] = {}
    summary.sheet_meta[source] = meta
    labels = tuple(header.labels)
    matched = [(spec.column(k), p) for k, p in header.columns.items()]
    missing_required = [c for c in header.missing if c.required]
    missing_errors = [
        CellError(
            0,
            c.header,
            "missing_column",
            f"表中缺少必填列「{c.header}」",
            f"required column {c.key} is missing",
        )
        for c in missing_required
    ]
    positions = {column.key: position for column, position in matched}
    scan = _scan_plain(path, plain)
    seq = 0
    line = 1  # the header row
    wanted_seqs = pl.Series(sorted(raw_only or ()), dtype=pl.Int64)
    for chunk in scan.collect_batches(chunk_size=size):
        n = chunk.height
        numbers = pl.int_range(line + 1, line + 1 + n, eager=True)
        line += n
        chunk = chunk.with_columns(pl.all().fill_null(""))
        names = chunk.columns
        suspect = _suspect_rows(chunk)
        keep = pl.repeat(True, n, eager=True)
        if len(suspect):
            flags = keep.to_list()
            for i in suspect.to_list():
                cells = list(chunk.row(i))
                reason = classify_row(cells)
                if reason is not None:
                    flags[i] = False
                    summary.skipped[reason] += 1
                    if reason == "footer":
                        for key, value in row_meta(cells).items():
                            meta.setdefault(key, value)
            keep = pl.Series(flags)
            chunk = chunk.filter(keep)
            numbers = numbers.filter(keep)
        m = chunk.height
        if m == 0:
            continue
        if raw_only is not None:
            # Only the original cells of some rows (the error report): no parsing.
            wanted = pl.int_range(seq, seq + m, eager=True).is_in(wanted_seqs.implode()).arg_true().to_list()
            raw: list[list[Any] | None] = [None] * m
            for i in wanted:
                raw[i] = list(chunk.row(i))
            yield Batch(
                source=source,
                seq0=seq,
                labels=labels,
                positions=positions,
                row_numbers=numbers.to_list(),
                frame=pl.DataFrame(),
                ids=[],
                raw=raw,  # type: ignore[arg-type]
            )
            seq += m
            continue
        cols = _empty_frame(spec, m)
        errors: dict[int, list[CellError]] = {}
        err_columns: list[tuple[int, pl.Series, str]] = []
        ids: pl.Series = pl.repeat(None, m, dtype=pl.String, eager=True).alias("id_number")
        for column, position in matched:
            text = (
                chunk.get_column(names[position]) if position < len(names) else pl.repeat("", m, eager=True)
            )
            label = labels[position] or column.header
            if column.kind == "raw":
                ids = text
                continue
            value, err = _parse_column(column, text, units[column.key].unit if column.key in units else None)
            cols[column.key] = value
            if err.null_count() < m:
                err_columns.append((position, err, label))
        number_list = numbers.to_list()
        for position, err, label in err_columns:
            idx = err.is_not_null().arg_true().to_list()
            codes = err.gather(idx).to_list()
            for i, e in zip(idx, codes, strict=True):
                code, zh, en = _ERRS[e]
                errors.setdefault(i, []).append(CellError(number_list[i], label, code, zh, en, position))
        if missing_errors:
            for i in range(m):
                errors.setdefault(i, []).extend(
                    CellError(number_list[i], e.column_header, e.code, e.message_zh, e.message_en)
                    for e in missing_errors
                )
        # Errors in the order the row parser gives them: by the matched column order.
        order = {p: k for k, (_, p) in enumerate(matched)}
        for errs in errors.values():
            errs.sort(key=lambda e: order.get(e.column, len(order)) if e.column is not None else len(order))
        summary.read += m
        summary.rejected += len(errors)
        summary.accepted += m - len(errors)
        yield Batch(
            source=source,
            seq0=seq,
            labels=labels,
            positions=positions,
            row_numbers=number_list,
            frame=pl.DataFrame(cols),
            ids=ids,
            errors=errors,
            raw=[list(r) for r in chunk.iter_rows()] if keep_raw else None,
        )
        seq += m


def plain_rows(
    path: Path, spec: Spec, numbers: Collection[int]
) -> tuple[tuple[str, ...], dict[str, int], dict[int, list[Any]]] | None:
    """The original cells of the rows ``numbers`` of a plain CSV, numbered as the column reader
    numbers them (the header is row 1, every record one row), with the header's labels and the
    columns' positions; ``None`` when the file is not a plain CSV. One filtered scan: no cell is
    parsed, and title, total or blank rows need not be recognised again to count rows."""
    plain = _plain_csv(path, spec)
    if plain is None:
        return None
    wanted = pl.Series(sorted(numbers), dtype=pl.Int64)
    found = (
        _scan_plain(path, plain)
        .with_row_index("__row", offset=2)
        .filter(pl.col("__row").cast(pl.Int64).is_in(wanted.implode()))
        .collect()
        .with_columns(pl.all().exclude("__row").fill_null(""))
    )
    cells = {int(row[0]): list(row[1:]) for row in found.iter_rows()}
    return tuple(plain.header.labels), dict(plain.header.columns), cells


def read_batches(
    path: Path,
    spec: Spec,
    summary_out: list[Summary],
    *,
    size: int,
    keep_raw: bool = False,
    unit: str | None = None,
    raw_only: Collection[int] | None = None,
) -> Iterator[Batch]:
    """Batches of at most ``size`` rows of every source of ``path``; ``summary_out`` receives the
    parse summary (complete once the batches are exhausted). With ``raw_only`` (row ``seq``
    numbers) a plain CSV is not parsed: batches carry the original cells of those rows only."""
    plain = _plain_csv(path, spec)
    if plain is not None:
        yield from _column_batches(path, spec, plain, summary_out, size, keep_raw, unit, raw_only)
    else:
        yield from _row_batches(path, spec, summary_out, size, keep_raw or raw_only is not None)
