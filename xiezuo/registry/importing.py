"""The registry import (DESIGN.md §4, D9): parse → normalise → validate → dedupe → stage → merge.

Counts always add up: read = accepted + rejected, and accepted = created + updated + unchanged
(people). Every rejected row is kept with its row number, column and a Chinese reason, and can be
written to an error report the clerk fixes and imports again. Re-importing the same file changes
nothing; a killed import run again ends as a clean run does (staging starts afresh, the merge is
an idempotent upsert in short transactions).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import polars.selectors as cs
from django.db import DatabaseError, connection, transaction

from xiezuo.core import audit, crypto, pgcopy
from xiezuo.core.crypto import get_cipher
from xiezuo.core.imports import pipeline
from xiezuo.core.imports.result import ImportRefused, ImportResult
from xiezuo.core.scope import Scope, scope_for
from xiezuo.core.sqlite_writer import SqliteWriter, insert_arrow
from xiezuo.core.tabular import Summary
from xiezuo.core.tabular.errors import CellError, ParsedRow, write_errors
from xiezuo.regions.models import CodeHistory, Region
from xiezuo.registry import rules
from xiezuo.registry.batches import Batch, plain_rows, read_batches
from xiezuo.registry.columns import REGISTRY
from xiezuo.registry.idnumbers import (
    MESSAGES_EN,
    MESSAGES_ZH,
    known_address_codes,
    truncated_column,
    validate_ids,
)
from xiezuo.registry.models import Dataset, Household, HouseholdStatus, Member

# Rows read, validated, sealed and staged at a time (memory grows with it; smaller on a small machine).
BATCH = int(os.environ.get("XIEZUO_IMPORT_BATCH_ROWS") or 100_000)
MERGE_HOUSEHOLDS = 1_000_000  # households merged per transaction
DEFER_MIN_HOUSEHOLDS = 100_000  # an initial load bigger than this builds its indexes afterwards
CRYPTO_WORKERS = 2  # processes sealing personal data (keyed hashes, AES-GCM) of big batches
CRYPTO_POOL_MIN_ROWS = 50_000  # smaller batches are sealed in-process
# SQLite's page cache of the import's temporary tables while merging (MB; its default is 2 MB).
SQLITE_MERGE_CACHE_MB = int(os.environ.get("XIEZUO_SQLITE_MERGE_CACHE_MB") or 256)
# SQLite's helper threads for one statement's big sort (CREATE INDEX, GROUP BY, ORDER BY) while
# merging and building indexes; its default is none. 10 M rows, 2 cores: a unique index on a
# 64-character hash 11.7 -> 7.1 s with 2, 6.7 s with 4.
SQLITE_SORT_THREADS = int(os.environ.get("XIEZUO_SQLITE_SORT_THREADS") or 4)
Progress = Callable[[int, int | None, str], None]
log = logging.getLogger(__name__)


@dataclass
class RegistryImportResult(ImportResult):
    """The pipeline's result (counts of people) with the registry's own figures."""

    households_created: int = 0
    households_updated: int = 0
    data_year: int | None = None
    as_of: dt.date | None = None
    dataset_id: int | None = None
    households_without_head: int = 0
    households_several_heads: int = 0

    def details(self) -> dict[str, Any]:
        return {
            "households": {
                "created": self.households_created,
                "updated": self.households_updated,
                "without_head": self.households_without_head,
                "several_heads": self.households_several_heads,
            },
            "data_year": self.data_year,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "dataset": self.dataset_id,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RegionResolver:
    """12-digit codes of villages or townships, of the current year or mapped through the code
    history (an abolished county's code is replaced by its one successor), or 乡镇 + 村 names
    inside the importing user's county."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._known: dict[int, set[int]] = {}
        self._successor: dict[int, int] | None = None
        self._names: dict[tuple[str, str], int] | None = None

    def _successors(self) -> dict[int, int]:
        if self._successor is None:
            out: dict[int, int] = {}
            in_use = set(CodeHistory.objects.filter(in_use=True).values_list("code", flat=True))
            for code, succ in CodeHistory.objects.filter(in_use=False).values_list("code", "successors"):
                targets = {int(s[0]) for s in succ if int(s[0]) in in_use}
                if len(targets) == 1 and code not in in_use:
                    out[code] = targets.pop()
            self._successor = out
        return self._successor

    def _exists(self, code: int) -> int | None:
        """Whether a township or village code exists; codes are loaded a county at a time."""
        county = code // 10**6
        known = self._known.get(county)
        if known is None:
            low = county * 10**6
            known = self._known[county] = set(
                Region.objects.filter(level__gte=4, code__gte=low, code__lt=low + 10**6).values_list(
                    "code", flat=True
                )
            )
        return code if code in known else None

    def by_code(self, text: str) -> int | None:
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 9:
            digits += "000"
        if len(digits) != 12:
            return None
        code = int(digits)
        if self._exists(code):
            return code
        county = code // 10**6
        new = self._successors().get(county)
        if new is not None:
            moved = new * 10**6 + code % 10**6
            return self._exists(moved)
        return None

    def by_names(self, township: str, village: str) -> int | None:
        if self._names is None:
            self._names = {}
            counties = [(low, high) for low, high in self.scope.ranges if high - low <= 10**6]
            for low, high in counties:
                towns = dict(
                    Region.objects.filter(level=4, code__gte=low, code__lt=high).values_list("code", "name")
                )
                villages = Region.objects.filter(level=5, code__gte=low, code__lt=high).values_list(
                    "code", "name"
                )
                for code, name in villages:
                    town = towns.get(code // 1000 * 1000)
                    if town:
                        self._names[
                            (place_key(town, TOWNSHIP_SUFFIXES), place_key(name, VILLAGE_SUFFIXES))
                        ] = code
        key = (place_key(township, TOWNSHIP_SUFFIXES), place_key(village, VILLAGE_SUFFIXES))
        return self._names.get(key)


TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会")


def place_key(name: str, suffixes: tuple[str, ...]) -> str:
    """A township or village name without its administrative suffix, for matching names as typed.

    >>> place_key("武场村村民委员会", VILLAGE_SUFFIXES), place_key("武场村", VILLAGE_SUFFIXES)
    ('武场村', '武场村')
    >>> place_key("下板城镇", TOWNSHIP_SUFFIXES), place_key(" 下板城 ", TOWNSHIP_SUFFIXES)
    ('下板城', '下板城')
    """
    text = "".join(name.split())
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


KEY_OF_HEADER = {c.header: c.key for c in REGISTRY.columns}


def _cell_error(batch: Batch, i: int, header: str, zh: str, en: str, code: str) -> CellError:
    """An error found after parsing, placed on the sheet's own cell (its label and position)."""
    position = batch.positions.get(KEY_OF_HEADER.get(header, ""))
    if position is None and header == "行政区划代码":
        position = batch.positions.get("village")
    labels = batch.labels
    label = labels[position] if position is not None and position < len(labels) else header
    return CellError(
        row=batch.row_numbers[i],
        column_header=label or header,
        code=code,
        message_zh=zh,
        message_en=en,
        column=position,
    )


# --- staging: validate a batch by columns, seal personal data, write it to the staging table ----

# (column, SQL type on PostgreSQL); SQLite stores the same with its own affinities.
STAGE_COLUMNS: list[tuple[str, str]] = [
    ("seq", "bigint"),
    ("source", "text"),
    ("row_number", "integer"),
    ("household_number", "text"),
    ("id_hmac", "text"),
    ("region_code", "bigint"),
    ("ok", "boolean"),
    ("errors", "text"),  # JSON [[column header, message zh, message en, position], ...]
    ("id_cipher", "text"),
    ("id_masked", "text"),
    ("name_cipher", "text"),
    ("name_hmac", "text"),
    ("name_masked", "text"),
    ("birth_date", "date"),
    ("sex", "text"),
    ("relation", "text"),
    ("attribute", "text"),
    ("main_cause", "text"),
    ("standard", "text"),
    ("registered_year", "integer"),
    ("planned_exit_year", "integer"),
    ("exit_year", "integer"),
    ("status", "text"),
    ("monitoring_type", "text"),
    ("monitoring_since", "date"),
    ("pathway", "text"),
    ("income", "bigint"),
    ("entry_reason", "text"),
    ("entered_on", "date"),
    ("leave_reason", "text"),
    ("left_on", "date"),
    ("household_id", "bigint"),  # given while reading in a direct load (DirectLoad), else null
    # A direct load's household candidates (DirectLoad.assign): on the row a household's values
    # would come from among its good rows of the batch, the batch's count of its present members
    # and the monitoring of its first monitored row; null elsewhere.
    ("head", "boolean"),
    ("part_size", "integer"),
    ("part_mon_kind", "text"),
    ("part_mon_since", "date"),
    # A direct load's other good rows whose household values (HOUSEHOLD_VALUES) are their batch
    # candidate's: that row's seq, and those values null here (written once per household, not
    # once per person); null on every other row.
    ("cand", "bigint"),
]
DIRECT_ONLY = {"head", "part_size", "part_mon_kind", "part_mon_since", "cand"}
# The values a household's row is made from (with the household id, which a direct load's rows of
# one household share anyway), and the sheet the row came from.
HOUSEHOLD_VALUES = (
    "source",
    "household_number",
    "region_code",
    "attribute",
    "main_cause",
    "standard",
    "registered_year",
    "planned_exit_year",
    "exit_year",
    "status",
    "pathway",
    "income",
)
STAGE_NAMES = [c for c, _ in STAGE_COLUMNS if c not in DIRECT_ONLY]
STAGE_TYPES = dict(STAGE_COLUMNS)
BYTE_ORDER_KEYS = frozenset({"household_number", "id_hmac", "name_hmac"})
SEALED = ("id_hmac", "id_cipher", "id_masked", "name_hmac", "name_cipher", "name_masked")
VALUE_KEYS = (
    "relation",
    "attribute",
    "main_cause",
    "standard",
    "registered_year",
    "planned_exit_year",
    "exit_year",
    "status",
    "monitoring_type",
    "monitoring_since",
    "pathway",
    "entry_reason",
    "entered_on",
    "leave_reason",
    "left_on",
)
RULE_KEYS = ("status", "registered_year", "exit_year", "leave_reason", "left_on")


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _one_of(column: str, values: list[Any]) -> tuple[str, Any]:
    """``column`` is one of ``values``: the condition and its one parameter (PostgreSQL: an array;
    SQLite: a JSON list read by json_each)."""
    if _pg():
        return f"{column} = ANY(%s)", values
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(values)


@dataclass
class Stage:
    """The import's staging tables: rows (``rows``) and, once checked, households (``households``)."""

    key: str
    keys: pl.DataFrame = field(default_factory=pl.DataFrame)
    """(seq, 60-bit prefix of id_hmac, hash of the household number) of the good rows."""
    direct: bool = False
    """Rows of a direct load: household ids given; on PostgreSQL the keyed hash is not staged but
    read from the member row (id = seq + 1) for the few rows that need it."""
    spanning: list[int] = field(default_factory=list)
    """A direct load's households with rows in more than one batch (their candidates are partial)."""
    rejected_later: set[int] = field(default_factory=set)
    """The seqs of the rows rejected after they were read (set_errors): the only rejected rows a
    direct load wrote to the member table, and the only ones whose household ids were given."""

    @property
    def rows(self) -> str:
        return f"registry_stage_{self.key[:16]}"

    @property
    def households(self) -> str:
        return f"registry_stage_hh_{self.key[:16]}"

    @property
    def recount(self) -> str:
        """A direct load's households whose values come from all their rows, not a candidate."""
        return f"registry_stage_rc_{self.key[:16]}"

    def drop(self) -> None:
        with connection.cursor() as cursor:
            for table in (self.rows, self.households, self.recount):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def create(self) -> None:
        self.drop()
        with connection.cursor() as cursor:
            if _pg():
                # Keys byte by byte, as in the registry's tables (ByteOrderCharField).
                cols = ", ".join(
                    f'{c} {t} COLLATE "C"' if c in BYTE_ORDER_KEYS else f"{c} {t}" for c, t in STAGE_COLUMNS
                )
                # Written once and dropped after the import: autovacuum would only scan it meanwhile.
                cursor.execute(
                    f"CREATE UNLOGGED TABLE {self.rows} ({cols}) WITH (autovacuum_enabled = false)"
                )
            else:
                cols = ", ".join(
                    "seq INTEGER PRIMARY KEY" if c == "seq" else f"{c} {t}" for c, t in STAGE_COLUMNS
                )
                cursor.execute(f"CREATE TEMP TABLE {self.rows} ({cols})")

    def write(self, frame: pl.DataFrame, names: list[str] = STAGE_NAMES) -> None:
        """Binary COPY (PostgreSQL) or insert_arrow (SQLite) of a batch's rows."""
        frame = frame.select(names)
        with connection.cursor() as cursor:
            if _pg():
                # A direct load's narrowed rows (most of them) apart from the others, each COPY
                # without the columns null throughout: a NULL costs the server a field all the
                # same (2 M staging rows: 1.06 -> 0.79 server CPU-s, 1.47 -> 1.04 s).
                narrow = frame["cand"].is_not_null() if "cand" in names else None
                for part in (frame,) if narrow is None else (frame.filter(narrow), frame.filter(~narrow)):
                    part = without_null_columns(part)
                    if part.height:
                        pgcopy.copy_frame(
                            cursor.cursor, self.rows, part, [STAGE_TYPES[c] for c in part.columns]
                        )
            else:
                # On the sqlite3 connection itself: Django's cursor would copy every row (tee).
                insert_arrow(connection.connection, self.rows, frame.to_arrow())

    def set_errors(self, errors: dict[int, list[list[Any]]]) -> None:
        """Reject the rows ``seq → errors`` (appended to any errors they had)."""
        if not errors:
            return
        self.rejected_later.update(errors)
        with connection.cursor() as cursor:
            where, param = _one_of("seq", list(errors))
            cursor.execute(f"SELECT seq, errors FROM {self.rows} WHERE {where}", [param])
            old = {seq: json.loads(e) if e else [] for seq, e in cursor.fetchall()}
            new = [(json.dumps([*old.get(s, []), *e], ensure_ascii=False), s) for s, e in errors.items()]
            if _pg():
                cursor.execute(
                    f"UPDATE {self.rows} AS s SET ok = false, errors = v.e "
                    "FROM unnest(%s::text[], %s::bigint[]) AS v(e, seq) WHERE s.seq = v.seq",
                    [[e for e, _ in new], [s for _, s in new]],
                )
            else:
                cursor.executemany(f"UPDATE {self.rows} SET ok = 0, errors = %s WHERE seq = %s", new)

    def fetch(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(rows=self.rows, hh=self.households, rc=self.recount), params or [])
            return list(cursor.fetchall())

    def execute(self, sql: str, params: list[Any] | None = None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql.format(rows=self.rows, hh=self.households, rc=self.recount), params or [])
            return int(cursor.rowcount or 0)


def without_null_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without its columns that are null on every row (a COPY leaves them null)."""
    return frame.select(c for c in frame.columns if frame[c].null_count() < frame.height)


def _seal(ids: pl.Series, names: pl.Series) -> tuple[pl.Series, ...]:
    """Keyed hashes and ciphertexts of ID numbers and names (runs in the crypto workers): raw
    digests and token bodies (:func:`_sealed_text` makes them text) when the backend gives them,
    else the text itself. Columns in and out: a polars column crosses the process boundary as
    Arrow buffers, a list of Python strings as one object per value (three times the hand-over
    time in the importing process)."""
    # No polars expressions here: a worker is forked from a process whose polars thread pool it
    # does not inherit, and an expression that waits for that pool hangs the import (masks made
    # here did, 2026-12-04). Building, slicing and listing columns is fine.
    cipher = get_cipher()
    id_list, name_list = ids.to_list(), names.to_list()
    digests, bodies = getattr(cipher, "hmac_digests", None), getattr(cipher, "seal_many", None)
    if digests is not None and bodies is not None:
        return tuple(
            pl.Series(values, dtype=pl.Binary)
            for values in (digests(id_list), bodies(id_list), digests(name_list), bodies(name_list))
        )
    encrypt_many = getattr(cipher, "encrypt_many", None)
    if encrypt_many is None:  # a backend without the batch method
        encrypt_many = lambda texts: [cipher.encrypt(x) for x in texts]  # noqa: E731
    return tuple(
        pl.Series(values, dtype=pl.String)
        for values in (
            cipher.hmac_many(id_list),
            encrypt_many(id_list),
            cipher.hmac_many(name_list),
            encrypt_many(name_list),
        )
    )


def _sealed_text(sealed: tuple[pl.Series, ...]) -> tuple[pl.Series, ...]:
    """``_seal``'s columns as stored (in the importing process): hex HMACs, ``key:base64`` tokens."""
    if all(s.dtype == pl.String for s in sealed):
        return sealed
    key_id = get_cipher().current_key_id
    id_hmac, id_body, name_hmac, name_body = sealed
    return (
        crypto.hex_column(id_hmac),
        crypto.token_column(key_id, id_body),
        crypto.hex_column(name_hmac),
        crypto.token_column(key_id, name_body),
    )


def _mask_expr(col: str, lengths: list[int], keep_head: int, keep_tail: int) -> pl.Expr:
    """``mask_id`` (head 6, tail 2) or ``mask_name`` (head 1) as a polars expression, one branch
    per distinct length (a handful)."""
    x = pl.col(col)
    n = x.str.len_chars()
    expr: Any = None
    for length in sorted(lengths):
        if length <= keep_head + keep_tail:
            value = pl.lit("*" * length)
        else:
            parts = [x.str.slice(0, keep_head), pl.lit("*" * (length - keep_head - keep_tail))]
            if keep_tail:
                parts.append(x.str.slice(length - keep_tail, keep_tail))
            value = pl.concat_str(parts)
        expr = pl.when(n == length).then(value) if expr is None else expr.when(n == length).then(value)
    return expr.otherwise(None) if expr is not None else pl.lit(None, dtype=pl.String)


def _masks(ids: pl.Series, names: pl.Series) -> tuple[pl.Series, pl.Series]:
    """``mask_id`` and ``mask_name`` of whole columns (see xiezuo.core.crypto)."""
    frame = pl.DataFrame({"i": ids, "n": names.str.strip_chars()})
    id_lengths = frame["i"].str.len_chars().unique().drop_nulls().to_list()
    name_lengths = frame["n"].str.len_chars().unique().drop_nulls().to_list()
    # mask_id keeps everything but stars up to 8 characters; mask_name keeps the family name.
    id_expr = (
        pl.when(pl.col("i").str.len_chars() <= 8)
        .then(pl.col("i").str.replace_all(".", "*"))
        .otherwise(_mask_expr("i", [x for x in id_lengths if x > 8], 6, 2))
    )
    out = frame.select(id_expr.alias("id_masked"), _mask_expr("n", name_lengths, 1, 0).alias("name_masked"))
    return out["id_masked"], out["name_masked"]


def _crypto_worker_signals() -> None:
    """A crypto worker's signals as a plain process has them. It is forked with its parent's
    handlers — `xiezuo worker`'s SIGTERM only sets a flag, the test session's raises
    KeyboardInterrupt — and the pool ends its workers with SIGTERM, then waits for them: a test
    session hung in Sealer.close with one worker ended and the other, which caught SIGTERM, still
    waiting for the task queue's lock. Ctrl-C goes to the importing process, which ends the pool."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Sealer:
    """Seals a batch in-process, or (big batches) split over a pool of worker processes while the
    main process reads and validates the next batch."""

    def __init__(self) -> None:
        self._pool: Any = None

    def submit(self, ids: pl.Series, names: pl.Series) -> Callable[[], tuple[pl.Series, ...]]:
        if len(ids) < CRYPTO_POOL_MIN_ROWS or CRYPTO_WORKERS < 2:
            done = _sealed_text(_seal(ids, names))
            return lambda: done
        if self._pool is None:
            get_cipher()  # keys read once, inherited by the forked workers
            self._pool = multiprocessing.get_context("fork").Pool(
                CRYPTO_WORKERS, initializer=_crypto_worker_signals
            )
        step = -(-len(ids) // CRYPTO_WORKERS)
        parts = [
            self._pool.apply_async(_seal, (ids.slice(i, step), names.slice(i, step)))
            for i in range(0, len(ids), step)
        ]

        def result() -> tuple[pl.Series, ...]:
            got = [p.get() for p in parts]
            return _sealed_text(tuple(pl.concat([g[k] for g in got], rechunk=False) for k in range(4)))

        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


class StageWriter:
    """Makes and writes staged batches. On PostgreSQL, outside a transaction, a thread with its
    own connection does it — puts the sealed columns back into the batch, gives a direct load's
    household ids, COPYs — while this process's main thread reads and validates the next batch (at
    most one batch in flight: memory stays flat). On SQLite the staging table is private to this
    connection (a temporary table), so batches are made and staged here; a direct load's member
    rows, the other half of the writing, go to the member table from a process of its own
    meanwhile (:class:`~xiezuo.core.sqlite_writer.SqliteWriter`: a thread would wait for Python's
    lock; the temporary table is a database file of its own, so the two connections do not wait
    for each other's writes). Inside a transaction another connection would not see what it
    wrote, and an in-memory database is this connection's alone: everything is done in place."""

    def __init__(self, stage: Stage, result: RegistryImportResult) -> None:
        self._stage = stage
        self._result = result
        outside = not connection.in_atomic_block
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="registry-stage") if _pg() and outside else None
        self._pending: Future[None] | None = None
        # PostgreSQL: a direct load's member rows are COPYed by a second thread on a connection of
        # its own, so that two server processes write (the staging rows and the member rows)
        # while this process reads the next batch: one of them writing both bounded the reading.
        self._member_pool = (
            ThreadPoolExecutor(1, thread_name_prefix="registry-members") if self._pool is not None else None
        )
        self._member_pending: Future[None] | None = None
        # SQLite: a direct load's member rows to a process of its own (started with the first batch).
        self._apart = not _pg() and outside and not connection.is_in_memory_db()  # type: ignore[attr-defined]
        self._members: SqliteWriter | None = None

    def _write(self, frame: pl.DataFrame, direct: DirectLoad | None) -> None:
        with transaction.atomic():
            if direct is None:
                self._stage.write(frame)
            else:
                direct.write_stage(self._stage, frame)
                direct.write_members(frame)

    def _make_and_write(self, make: Callable[[], pl.DataFrame], direct: DirectLoad | None) -> None:
        frame = make()
        if direct is not None and self._member_pool is not None:
            self._wait_for_members()
            self._member_pending = self._member_pool.submit(self._write_members, frame, direct)
            with self._result.timed("stage write"), transaction.atomic():
                direct.write_stage(self._stage, frame)
            return
        with self._result.timed("stage write"):
            self._write(frame, direct)

    def _write_members(self, frame: pl.DataFrame, direct: DirectLoad) -> None:
        with self._result.timed("member write"), transaction.atomic():
            direct.write_members(frame)

    def _wait_for_members(self) -> None:
        if self._member_pending is not None:
            with self._result.timed("stage write (waiting for the member writer)"):
                pending, self._member_pending = self._member_pending, None
                pending.result()

    def write(self, make: Callable[[], pl.DataFrame], direct: DirectLoad | None = None) -> None:
        """Make the batch (``make``, in the order batches are given) and write it."""
        if self._pool is not None:
            self.wait()
            self._pending = self._pool.submit(self._make_and_write, make, direct)
        elif self._apart and direct is not None:
            frame = make()
            with self._result.timed("stage write"), connection.cursor() as cursor:
                # Not atomic(): its BEGIN IMMEDIATE would take the database's write lock, and the
                # writing process would wait for it. A deferred transaction that writes only the
                # temporary table locks only that.
                cursor.execute("BEGIN DEFERRED")
                try:
                    direct.write_stage(self._stage, frame)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
            members = direct.member_frame(frame).with_columns(cs.date().dt.to_string("%Y-%m-%d"))
            if self._members is None:
                self._members = SqliteWriter(connection.settings_dict["NAME"], "registry_member", MEMBER_COPY)
            with self._result.timed("stage write (waiting for the writer)"):
                self._members.submit(members.to_arrow())
        else:
            self._make_and_write(make, direct)

    def wait(self) -> None:
        if self._pending is not None:
            with self._result.timed("stage write (waiting for the writer)"):
                pending, self._pending = self._pending, None
                pending.result()

    def close(self) -> None:
        """Wait for the last batch (raising its error, if any) and close the thread's connection
        or end the writing process."""
        if self._members is not None:
            members, self._members = self._members, None
            try:
                with self._result.timed("stage write (waiting for the writer)"):
                    members.close()
            except BaseException:
                members.kill()
                raise
        if self._pool is None:
            return
        try:
            self.wait()
            self._wait_for_members()
        finally:
            for pool in (self._pool, self._member_pool):
                if pool is not None:
                    pool.submit(lambda: connection.close()).result()  # the thread's own connection
                    pool.shutdown()
            self._pool = self._member_pool = None


# --- direct load: an initial load of a big file into an empty registry ---------------------------

DIRECT_MARK = "direct load"  # its record in DEFERRED_DDL while members are there without households
# Written to the member table only; the staging table keeps what the checks and households need
# (the data year is given, so the year rules that read left_on do not run again on the table).
MEMBER_ONLY = {"id_cipher", "id_masked", "name_cipher", "name_hmac", "name_masked", "birth_date", "sex"}
DIRECT_STAGE_NAMES = [
    c for c, _ in STAGE_COLUMNS if c not in MEMBER_ONLY | {"entry_reason", "entered_on", "left_on"}
]
MEMBER_COPY = (
    "id",
    "household_id",
    "id_hmac",
    "id_cipher",
    "id_masked",
    "name_cipher",
    "name_hmac",
    "name_masked",
    "birth_date",
    "sex",
    "relation",
    "region_code",
    "entered_on",
    "entry_reason",
    "left_on",
    "leave_reason",
    "last_dataset_id",
)


class HouseholdIds:
    """Household ids given in the order numbers are first seen: ``first_id`` + position.

    Kept as the numbers in that order and, sorted, their 64-bit hashes with each one's position:
    a batch's numbers are looked up by binary search and confirmed by comparing the numbers
    themselves (two numbers may share a hash). About 60 MB and 0.1 s per batch at 3 M households;
    a polars join against all the numbers seen took 47 s over a 10 M-person file."""

    def __init__(self, first_id: int) -> None:
        self.first_id = first_id
        self.hashes = np.empty(0, dtype=np.uint64)  # sorted
        self.where = np.empty(0, dtype=np.int64)  # each sorted hash's position in ``numbers``
        self.numbers = pl.Series("number", [], dtype=pl.String)
        self.seen_again: list[np.ndarray] = []  # ids of numbers met again in a later batch

    def __len__(self) -> int:
        return len(self.numbers)

    @staticmethod
    def hash(numbers: pl.Series) -> np.ndarray:
        return numbers.hash().to_numpy()

    def ids(self, numbers: pl.Series) -> pl.Series:
        """The id of each number (new numbers get the next ids, in the order they come)."""
        uniq = numbers.unique(maintain_order=True)
        h = self.hash(uniq)
        lo = np.searchsorted(self.hashes, h, "left")
        hi = np.searchsorted(self.hashes, h, "right")
        pos = np.full(len(uniq), -1, dtype=np.int64)
        hit = np.flatnonzero(hi > lo)
        if len(hit):
            seen = self.where[lo[hit]]
            same = (self.numbers.gather(seen) == uniq.gather(hit)).to_numpy()
            pos[hit[same]] = seen[same]
            for i in hit[~same]:  # the first number of that hash was another: look at the rest
                for j in range(lo[i] + 1, hi[i]):
                    if self.numbers[int(self.where[j])] == uniq[int(i)]:
                        pos[i] = self.where[j]
        if (pos >= 0).any():
            self.seen_again.append(pos[pos >= 0] + self.first_id)
        new = np.flatnonzero(pos < 0)
        if len(new):
            pos[new] = np.arange(len(self.numbers), len(self.numbers) + len(new))
            order = np.argsort(h[new], kind="stable")
            at = np.searchsorted(self.hashes, h[new][order], "right")
            self.hashes = np.insert(self.hashes, at, h[new][order])
            self.where = np.insert(self.where, at, pos[new][order])
            self.numbers.append(uniq.gather(new))
        table = pl.DataFrame({"number": uniq, "id": pos + self.first_id})
        return pl.DataFrame({"number": numbers}).join(table, on="number", how="left", maintain_order="left")[
            "id"
        ]


def narrow_stage_rows(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """A direct load's staging rows (columns ``names``, after DirectLoad.assign): a good row other
    than its household's candidate, with the candidate's household values (HOUSEHOLD_VALUES), has
    them null and points to the candidate (``cand``) — 10 M people in 3 M households: 7 M rows
    without 12 values each. The rows the merge or the report reads them from (heads chosen
    afresh, repeated people, rows rejected later) find them on the candidate."""
    # The candidate's position for each good row of a household (null elsewhere).
    where = (
        frame.select("household_id", "head")
        .with_row_index("i")
        .select(
            pl.col("i").filter(pl.col("head").fill_null(False)).first().over("household_id").alias("c"), "i"
        )
    )
    cand = where["c"]
    narrow = (cand.is_not_null() & (cand != where["i"])).fill_null(False)
    pick = cand.fill_null(0)
    for column in HOUSEHOLD_VALUES:
        values = frame[column]
        narrow &= values.eq_missing(values.gather(pick))
    return frame.select(
        *[
            pl.when(narrow).then(None).otherwise(pl.col(c)).alias(c) if c in HOUSEHOLD_VALUES else pl.col(c)
            for c in names
            if c != "cand"
        ],
        cand=pl.when(narrow).then(frame["seq"].gather(pick)),
    ).select(names)


class DirectLoad:
    """The good rows of each batch go straight into the member table (the registry is empty and
    its indexes and constraints are deferred), not through the staging table and a second
    INSERT … SELECT of ten million wide rows. Household ids are given while reading (a household's
    number gets the next id when first seen) and member ids are the row's ``seq`` + 1, so the
    merge finds both without a join, and rows the checks across rows reject afterwards are
    deleted by id before the merge (ADR 0008).

    Killed before the merge's last transaction committed, what it wrote is there without the rest:
    the record ``DIRECT_MARK`` says so and :func:`restore_indexes` (run by every import first)
    deletes it, which leaves the registry empty as it was."""

    def __init__(self, dataset_id: int) -> None:
        self.dataset_id = dataset_id
        # Every good row goes to the member table (a repeated person too, until the checks across
        # rows reject it), so the keyed hash, 64 characters a row, is read from there (by id).
        self.stage_names = [c for c in DIRECT_STAGE_NAMES if c != "id_hmac"]
        self.building: list[Future[None]] = []  # index builds of tables already final (indexes_meanwhile)
        self.member_types: list[str] = []  # PostgreSQL: the member columns' types, for binary COPY
        with connection.cursor() as cursor:
            if _pg():
                self.member_types = pgcopy.column_types(cursor.cursor, "registry_member", MEMBER_COPY)
                cursor.execute("SELECT nextval(pg_get_serial_sequence('registry_household', 'id'))")
            else:
                # Members come before their households: SQLite checks foreign keys at each commit
                # unless they are off (outside a transaction only); foreign_keys_back checks them after.
                cursor.execute("PRAGMA foreign_keys = OFF")
                cursor.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name = 'registry_household'"
                )
            self.households = HouseholdIds(int(cursor.fetchone()[0]))
            _ensure_ddl_table()
            defer_indexes()
            cursor.execute(
                f"INSERT INTO {DEFERRED_DDL} (name, tbl, kind, ddl) VALUES (%s, %s, 'direct', '') "
                "ON CONFLICT (name) DO NOTHING",
                [DIRECT_MARK, "registry_member"],
            )

    def assign(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The batch with the household ids of its good rows, and each household's candidate:
        the row its values come from (the head's, else its first), flagged ``head``, with the
        batch's count of its present members and the monitoring of its first monitored row — what
        _build_households would find among all its rows, if they are all in this batch and the
        checks across rows reject none of them (else it looks at them all, Stage.recount)."""
        good = frame["ok"]
        ids = self.households.ids(frame["household_number"].filter(good))
        frame = frame.with_columns(household_id=_on_good_rows(ids, good.arg_true(), frame.height))
        seq = pl.col("seq")
        monitored = ~_blank("monitoring_type")  # the batch's rows are in seq order: first = least seq
        candidates = (
            frame.filter(pl.col("ok"))
            .group_by("household_id")
            .agg(
                seq.filter(pl.col("relation") == "01").min().fill_null(seq.min()),
                part_size=_blank("leave_reason").sum().cast(pl.Int32),
                part_mon_kind=pl.col("monitoring_type").filter(monitored).first(),
                part_mon_since=pl.col("monitoring_since").filter(monitored).first(),
            )
            .select("seq", "part_size", "part_mon_kind", "part_mon_since", head=pl.lit(True))
        )
        return frame.join(candidates, on="seq", how="left", maintain_order="left")

    def write_stage(self, stage: Stage, frame: pl.DataFrame) -> None:
        """The batch's staging rows, narrowed (narrow_stage_rows)."""
        stage.write(narrow_stage_rows(frame, self.stage_names), self.stage_names)

    def spanning(self) -> list[int]:
        """The households met in more than one batch."""
        if not self.households.seen_again:
            return []
        return np.unique(np.concatenate(self.households.seen_again)).tolist()

    def member_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The batch's member rows (MEMBER_COPY)."""
        blank = ("relation", "entry_reason", "leave_reason")
        return frame.filter(pl.col("ok")).select(
            (pl.col("seq") + 1).alias("id"),
            *[pl.col(c).fill_null("") if c in blank else pl.col(c) for c in MEMBER_COPY[1:-1]],
            pl.lit(self.dataset_id, dtype=pl.Int64).alias("last_dataset_id"),
        )

    def write_members(self, frame: pl.DataFrame) -> None:
        members = self.member_frame(frame)
        if members.is_empty():
            return
        with connection.cursor() as cursor:
            if _pg():
                members = without_null_columns(members)
                types = dict(zip(MEMBER_COPY, self.member_types, strict=True))
                pgcopy.copy_frame(
                    cursor.cursor, "registry_member", members, [types[c] for c in members.columns]
                )
            else:
                # As on PostgreSQL, the unique key on the hash is deferred (the table was made
                # again without it, _sqlite_table_uniques_off): a person repeated in the file is
                # written each time until the checks across rows reject the repeats and
                # drop_rejected deletes them; finish() counts what is left.
                insert_arrow(connection.connection, "registry_member", members.to_arrow())

    def build_meanwhile(self, table: str) -> None:
        future = indexes_meanwhile(table)
        if future is not None:
            self.building.append(future)

    def wait_for_builds(self) -> None:
        """The index builds started meanwhile have ended (one that failed fails again, and is
        reported, in restore_indexes)."""
        for future in self.building:
            with contextlib.suppress(Exception):
                future.result()
        self.building = []

    @staticmethod
    def drop_rejected(stage: Stage) -> None:
        """The members the checks across rows rejected go (before the merge: the member table's
        indexes are built while it runs)."""
        # The rows rejected while reading were never written: only those rejected since go (by
        # id, not by a scan of the staging rows).
        ids = sorted(seq + 1 for seq in stage.rejected_later)
        with transaction.atomic():
            for start in range(0, len(ids), 50_000):
                where, param = _one_of("id", ids[start : start + 50_000])
                stage.execute(f"DELETE FROM registry_member WHERE {where}", [param])

    @staticmethod
    def finish(stage: Stage) -> None:
        """In the merge's transaction: the id sequences move past the ids given, the record goes."""
        if not _pg():
            written = stage.fetch("SELECT COUNT(*) FROM registry_member")[0][0]
            accepted = stage.fetch("SELECT COUNT(*) FROM {rows} WHERE ok")[0][0]
            if written != accepted:
                raise RuntimeError(f"direct load wrote {written} members for {accepted} accepted rows")
            stage.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [DIRECT_MARK])
            return
        for table in ("registry_household", "registry_member"):
            stage.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table} "
                "HAVING COUNT(*) > 0"
            )
        stage.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [DIRECT_MARK])


def foreign_keys_back() -> None:
    """SQLite, after a direct load: foreign keys on again, and every member's household there
    (what VALIDATE CONSTRAINT checks on PostgreSQL)."""
    if _pg() or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA foreign_key_check(registry_member)")
        broken = cursor.fetchall()
    if broken:
        raise RuntimeError(f"{len(broken)} members without their household after a direct load")


DIRECT_UNDO = (
    "registry_member",
    "registry_monitoring",
    "registry_householdstatus",
    "registry_householdincome",
    "registry_household",
)


def _undo_direct_load() -> None:
    """A killed direct load's rows go (the registry was empty when it began): members, and the
    households it may have committed with what hangs on them; in parts (bounded memory,
    resumable), then its record."""
    for table in DIRECT_UNDO:
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} LIMIT 500000)")
                if not cursor.rowcount:
                    break
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [DIRECT_MARK])


@dataclass
class _Context:
    data_year: int | None
    as_of: dt.date
    scope: Scope
    resolver: RegionResolver
    addresses: frozenset[int]
    region_cache: dict[str, int | None] = field(default_factory=dict)
    names_cache: dict[tuple[str, str], int | None] = field(default_factory=dict)


def _rule_errors(frame: pl.DataFrame, data_year: int) -> dict[int, list[rules.Problem]]:
    """Year and date rules, run once per distinct combination of the fields they read."""
    out: dict[int, list[rules.Problem]] = {}
    groups = (
        frame.select(RULE_KEYS)
        .with_row_index("i")
        .group_by(list(RULE_KEYS), maintain_order=True)
        .agg(pl.col("i"))
    )
    for combo in groups.iter_rows(named=True):
        problems = rules.check_row(combo, data_year=data_year)
        if problems:
            for i in combo["i"]:
                out[i] = problems
    return out


def _validate(batch: Batch, ctx: _Context) -> tuple[pl.DataFrame, np.ndarray]:
    """The batch as staging rows without the sealed columns, and the indexes of its good rows."""
    f = batch.frame
    n = len(batch)
    errs: dict[int, list[CellError]] = {i: list(e) for i, e in batch.errors.items()}
    checks = validate_ids(batch.ids, as_of=ctx.as_of, extra_codes=ctx.addresses)
    for i in (~checks["ok"]).arg_true().to_list():
        row = errs.setdefault(i, [])
        if not any(e.column_header == "证件号码" for e in row):
            code = checks["error"][i]
            row.append(_cell_error(batch, i, "证件号码", MESSAGES_ZH[code], MESSAGES_EN[code], code))
    # Regions: each distinct code (or township and village) resolved once.
    codes_text = f["region_code"]
    distinct = codes_text.drop_nulls().unique().to_list()
    for text in distinct:
        if text not in ctx.region_cache:
            ctx.region_cache[text] = ctx.resolver.by_code(str(text))
    # The batch's codes only: the whole cache (every village of a 10 M file) made into a mapping
    # for each batch took 3 s of the import, holding Python's lock.
    mapping = {text: ctx.region_cache[text] for text in distinct}
    region = codes_text.replace_strict(mapping, default=None, return_dtype=pl.Int64)
    by_name = codes_text.is_null() & f["township"].is_not_null() & f["village"].is_not_null()
    if by_name.any():
        towns, villages = f["township"].to_list(), f["village"].to_list()
        got = region.to_list()
        for i in by_name.arg_true().to_list():
            key = (towns[i], villages[i])
            if key not in ctx.names_cache:
                ctx.names_cache[key] = ctx.resolver.by_names(*key)
            got[i] = ctx.names_cache[key]
        region = pl.Series("region_code", got, dtype=pl.Int64)
    missing_region = region.is_null()
    if missing_region.any():
        texts, towns, villages = codes_text.to_list(), f["township"].to_list(), f["village"].to_list()
        for i in missing_region.arg_true().to_list():
            if texts[i]:
                e = _cell_error(
                    batch,
                    i,
                    "行政区划代码",
                    f"行政区划代码「{texts[i]}」不是有效的村或乡镇代码",
                    "unknown village or township code",
                    "unknown_region",
                )
            elif towns[i] and villages[i]:
                e = _cell_error(
                    batch,
                    i,
                    "村",
                    f"在您管辖的县内找不到「{towns[i]}{villages[i]}」",
                    "no such township and village in your county",
                    "unknown_village",
                )
            else:
                e = _cell_error(
                    batch,
                    i,
                    "行政区划代码",
                    "请填写行政区划代码，或填写乡镇和村名称",
                    "a region code, or township and village names, is required",
                    "region_missing",
                )
            errs.setdefault(i, []).append(e)
    if not ctx.scope.national:
        inside = [c for c in region.drop_nulls().unique().to_list() if ctx.scope.contains(c)]
        outside = region.is_not_null() & ~region.is_in(inside)
        for i in outside.arg_true().to_list():
            errs.setdefault(i, []).append(
                _cell_error(
                    batch, i, "行政区划代码", "该地区不在您的管辖范围内", "outside your area", "out_of_scope"
                )
            )
    if ctx.data_year is not None:
        for i, problems in sorted(_rule_errors(f, ctx.data_year).items()):
            errs.setdefault(i, []).extend(
                _cell_error(batch, i, p.column, p.zh, p.en, p.code) for p in problems
            )
    for i in f["name"].is_null().arg_true().to_list():
        row = errs.setdefault(i, [])
        if not any(e.column_header == "姓名" for e in row):
            row.append(_cell_error(batch, i, "姓名", "姓名不能为空", "name is required", "missing"))
    # Null but for the rows with errors (a list of n Nones made into a Series costs a scan of it).
    at = [i for i, row in errs.items() if row]
    error_text = pl.repeat(None, n, dtype=pl.String, eager=True)
    if at:
        texts = [
            json.dumps(
                [[e.column_header, e.message_zh, e.message_en, e.column] for e in errs[i]], ensure_ascii=False
            )
            for i in at
        ]
        error_text = error_text.scatter(at, texts)
    bad = np.zeros(n, dtype=bool)
    bad[at] = True
    ok = ~bad
    frame = pl.DataFrame(
        {
            "seq": pl.int_range(batch.seq0, batch.seq0 + n, eager=True, dtype=pl.Int64),
            "source": pl.repeat(batch.source, n, dtype=pl.String, eager=True),
            "row_number": pl.Series(batch.row_numbers, dtype=pl.Int64),
            "household_number": f["household_number"].fill_null("").str.slice(0, 40),
            "region_code": region,
            "ok": pl.Series(ok),
            "errors": error_text,
            "birth_date": checks["birth"],
            "sex": checks["sex"],
            "income": f["income_per_capita"].cast(pl.Int64),
            **{k: f[k] for k in VALUE_KEYS},
            "household_id": pl.repeat(None, n, dtype=pl.Int64, eager=True),
            "_id": checks["normalised"],
            "_name": f["name"],
        }
    )
    return frame, np.flatnonzero(ok)


def _with_sealed(frame: pl.DataFrame, ok: np.ndarray, sealed: tuple[pl.Series, ...]) -> pl.DataFrame:
    """The staging rows with the sealed columns of the good rows (null on the rejected ones)."""
    idx = pl.Series(ok, dtype=pl.UInt32)
    id_masked, name_masked = _masks(frame["_id"].gather(idx), frame["_name"].gather(idx))
    values_ = dict(zip(("id_hmac", "id_cipher", "name_hmac", "name_cipher"), sealed, strict=True))
    values_["id_masked"] = id_masked
    values_["name_masked"] = name_masked
    return frame.with_columns(
        **{name: _on_good_rows(values_[name], idx, frame.height).alias(name) for name in SEALED}
    ).drop("_id", "_name")


def _blank(column: str) -> pl.Expr:
    """As the SQL of the merge reads a code: null or empty."""
    return pl.col(column).is_null() | (pl.col(column) == "")


def _on_good_rows(values: pl.Series, good: pl.Series, height: int) -> pl.Series:
    """``values`` of the good rows (positions ``good``, in order) over the whole batch, null on
    the rejected rows."""
    if len(values) == height:
        return values
    return pl.repeat(None, height, dtype=values.dtype, eager=True).scatter(good, values)


def _seal_inputs(frame: pl.DataFrame, ok: np.ndarray) -> tuple[pl.Series, pl.Series]:
    idx = pl.Series(ok, dtype=pl.UInt32)
    return frame["_id"].gather(idx), frame["_name"].gather(idx)


def _hmac_key64(frame: pl.DataFrame) -> pl.DataFrame:
    """A 60-bit prefix of each good row's keyed hash and a hash of its household number, to find
    repeated people across the whole file in memory (the exact check then runs on the few found)."""
    return frame.filter(pl.col("ok")).select(
        "seq",
        h=pl.col("id_hmac").str.slice(0, 15).str.to_integer(base=16),
        hh=pl.col("household_number").hash(),
    )


# --- import -------------------------------------------------------------------------------------


def import_registry(
    path: str | Path,
    *,
    actor: Any,
    data_year: int | None = None,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    errors_out: str | Path | None = None,
    progress: Progress | None = None,
    via: str = "cli",
) -> RegistryImportResult:
    """Import a registry file (CSV, XLSX, XLS, Parquet or a zip of them); see the module docstring."""
    path = Path(path)
    scope = scope_for(actor, "registry", "change")
    if scope.is_empty:
        raise ImportRefused("您没有导入建档立卡数据的权限", "you may not import registry data")
    sha = file_sha256(path)
    result = RegistryImportResult(dry_run=dry_run, data_year=data_year, as_of=as_of)
    import_key = hashlib.sha256(
        f"{sha}:{data_year}:{as_of}:{getattr(actor, 'pk', 'system')}".encode()
    ).hexdigest()
    with registry_lock() as lock:
        restore_indexes()  # a killed initial load's deferred indexes come back first
        stage = Stage(import_key)
        stage.create()  # a killed run's leftovers are dropped
        sealer = Sealer()
        direct = _direct_load_maker(actor, sha, path.name, data_year, as_of, dry_run, lock)
        try:
            try:
                summary = _stage_file(path, stage, sealer, scope, data_year, as_of, result, progress, direct)
            finally:
                sealer.close()
            return _check_and_merge(
                path,
                stage,
                summary,
                actor,
                data_year,
                as_of,
                result,
                dry_run,
                errors_out,
                progress,
                sha,
                direct,
            )
        finally:
            stage.drop()
            if direct is not None and direct.started is not None:
                direct.started.wait_for_builds()  # before a failed load is undone
                restore_indexes()  # a failed direct load: its members go, the indexes come back
                foreign_keys_back()


# Every registry import holds the registry's lock shared while it runs, and a direct load holds it
# exclusively: a running direct load's rows are never taken for a killed one's and undone by
# another import's restore_indexes, and two imports never both load "an empty registry".
# PostgreSQL: an advisory lock of the import's connection; SQLite: a POSIX lock on a file next to
# the database (a process's own locks never conflict, and a lock turns exclusive or back in place).
REGISTRY_LOCK = 0x78697A756F726567  # "xizuoreg"
LOCKED_ZH = "另一个导入正在向空的建档立卡库批量写入，请等它完成后再导入"
LOCKED_EN = "a first load into the empty registry is running: import again when it has finished"


class RegistryLock:
    """The registry's lock for one import (see above); nothing to lock inside a transaction (the
    tests' imports) or in a database in memory."""

    def __init__(self) -> None:
        self.pg = _pg()
        self.file: Any = None
        self.held = False
        self.is_exclusive = False

    def _path(self) -> Path | None:
        name = str(connection.settings_dict.get("NAME") or "")
        if self.pg or not name or name == ":memory:" or "mode=memory" in name:
            return None
        return Path(f"{name}.import-lock")

    def _try(self, mode: str) -> bool:
        if self.pg:
            fn = {"shared": "pg_try_advisory_lock_shared", "exclusive": "pg_try_advisory_lock"}[mode]
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {fn}(%s)", [REGISTRY_LOCK])
                return bool(cursor.fetchone()[0])
        flag = {"shared": fcntl.LOCK_SH, "exclusive": fcntl.LOCK_EX}[mode]
        try:
            fcntl.lockf(self.file, flag | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def shared(self) -> None:
        """Taken for the import, or the import is refused: a direct load is running."""
        if connection.in_atomic_block:
            return
        if not self.pg:
            path = self._path()
            if path is None:
                return
            self.file = path.open("a+")
        if not self._try("shared"):
            self.release()
            raise ImportRefused(LOCKED_ZH, LOCKED_EN)
        self.held = True

    def exclusive(self) -> bool:
        """Exclusive for a direct load, if no other import runs (else the ordinary way)."""
        if not self.held:
            return not connection.in_atomic_block
        self.is_exclusive = self._try("exclusive")
        return self.is_exclusive

    def back_to_shared(self) -> None:
        """A direct load that will not start after all: the other imports may run again."""
        if not self.is_exclusive:
            return
        if self.pg:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REGISTRY_LOCK])
        else:
            fcntl.lockf(self.file, fcntl.LOCK_SH)  # in place: the lock is never let go meanwhile
        self.is_exclusive = False

    def release(self) -> None:
        if self.pg:
            if self.held:
                with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                    # A lost connection has lost its locks already.
                    if self.is_exclusive:
                        cursor.execute("SELECT pg_advisory_unlock(%s)", [REGISTRY_LOCK])
                    cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [REGISTRY_LOCK])
        elif self.file is not None:
            with contextlib.suppress(OSError):
                fcntl.lockf(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
        self.held = self.is_exclusive = False


@contextlib.contextmanager
def registry_lock() -> Iterator[RegistryLock]:
    lock = RegistryLock()
    lock.shared()
    try:
        yield lock
    finally:
        lock.release()


@dataclass
class _DirectMaker:
    """Starts a direct load (DirectLoad) once the import knows the file has more than one batch."""

    start: Callable[[], DirectLoad | None]
    started: DirectLoad | None = None
    declined: bool = False  # another import was running or wrote meanwhile: the ordinary way

    def __call__(self) -> DirectLoad | None:
        if self.started is None and not self.declined:
            self.started = self.start()
            self.declined = self.started is None
        return self.started


def _direct_load_maker(
    actor: Any,
    sha: str,
    file_name: str,
    data_year: int | None,
    as_of: dt.date | None,
    dry_run: bool,
    lock: RegistryLock,
) -> _DirectMaker | None:
    """A direct load is possible outside a transaction (PostgreSQL: the writer thread's COPY;
    SQLite: foreign keys are switched off for the connection while it runs), into an empty
    registry, when the data year and as-of date are given (the dataset row comes first) and
    something is to be written."""
    if dry_run or data_year is None or as_of is None or connection.in_atomic_block:
        return None
    if Member.objects.exists() or Household.objects.exists():
        return None

    def start() -> DirectLoad | None:
        # Exclusive: no other import runs now (each holds the lock shared) and none starts until
        # this one ends. Not to be had (another import runs): this file goes the ordinary way.
        if not lock.exclusive():
            return None
        if Member.objects.exists() or Household.objects.exists():
            lock.back_to_shared()
            return None  # another import wrote while this one read its first batch
        dataset, _ = Dataset.objects.get_or_create(
            file_sha256=sha,
            data_year=data_year,
            as_of=as_of,
            defaults={
                "file_name": file_name,
                "imported_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        return DirectLoad(dataset.pk)

    return _DirectMaker(start)


def _stage_file(
    path: Path,
    stage: Stage,
    sealer: Sealer,
    scope: Scope,
    data_year: int | None,
    as_of: dt.date | None,
    result: RegistryImportResult,
    progress: Progress | None,
    direct: _DirectMaker | None = None,
) -> Summary:
    ctx = _Context(
        data_year=data_year,
        as_of=as_of or dt.date.today(),
        scope=scope,
        resolver=RegionResolver(scope),
        addresses=known_address_codes(),
    )
    summaries: list[Summary] = []
    keys: list[pl.DataFrame] = []
    ids_seen: list[object] = []
    pending: tuple[pl.DataFrame, np.ndarray, Callable[[], tuple[pl.Series, ...]]] | None = None
    read = 0

    def flush(item: tuple[pl.DataFrame, np.ndarray, Callable[[], tuple[pl.Series, ...]]], more: bool) -> None:
        nonlocal read
        frame, ok, sealed = item
        # A file of more than one batch goes straight into an empty registry (DirectLoad).
        load = direct() if direct is not None and (more or direct.started is not None) else None
        if load is not None:
            stage.direct = True

        def make() -> pl.DataFrame:  # on the writer's thread, if it has one, batch after batch
            with result.timed("seal (waiting for the workers)"):
                done = sealed()
            with result.timed("seal (columns back into the batch)"):
                staged = _with_sealed(frame, ok, done)
            if load is not None:
                with result.timed("direct load: household ids"):
                    staged = load.assign(staged)
            with result.timed("keys"):
                keys.append(_hmac_key64(staged))
            return staged

        writer.write(make, load)
        read += frame.height
        if progress:
            progress(read, None, f"已读取 {read} 行")

    writer = StageWriter(stage, result)
    try:
        batches = read_batches(path, REGISTRY, summaries, size=BATCH)
        while True:
            with result.timed("parse"):
                batch = next(batches, None)
            if batch is None:
                break
            if len(ids_seen) < 2000:
                ids = batch.ids.to_list() if isinstance(batch.ids, pl.Series) else list(batch.ids)
                ids_seen.extend(ids[: 2000 - len(ids_seen)])
            with result.timed("validate"):
                frame, ok = _validate(batch, ctx)
            with result.timed("seal (masks, hand-over)"):
                item = (frame, ok, sealer.submit(*_seal_inputs(frame, ok)))
            if pending is not None:
                flush(pending, True)
            pending = item
        if pending is not None:
            flush(pending, False)
    finally:
        writer.close()
    summary = summaries[0] if summaries else Summary()
    result.notes.extend([MESSAGES_ZH["truncated_column"]] if truncated_column(ids_seen) else [])
    stage.keys = pl.concat(keys) if keys else pl.DataFrame()
    return summary


def _check_and_merge(
    path: Path,
    stage: Stage,
    summary: Summary,
    actor: Any,
    data_year: int | None,
    as_of: dt.date | None,
    result: RegistryImportResult,
    dry_run: bool,
    errors_out: str | Path | None,
    progress: Progress | None,
    sha: str,
    direct: _DirectMaker | None = None,
) -> RegistryImportResult:
    years_checked = data_year is not None  # else the year rules run once the sheet gave the year
    # The as-of date and data year may come from the sheet (填报日期 / 数据截止日期).
    if as_of is None:
        stated = summary.as_of
        if isinstance(stated, dt.date):
            as_of = stated
    if data_year is None and as_of is not None:
        data_year = as_of.year
    if as_of is None or data_year is None:
        raise ImportRefused(
            "请用 --data-year 和 --as-of 指明数据年度和数据截止日期（表中未写明填报日期或数据截止日期）",
            "give --data-year and --as-of: the sheet states no as-of date",
        )
    result.data_year, result.as_of = data_year, as_of
    result.notes.extend(summary.unit_notes_zh(REGISTRY))
    with result.timed("stage analyse / index"):
        if _pg():
            # Rows are fetched and flagged by seq (duplicates, errors, the error report).
            stage.execute(f"CREATE INDEX {stage.rows}_seq ON {{rows}} (seq)")
            stage.execute("ANALYZE {rows}")
        else:
            # SQLite plans no hash joins: the checks across rows and the merge look rows up by household.
            if not stage.direct:  # a direct load's rows are found by seq and household id
                stage.execute(
                    f"CREATE INDEX IF NOT EXISTS {stage.rows}_household ON {{rows}} (household_number)"
                )
                stage.execute(f"CREATE INDEX IF NOT EXISTS {stage.rows}_hmac ON {{rows}} (id_hmac)")
        total = stage.fetch("SELECT COUNT(*) FROM {rows}")[0][0]
    pipeline.refuse_empty(summary, total)
    with result.timed("cross-row checks"):
        if not years_checked:
            _recheck_years(stage, data_year)
        _cross_checks(
            stage,
            data_year=data_year,
            view_scope=scope_for(actor, "registry", "view"),
            registered=direct is None or direct.started is None,  # a direct load: the file's own
        )
        result.read = int(total)
        result.rejected = int(stage.fetch("SELECT COUNT(*) FROM {rows} WHERE NOT ok")[0][0])
    result.accepted = result.read - result.rejected
    if direct is not None and direct.started is not None:
        # The member table is final once the rejected rows are gone: its indexes are built while
        # the error report is written and the merge runs.
        with result.timed("merge: member rows"):
            direct.started.drop_rejected(stage)
        direct.started.build_meanwhile("registry_member")
    report = _ErrorReport(stage, path, errors_out, result) if errors_out is not None else None
    try:
        with sqlite_cache():
            _merge(
                stage,
                result,
                actor=actor,
                write=not dry_run,
                progress=progress,
                sha=sha,
                file_name=path.name,
                direct=direct.started if direct is not None else None,
            )
    finally:
        if report is not None:
            report.wait()
    return result


class _ErrorReport:
    """The error report, written while the merge runs where it can be, else first. It reads the
    rejected rows from the file again (10 M people: 8.4 s) while the merge mostly waits for the
    database: on PostgreSQL outside a transaction a thread does all of it (the staging table is
    committed and its own connection reads it); on SQLite outside a transaction the rejected rows'
    numbers and errors are read here (the staging table is this connection's) and a thread reads
    the file and writes the report, touching no database."""

    def __init__(self, stage: Stage, path: Path, out: str | Path, result: ImportResult) -> None:
        self._result = result
        self._future: Future[str] | None = None
        if connection.in_atomic_block:
            with result.timed("error report"):
                result.errors_file = self._write(_rejected(stage), path, out)
            return
        pool = ThreadPoolExecutor(1, thread_name_prefix="registry-errors")
        if _pg():
            self._future = pool.submit(self._write_from, stage, path, out)
        else:
            with result.timed("error report"):
                rejected = _rejected(stage)
            self._future = pool.submit(self._write, rejected, path, out)
        pool.shutdown(wait=False)

    @staticmethod
    def _write(rejected: dict[int, tuple[str, int, list[list[Any]]]], path: Path, out: str | Path) -> str:
        return str(write_errors(out, _rejected_rows(rejected, path)))

    @classmethod
    def _write_from(cls, stage: Stage, path: Path, out: str | Path) -> str:
        try:
            return cls._write(_rejected(stage), path, out)
        finally:
            connection.close()  # this thread's connection

    def wait(self) -> None:
        if self._future is not None:
            with self._result.timed("error report (waiting for it)"):
                self._result.errors_file = self._future.result()


def _recheck_years(stage: Stage, data_year: int) -> None:
    """Year rules need the data year, which may only be known once the whole sheet was read."""
    combos = stage.fetch(f"SELECT DISTINCT {', '.join(RULE_KEYS)} FROM {{rows}} WHERE ok")
    errors: dict[int, list[list[Any]]] = {}
    for combo in combos:
        values = dict(zip(RULE_KEYS, combo, strict=True))
        problems = rules.check_row(values, data_year=data_year)
        if not problems:
            continue
        where = " AND ".join(f"{k} IS NULL" if v is None else f"{k} = %s" for k, v in values.items())
        params = [v for v in values.values() if v is not None]
        for (seq,) in stage.fetch(f"SELECT seq FROM {{rows}} WHERE ok AND {where}", params):
            errors[seq] = [[p.column, p.zh, p.en] for p in problems]
    stage.set_errors(errors)


def _cross_checks(stage: Stage, *, data_year: int, view_scope: Scope, registered: bool = True) -> None:
    """Checks across rows: one person, one household within the file, and within the data year."""
    keys = stage.keys
    errors: dict[int, list[list[Any]]] = {}
    if keys.height:
        repeated = keys.filter(pl.col("h").is_duplicated())["seq"].to_list()
        if repeated:
            if stage.direct:  # the hash is in the member table only, the number maybe on the candidate
                where, param = _one_of("s.seq", repeated)
                rows = stage.fetch(
                    "SELECT s.seq, m.id_hmac, COALESCE(s.household_number, c.household_number), s.row_number "
                    "FROM {rows} s LEFT JOIN {rows} c ON c.seq = s.cand "
                    f"JOIN registry_member m ON m.id = s.seq + 1 WHERE {where}",
                    [param],
                )
            else:
                rows = _rows_by_seq(stage, repeated, "seq, id_hmac, household_number, row_number")
            by_person: dict[str, list[tuple[int, str, int]]] = {}
            for seq, hmac, number, row in sorted(rows):
                by_person.setdefault(hmac, []).append((seq, number, row))
            for group in by_person.values():
                if len({n for _, n, _ in group}) > 1:
                    for seq, number, _row in group:
                        others = sorted({n for _, n, _ in group if n != number})
                        lines = sorted({str(r) for _, n, r in group if n != number})
                        errors[seq] = [
                            [
                                "证件号码",
                                "同一证件号码出现在本文件的其他户中（户编号 {}，第 {} 行）".format(
                                    "、".join(others), "、".join(lines)
                                ),
                                "the same ID number is in another household of this file",
                            ]
                        ]
                elif len(group) > 1:
                    first = group[0][2]
                    for seq, _number, _row in group[1:]:
                        errors[seq] = [
                            [
                                "证件号码",
                                f"同一证件号码在本户中重复出现（第 {first} 行）",
                                "the same ID number is twice in this household",
                            ]
                        ]
    stage.set_errors(errors)
    if not registered or not Member.objects.exists():
        return
    # Same person already registered in another household in this data year, not in this file.
    clash = stage.fetch(
        "SELECT DISTINCT s.id_hmac, h.number, h.region_code FROM {rows} s "
        "JOIN registry_member m ON m.id_hmac = s.id_hmac "
        "JOIN registry_household h ON h.id = m.household_id "
        "JOIN registry_dataset d ON d.id = h.last_dataset_id "
        "WHERE s.ok AND m.left_on IS NULL AND d.data_year = %s "
        "AND NOT EXISTS (SELECT 1 FROM {rows} s2 WHERE s2.ok AND s2.household_number = h.number)",
        [data_year],
    )
    if not clash:
        return
    message: dict[str, str] = {}
    for hmac, number, region_code in clash:
        if view_scope.contains(region_code):
            message[hmac] = f"该证件号码已在本年度其他户登记（户编号 {number}），请核实"
        else:
            message[hmac] = "该身份证号已在其他地区登记，请联系上级核实"
    hit = _rows_by_hmac(stage, list(message))
    stage.set_errors(
        {
            seq: [["证件号码", message[hmac], "the ID number is registered in another household this year"]]
            for seq, hmac in hit
        }
    )


def _rows_by_seq(stage: Stage, seqs: list[int], columns: str) -> list[tuple[Any, ...]]:
    where, param = _one_of("seq", seqs)
    return stage.fetch(f"SELECT {columns} FROM {{rows}} WHERE {where}", [param])


def _rows_by_hmac(stage: Stage, hmacs: list[str]) -> list[tuple[Any, ...]]:
    where, param = _one_of("id_hmac", hmacs)
    return stage.fetch(f"SELECT seq, id_hmac FROM {{rows}} WHERE ok AND {where}", [param])


def _placed(
    row_number: int, error: list[Any], labels: tuple[str, ...], positions: dict[str, int]
) -> CellError:
    """An error of a staged row on its cell: errors of cross-row checks know only the header."""
    header, zh, en = error[:3]
    position = error[3] if len(error) > 3 else None
    if position is None:
        position = positions.get(KEY_OF_HEADER.get(header, ""))
    label = (
        labels[position] if position is not None and position < len(labels) and labels[position] else header
    )
    return CellError(
        row=row_number, column_header=label, code="", message_zh=zh, message_en=en, column=position
    )


def _rejected(stage: Stage) -> dict[int, tuple[str, int, list[list[Any]]]]:
    """The rejected rows: seq → (source, row number, errors)."""
    return {
        seq: (source, row, json.loads(errors))
        for seq, source, row, errors in stage.fetch(
            "SELECT s.seq, COALESCE(s.source, c.source), s.row_number, s.errors FROM {rows} s "
            "LEFT JOIN {rows} c ON c.seq = s.cand WHERE NOT s.ok ORDER BY s.seq"
        )
    }


def _rejected_rows(rejected: dict[int, tuple[str, int, list[list[Any]]]], path: Path) -> Iterator[ParsedRow]:
    """The rejected rows with their original cells, read again from the file (never stored)."""
    if not rejected:
        return
    plain = plain_rows(path, REGISTRY, {row for _source, row, _errors in rejected.values()})
    if plain is not None:  # a plain CSV: the rows picked by their numbers in one scan
        labels, positions, cells = plain
        for source, row, errors in rejected.values():
            yield ParsedRow(
                source=source,
                row_number=row,
                values={},
                raw=cells[row],
                labels=labels,
                errors=[_placed(row, e, labels, positions) for e in errors],
            )
        return
    for batch in read_batches(path, REGISTRY, [], size=BATCH, raw_only=rejected.keys()):
        assert batch.raw is not None
        for i in range(len(batch)):
            hit = rejected.get(batch.seq0 + i)
            if hit is None:
                continue
            source, row, errors = hit
            yield ParsedRow(
                source=source,
                row_number=row,
                values={},
                raw=batch.raw[i],
                labels=batch.labels,
                errors=[_placed(row, e, batch.labels, batch.positions) for e in errors],
            )


# --- merge: set-based, households in short transactions ------------------------------------------

HOUSEHOLD_FIELDS = (
    "region_code",
    "attribute",
    "main_cause",
    "standard",
    "registered_year",
    "planned_exit_year",
    "exit_year",
    "status",
    "monitored",
    "pathway",
    "size",
    "income_per_capita_fen",
)


def _pg_merge_settings(stage: Stage) -> None:
    """For the transaction: the merge's joins and sorts in memory, not in temporary files, and no
    JIT compilation (at 10 M people it took 1.4 s of the 12 s households table and 2.2 s in all,
    for statements that run once)."""
    stage.execute("SET LOCAL work_mem = '256MB'")
    stage.execute("SET LOCAL jit = off")


def _differs() -> str:
    return "IS DISTINCT FROM" if _pg() else "IS NOT"


# The staged columns a household's row is made from (on a direct load's narrowed rows, found on
# the row ``cand`` points to); whether it is monitored comes from its head's own row.
HEAD_VALUES = ", ".join(f"r.{c}" for c in (*HOUSEHOLD_VALUES, "household_id") if c != "source")


FIRST_MONITORING = "m.monitoring_type AS mon_kind, m.monitoring_since AS mon_since"


def _recount_table(stage: Stage, sizes: str) -> None:
    """The households of a direct load whose candidate rows do not tell — met in more than one
    batch, or with a row the checks across rows rejected after it was read — each first as its id
    alone, then (those with good rows left) with its size, first monitored row and head row
    aggregated from all its rows. A table of its own, analysed: the planner then fetches the few
    head rows by seq (as part of the households table it scanned all ten million)."""
    pg = _pg()
    create = "CREATE UNLOGGED TABLE {rc}" if pg else "CREATE TEMP TABLE {rc}"
    stage.execute("DROP TABLE IF EXISTS {rc}")
    stage.execute(
        f"""{create} AS SELECT household_id, 0 AS n_members, CAST(NULL AS bigint) AS mon_seq,
            CAST(NULL AS bigint) AS head_seq FROM {{rows}} WHERE false"""
    )
    later = sorted(stage.rejected_later)
    for start in range(0, len(later), 50_000):  # found by seq (indexed), not by a scan
        where, param = _one_of("seq", later[start : start + 50_000])
        stage.execute(
            "INSERT INTO {rc} (household_id, n_members) SELECT DISTINCT household_id, 0 "
            f"FROM {{rows}} WHERE household_id IS NOT NULL AND {where}",
            [param],
        )
    with connection.cursor() as cursor:
        for start in range(0, len(stage.spanning), 50_000):
            cursor.executemany(
                f"INSERT INTO {stage.recount} (household_id, n_members) VALUES (%s, 0)",
                [(i,) for i in stage.spanning[start : start + 50_000]],
            )
    stage.execute(
        f"""INSERT INTO {{rc}} (household_id, n_members, mon_seq, head_seq)
        SELECT household_id, {sizes} FROM {{rows}}
        WHERE ok AND household_id IN (SELECT household_id FROM {{rc}}) GROUP BY household_id"""
    )
    if pg:
        stage.execute("ANALYZE {rc}")


def _build_households(stage: Stage, per_chunk: int | None) -> int:
    """One row per household of the good rows: its values (from the head's row, else the first
    row), size, first monitoring row, what the registry holds now, and its merge chunk."""
    pg = _pg()
    create = (
        "CREATE UNLOGGED TABLE {hh} WITH (autovacuum_enabled = false)" if pg else "CREATE TEMP TABLE {hh}"
    )
    ne = _differs()
    chunk = "0" if per_chunk is None else f"(ROW_NUMBER() OVER (ORDER BY w.number) - 1) / {int(per_chunk)}"
    # PostgreSQL: new households get their ids from the table's sequence here, so the merge inserts
    # them with their ids and needs no join back by number to learn them.
    new_id = "COALESCE(h.id, w.given_id)"  # SQLite: ids given by a direct load, else after the insert
    if pg:
        _pg_merge_settings(stage)
        # One process: a parallel plan had each worker aggregate all the rows again (10 M: 16 s).
        stage.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # The sequence's name once (a per-row pg_get_serial_sequence costs ten times the nextval).
        seq = stage.fetch("SELECT pg_get_serial_sequence('registry_household', 'id')")[0][0]
        new_id = f"COALESCE(h.id, w.given_id, nextval('{seq}'::regclass))"
    stage.execute(f"DROP TABLE IF EXISTS {stage.households}")
    sizes = """SUM(CASE WHEN leave_reason IS NULL OR leave_reason = '' THEN 1 ELSE 0 END) AS n_members,
                MIN(CASE WHEN monitoring_type IS NOT NULL AND monitoring_type <> '' THEN seq END) AS mon_seq,
                COALESCE(MIN(CASE WHEN relation = '01' THEN seq END), MIN(seq)) AS head_seq"""
    if stage.direct:
        # Each household's candidate row was chosen while reading (DirectLoad.assign); only the
        # households with rows in several batches, or with rows the checks across rows rejected
        # since, are aggregated from all their rows (10 M people: the aggregate of every row and
        # the join back to the rows took 13-18 s).
        _recount_table(stage, sizes)
        # A candidate carries its household's first monitoring too; the few recounted households
        # find theirs by seq. The candidates first, in the order their ids were given.
        heads = f"""heads AS (
            SELECT {HEAD_VALUES}, r.monitoring_type, r.part_size AS n_members, r.part_mon_kind AS mon_kind,
                r.part_mon_since AS mon_since
            FROM {{rows}} r WHERE r.ok AND r.head AND r.household_id NOT IN (SELECT household_id FROM {{rc}})
            UNION ALL
            SELECT {HEAD_VALUES}, h.monitoring_type, rc.n_members, {FIRST_MONITORING}
            FROM {{rc}} rc JOIN {{rows}} h ON h.seq = rc.head_seq
            JOIN {{rows}} r ON r.seq = COALESCE(h.cand, h.seq)
            LEFT JOIN {{rows}} m ON m.seq = rc.mon_seq
        )"""
    else:
        # SQLite groups along its index on the number.
        heads = f"""agg AS (
            SELECT household_number, {sizes} FROM {{rows}} WHERE ok GROUP BY household_number
        ), heads AS (
            SELECT {HEAD_VALUES}, r.monitoring_type, agg.n_members, {FIRST_MONITORING}
            FROM agg JOIN {{rows}} r ON r.seq = agg.head_seq
            -- Only the monitored rows (a few in a hundred) to join: the hash is built on them, not on all.
            LEFT JOIN (
                SELECT seq, monitoring_type, monitoring_since FROM {{rows}}
                WHERE monitoring_type IS NOT NULL AND monitoring_type <> ''
            ) m ON m.seq = agg.mon_seq
        )"""
    stage.execute(
        f"""{create} AS
        WITH {heads}, w AS (
            SELECT r.household_number AS number, r.region_code,
                COALESCE(r.attribute, '') AS attribute, COALESCE(r.main_cause, '') AS main_cause,
                COALESCE(r.standard, '') AS standard, r.registered_year, r.planned_exit_year,
                r.exit_year, r.status,
                (r.monitoring_type IS NOT NULL AND r.monitoring_type <> '') AS monitored,
                COALESCE(r.pathway, '') AS pathway, r.n_members AS size, r.income,
                r.mon_kind, r.mon_since, r.household_id AS given_id
            FROM heads r
        )
        SELECT w.*, {new_id} AS household_id, h.status AS old_status, h.region_code AS old_region,
            h.main_cause AS old_cause, h.monitored AS old_monitored,
            {chunk} AS chunk,
            CASE WHEN h.id IS NULL THEN 'new'
                WHEN h.region_code {ne} w.region_code OR h.attribute {ne} w.attribute
                    OR h.main_cause {ne} w.main_cause OR h.standard {ne} w.standard
                    OR h.registered_year {ne} w.registered_year
                    OR h.planned_exit_year {ne} w.planned_exit_year
                    OR h.exit_year {ne} w.exit_year OR h.status {ne} w.status
                    OR h.monitored {ne} w.monitored OR h.pathway {ne} w.pathway
                    OR h.size {ne} w.size OR h.income_per_capita_fen {ne} w.income
                THEN 'changed' ELSE 'same' END AS action
        FROM w LEFT JOIN registry_household h ON h.number = w.number
        """
    )
    # One chunk on PostgreSQL: scans and hash joins only. A direct load (one chunk, all new) only
    # scans, in the order of the ids given: on SQLite, an index on the chunk made its scans
    # follow the numbers, and 3 M household rows went in 21 s instead of 1.5 (a B-tree filled in
    # random order of its keys), the statuses in 10 s instead of 3.6.
    if not (pg and per_chunk is None) and not stage.direct:
        stage.execute(f"CREATE INDEX {stage.households}_chunk ON {{hh}} (chunk, number)")
        stage.execute(f"CREATE INDEX {stage.households}_number ON {{hh}} (number)")
    if pg:
        stage.execute("ANALYZE {hh}")
    if per_chunk is None:  # one chunk, if any
        return int(stage.fetch("SELECT EXISTS (SELECT 1 FROM {hh})")[0][0])
    return int(stage.fetch("SELECT COALESCE(MAX(chunk) + 1, 0) FROM {hh}")[0][0])


def _merge(
    stage: Stage,
    result: RegistryImportResult,
    *,
    actor: Any,
    write: bool,
    progress: Progress | None,
    sha: str,
    file_name: str,
    direct: DirectLoad | None = None,
) -> None:
    """Upsert households and members, a chunk of households at a time, in short transactions.

    A bulk initial load (an empty registry and more than ``DEFER_MIN_HOUSEHOLDS`` households in
    the file) is one chunk instead: its indexes are dropped while it loads, nobody works on the
    empty registry meanwhile, and every further chunk would scan the whole staging table again
    (three chunks at 10 M people doubled the merge). Killed, it rolls back whole."""
    assert result.as_of is not None and result.data_year is not None
    dataset: Dataset | None = None
    if write:
        dataset, _ = Dataset.objects.get_or_create(
            file_sha256=sha,
            data_year=result.data_year,
            as_of=result.as_of,
            defaults={
                "file_name": file_name,
                "imported_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        result.dataset_id = dataset.pk
    # A direct load wrote the members already, with the indexes deferred (DirectLoad).
    initial = write and (direct is not None or not Member.objects.exists())
    # Households in the file, near enough to choose (the good rows' household number hashes).
    about = stage.keys["hh"].n_unique() if stage.keys.height else 0
    bulk = direct is not None or (initial and about > DEFER_MIN_HOUSEHOLDS)
    with result.timed("merge: households table"), transaction.atomic():
        if direct is not None:
            stage.spanning = direct.spanning()
        chunks = _build_households(stage, None if bulk else MERGE_HOUSEHOLDS)
    households = int(stage.fetch("SELECT COUNT(*) FROM {hh}")[0][0])
    deferred = direct is not None
    try:
        if bulk and not deferred:
            with result.timed("merge: drop indexes"):
                defer_indexes()
            deferred = True
        done = 0
        # A direct load (PostgreSQL, its own transactions) commits its households first and builds
        # their indexes on a second connection while statuses, income and counts are written; a
        # kill in between leaves its record, and the next import undoes the load.
        split = direct if _pg() and not connection.in_atomic_block else None
        for chunk in range(chunks):
            merge = functools.partial(
                _merge_chunk,
                stage,
                chunk,
                result,
                dataset,
                write=write,
                initial=initial,
                whole=chunks == 1,
                bare=deferred,
                direct=direct is not None,
            )
            if split is not None:
                with transaction.atomic():
                    _pg_merge_settings(stage)
                    merge(part="households")
                split.build_meanwhile("registry_household")
            with transaction.atomic():
                if _pg():
                    _pg_merge_settings(stage)
                changed = merge(part="all" if split is None else "rest")
                if direct is not None:
                    with result.timed("merge: member rows"):
                        direct.finish(stage)
                if write and changed:
                    audit.record(
                        actor=actor,
                        action="import",
                        object_type="household",
                        via="job" if progress else "cli",
                        batch={
                            "file_sha256": sha,
                            "dataset": dataset.pk if dataset else None,
                            "households": changed,
                        },
                    )
            if split is not None:
                # The side tables are final too: their indexes are built while the member and
                # household builds go on, not after them (at 10 M people a core idled 3.5 s).
                for table in ("registry_householdstatus", "registry_householdincome"):
                    split.build_meanwhile(table)
            done = households if bulk else min(households, done + MERGE_HOUSEHOLDS)
            if progress:
                # A dry run merges into tables it rolls back: it checked and counted, wrote nothing.
                progress(
                    done, households, f"已合并 {done} 户" if write else f"已核对 {done} 户（试运行，未写入）"
                )
    finally:
        if direct is not None:
            with result.timed("merge: waiting for the early index builds"):
                direct.wait_for_builds()
        if deferred:
            with result.timed("merge: build indexes"):
                restore_indexes()
    if bulk and _pg():
        # Statistics for the next import's plans now, not when autovacuum comes round.
        with result.timed("merge: analyse"), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(DEFERRED_TABLES)}")
    if write:
        with result.timed("merge: heads of household"):
            _count_heads(stage, result)
    if write and dataset is not None:
        dataset.counts = result.counts()
        dataset.save(update_fields=["counts"])
        audit.record(
            actor=actor,
            action="import",
            object_type="registry_dataset",
            object_id=dataset.pk,
            object_repr=file_name,
            batch={"file_sha256": sha, **result.counts()},
            via="cli",
        )


HEAD = "01"  # code list relation: 户主


def _count_heads(stage: Stage, result: RegistryImportResult) -> None:
    """How many of the file's households are now stored without a current 户主 or with two or
    more (one query over the staged households); a note for the clerk when any are."""
    ((without, several),) = stage.fetch(
        """SELECT COALESCE(SUM(CASE WHEN t.heads = 0 THEN 1 ELSE 0 END), 0),
                  COALESCE(SUM(CASE WHEN t.heads > 1 THEN 1 ELSE 0 END), 0)
           FROM (SELECT h.id, COUNT(m.id) AS heads
                 FROM {hh} hs JOIN registry_household h ON h.number = hs.number
                 LEFT JOIN registry_member m ON m.household_id = h.id AND m.relation = %s
                      AND m.left_on IS NULL AND COALESCE(m.leave_reason, '') = ''
                 GROUP BY h.id) t""",
        [HEAD],
    )
    result.households_without_head, result.households_several_heads = int(without), int(several)
    if without:
        result.notes.append(f"{without} 户没有户主（与户主关系为“户主”的在册成员），请核对后重新导入")
    if several:
        result.notes.append(f"{several} 户有两个或以上户主，请核对“与户主关系”后重新导入")


def _merge_chunk(
    stage: Stage,
    chunk: int,
    result: RegistryImportResult,
    dataset: Dataset | None,
    *,
    write: bool,
    initial: bool = False,
    whole: bool = False,
    bare: bool = False,
    direct: bool = False,
    part: str = "all",
) -> list[int]:
    """Merge the staged rows of a chunk of households: insert what is new, update what changed
    (set-based), count what is the same. Returns the ids of the households written. ``part``:
    "households" stops after the household rows, "rest" goes on from there (a direct load commits
    its households first, to build their indexes while the rest is written)."""
    assert result.as_of is not None and result.data_year is not None
    ne = _differs()
    member_differs = f"""(hs.action <> 'same' OR m.name_hmac {ne} s.name_hmac
        OR m.relation {ne} COALESCE(s.relation, '') OR m.region_code {ne} s.region_code
        OR m.entry_reason {ne} COALESCE(s.entry_reason, '') OR m.entered_on {ne} s.entered_on
        OR m.leave_reason {ne} COALESCE(s.leave_reason, '') OR m.left_on {ne} s.left_on
        OR m.household_id {ne} hs.household_id)"""
    if part != "rest":
        with result.timed("merge: counting"):
            if direct:  # into an empty registry, in one chunk: every household is new
                hh_new, hh_changed = stage.fetch("SELECT COUNT(*), 0 FROM {hh}")[0]
            else:
                hh_new, hh_changed = stage.fetch(
                    "SELECT COALESCE(SUM(CASE WHEN action = 'new' THEN 1 ELSE 0 END), 0), "
                    "COALESCE(SUM(CASE WHEN action = 'changed' THEN 1 ELSE 0 END), 0) "
                    "FROM {hh} WHERE chunk = %s",
                    [chunk],
                )[0]
            result.households_created += int(hh_new)
            result.households_updated += int(hh_changed)
            if initial and whole:
                created = result.accepted  # one chunk: every good row is a new member
                updated = 0
            elif initial:
                created = int(
                    stage.fetch(
                        "SELECT COUNT(*) FROM {rows} s JOIN {hh} hs ON hs.number = s.household_number "
                        "WHERE s.ok AND hs.chunk = %s",
                        [chunk],
                    )[0][0]
                )
                updated = 0
            else:
                created, updated = (
                    int(x or 0)
                    for x in stage.fetch(
                        f"""SELECT SUM(CASE WHEN m.id IS NULL THEN 1 ELSE 0 END),
                            SUM(CASE WHEN m.id IS NOT NULL AND {member_differs} THEN 1 ELSE 0 END)
                        FROM {{rows}} s JOIN {{hh}} hs ON hs.number = s.household_number
                        LEFT JOIN registry_member m ON m.id_hmac = s.id_hmac
                        WHERE s.ok AND hs.chunk = %s""",
                        [chunk],
                    )[0]
                )
                total = int(
                    stage.fetch(
                        "SELECT COUNT(*) FROM {rows} s JOIN {hh} hs ON hs.number = s.household_number "
                        "WHERE s.ok AND hs.chunk = %s",
                        [chunk],
                    )[0][0]
                )
                result.unchanged += total - created - updated
            result.created += created
            result.updated += updated
    if not write:
        return []
    assert dataset is not None
    ds = dataset.pk
    if part != "rest":
        with result.timed("merge: household rows"):
            hh_cols = ", ".join(HOUSEHOLD_FIELDS)
            pg = _pg()
            given_id = ("id, ", "household_id, ") if pg or direct else ("", "")
            stage.execute(
                f"""INSERT INTO registry_household
                    ({given_id[0]}number, {hh_cols}, other_causes, first_dataset_id, last_dataset_id)
                SELECT {given_id[1]}number, region_code, attribute, main_cause, standard, registered_year,
                    planned_exit_year, exit_year, status, monitored, pathway, size, income, '[]', %s, %s
                FROM {{hh}} WHERE chunk = %s AND action = 'new'
                {"" if pg or direct else "ORDER BY number"}""",
                # Ids given (PostgreSQL, direct loads) are in the staging table's own order (a
                # direct load's: as the numbers were first met, and the candidate rows are in that
                # order but for the few households aggregated from all their rows); inserted in
                # that order, the primary key grows at its right edge, and the wide rows need no
                # sort (10 M people: 2.3 s and 333 MB of temporary file on PostgreSQL).
                [ds, ds, chunk],
            )
        with result.timed("merge: household rows (changed)"):
            if not direct:  # into an empty registry: none changed
                stage.execute(
                    """UPDATE registry_household SET region_code = hs.region_code,
                        attribute = hs.attribute, main_cause = hs.main_cause, standard = hs.standard,
                        registered_year = hs.registered_year, planned_exit_year = hs.planned_exit_year,
                        exit_year = hs.exit_year, status = hs.status, monitored = hs.monitored,
                        pathway = hs.pathway, size = hs.size,
                        income_per_capita_fen = hs.income, last_dataset_id = %s
                    FROM {hh} hs WHERE hs.chunk = %s AND hs.action = 'changed'
                        AND registry_household.id = hs.household_id""",
                    [ds, chunk],
                )
            if hh_new and not (pg or direct):  # PostgreSQL and direct loads: ids given in _build_households
                stage.execute(
                    """UPDATE {hh} SET household_id = h.id FROM registry_household h
                    WHERE {hh}.chunk = %s AND {hh}.action = 'new' AND h.number = {hh}.number""",
                    [chunk],
                )
    if part == "households":
        return []
    _side_tables(stage, chunk, result, ds, bare=bare)
    with result.timed("merge: aggregate counts"):
        _count_households(stage, chunk, changed=not direct)
    if direct:  # the members are there (DirectLoad.finish removes the rejected)
        return _written(stage, chunk)
    with result.timed("merge: member rows"):
        if not initial:
            stage.execute(
                f"""UPDATE registry_member SET household_id = hs.household_id, name_hmac = s.name_hmac,
                    name_cipher = CASE WHEN registry_member.name_hmac = s.name_hmac
                        THEN registry_member.name_cipher ELSE s.name_cipher END,
                    name_masked = CASE WHEN registry_member.name_hmac = s.name_hmac
                        THEN registry_member.name_masked ELSE s.name_masked END,
                    relation = COALESCE(s.relation, ''), region_code = s.region_code,
                    entry_reason = COALESCE(s.entry_reason, ''), entered_on = s.entered_on,
                    leave_reason = COALESCE(s.leave_reason, ''), left_on = s.left_on, last_dataset_id = %s
                FROM {{rows}} s JOIN {{hh}} hs ON hs.number = s.household_number
                WHERE s.ok AND hs.chunk = %s AND registry_member.id_hmac = s.id_hmac
                    AND {member_differs.replace("m.", "registry_member.")}""",
                [ds, chunk],
            )
        exists = (
            "" if initial else "AND NOT EXISTS (SELECT 1 FROM registry_member m WHERE m.id_hmac = s.id_hmac)"
        )
        stage.execute(
            f"""INSERT INTO registry_member (household_id, id_hmac, id_cipher, id_masked, name_cipher,
                name_hmac, name_masked, birth_date, sex, relation, region_code, entered_on, entry_reason,
                left_on, leave_reason, last_dataset_id)
            SELECT hs.household_id, s.id_hmac, s.id_cipher, s.id_masked, s.name_cipher, s.name_hmac,
                s.name_masked, s.birth_date, s.sex, COALESCE(s.relation, ''), s.region_code, s.entered_on,
                COALESCE(s.entry_reason, ''), s.left_on, COALESCE(s.leave_reason, ''), %s
            FROM {{rows}} s JOIN {{hh}} hs ON hs.number = s.household_number
            WHERE s.ok AND hs.chunk = %s {exists}""",
            [ds, chunk],
        )
    return _written(stage, chunk)


def _written(stage: Stage, chunk: int) -> list[int]:
    return [
        int(i)
        for (i,) in stage.fetch(
            "SELECT household_id FROM {hh} WHERE chunk = %s AND action <> 'same' ORDER BY household_id",
            [chunk],
        )
    ]


def _count_households(stage: Stage, chunk: int, *, changed: bool = True) -> None:
    """Keep ``HouseholdCount`` (households by county, status, main cause, monitoring): add the
    chunk's new and changed households, take away what the changed ones counted before (none
    when ``changed`` is false: a direct load's households are all new)."""
    before = (
        """UNION ALL
            SELECT old_region / 1000000, old_status, old_cause, old_monitored, -1
            FROM {hh} WHERE chunk = %s AND action = 'changed'"""
        if changed
        else ""
    )
    stage.execute(
        f"""INSERT INTO registry_householdcount (county, status, main_cause, monitored, n)
        SELECT county, status, main_cause, monitored, SUM(d) FROM (
            SELECT region_code / 1000000 AS county, status, main_cause, monitored, 1 AS d
            FROM {{hh}} WHERE chunk = %s AND action <> 'same'
            {before}
        ) x WHERE true GROUP BY county, status, main_cause, monitored
        ON CONFLICT (county, status, main_cause, monitored) DO UPDATE
            SET n = registry_householdcount.n + excluded.n""",
        [chunk, chunk] if changed else [chunk],
    )
    stage.execute("DELETE FROM registry_householdcount WHERE n = 0")


def _ymd(year: str, month: int, day: int) -> str:
    if _pg():
        return f"make_date({year}, {month}, {day})"
    # Years are four digits (validated); no printf: a literal % breaks DEBUG's query logging.
    return f"({year} || '-{month:02d}-{day:02d}')"


def _side_tables(
    stage: Stage, chunk: int, result: RegistryImportResult, ds: int, *, bare: bool = False
) -> None:
    """Status intervals, income of the data year and monitoring, for the households written.
    ``bare``: an initial load with the tables' keys dropped (plain inserts into empty tables)."""
    assert result.as_of is not None and result.data_year is not None
    as_of = result.as_of
    greatest = "GREATEST" if _pg() else "MAX"
    start = _ymd("registered_year", 1, 1)
    turn = f"{greatest}({_ymd('exit_year', *rules.EXIT_MONTH_DAY)}, {start})"
    cast = "::date" if _pg() else ""
    with result.timed("merge: side tables (status)"):
        # rules.status_intervals, set-based, for new households.
        stage.execute(
            f"""INSERT INTO registry_householdstatus (household_id, status, start, "end", reason, dataset_id)
            WITH x AS (
                SELECT household_id AS id, status, exit_year, {start} AS st, {turn} AS turn
                FROM {{hh}} WHERE chunk = %s AND action = 'new'
            )
            SELECT id, 'poor', st, NULL, '', %s FROM x WHERE status = 'poor' OR exit_year IS NULL
            UNION ALL
            SELECT id, 'poor', st, turn, '', %s FROM x
                WHERE status <> 'poor' AND exit_year IS NOT NULL AND (status = 'returned' OR turn > st)
            UNION ALL
            SELECT id, 'exited', turn, {greatest}(%s{cast}, turn), '', %s FROM x
                WHERE status = 'returned' AND exit_year IS NOT NULL
            UNION ALL
            SELECT id, 'returned', {greatest}(%s{cast}, turn), NULL, '', %s FROM x
                WHERE status = 'returned' AND exit_year IS NOT NULL
            UNION ALL
            SELECT id, status, turn, NULL, '', %s FROM x
                WHERE status NOT IN ('poor', 'returned') AND exit_year IS NOT NULL AND turn > st
            UNION ALL
            SELECT id, status, st, NULL, '', %s FROM x
                WHERE status NOT IN ('poor', 'returned') AND exit_year IS NOT NULL AND NOT turn > st""",
            [chunk, ds, ds, as_of, ds, as_of, ds, ds, ds],
        )
        # Households whose status changed: close the open interval, open the new one (rules.next_intervals).
        moved = dict(
            stage.fetch(
                "SELECT household_id, status FROM {hh} WHERE chunk = %s AND action = 'changed' "
                "AND old_status <> status",
                [chunk],
            )
        )
        if moved:
            current: dict[int, list[rules.Interval]] = {}
            ids = list(moved)
            for start_ in range(0, len(ids), 10_000):
                part = ids[start_ : start_ + 10_000]
                for hid, status, begin, end in (
                    HouseholdStatus.objects.filter(household_id__in=part)
                    .order_by("household_id", "start")
                    .values_list("household_id", "status", "start", "end")
                ):
                    current.setdefault(hid, []).append(rules.Interval(status, begin, end))
                HouseholdStatus.objects.filter(household_id__in=part).delete()
            HouseholdStatus.objects.bulk_create(
                [
                    HouseholdStatus(
                        household_id=hid, status=i.status, start=i.start, end=i.end, dataset_id=ds
                    )
                    for hid, status in moved.items()
                    for i in rules.next_intervals(current.get(hid, []), status, as_of=as_of)
                ],
                batch_size=5000,
            )
    with result.timed("merge: side tables (income)"):
        stage.execute(
            """INSERT INTO registry_householdincome (household_id, year, net_per_capita_fen)
            SELECT household_id, %s, income FROM {hh}
            WHERE chunk = %s AND action <> 'same' AND income IS NOT NULL"""
            + (
                ""
                if bare
                else """ ON CONFLICT (household_id, year)
                DO UPDATE SET net_per_capita_fen = excluded.net_per_capita_fen"""
            ),
            [result.data_year, chunk],
        )
    with result.timed("merge: side tables (monitoring)"):
        stage.execute(
            """INSERT INTO registry_monitoring (household_id, kind, identified_on, risks, removal)
            SELECT hs.household_id, hs.mon_kind, COALESCE(hs.mon_since, %s), '[]', '' FROM {hh} hs
            WHERE hs.chunk = %s AND hs.action <> 'same' AND hs.mon_kind IS NOT NULL AND hs.mon_kind <> ''
                AND NOT EXISTS (SELECT 1 FROM registry_monitoring mo WHERE mo.household_id = hs.household_id
                    AND mo.removed_on IS NULL AND mo.kind = hs.mon_kind)""",
            [as_of, chunk],
        )


# --- secondary indexes of an initial load: dropped before, built after -----------------------------

DEFERRED_TABLES = (
    "registry_household",
    "registry_member",
    "registry_householdstatus",
    "registry_householdincome",
)
DEFERRED_DDL = "registry_deferred_ddl"


def _ensure_ddl_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {DEFERRED_DDL} (name varchar(200) PRIMARY KEY, "
            "tbl varchar(200) NOT NULL, kind varchar(16) NOT NULL, ddl text NOT NULL)"
        )


def defer_indexes() -> None:
    """Drop the secondary indexes (and, on PostgreSQL, unique and foreign-key constraints) of the
    big registry tables before an initial load, recording their definitions so that they are
    built again afterwards: by this import, or by the next one if this one was killed."""
    _ensure_ddl_table()
    with transaction.atomic(), connection.cursor() as cursor:
        saved: list[tuple[str, str, str, str]] = []
        if _pg():
            # Inside a caller's transaction, deferred foreign-key checks of rows it wrote would
            # forbid ALTER TABLE ("pending trigger events"): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('u', 'f')",
                [list(DEFERRED_TABLES)],
            )
            saved += [(name, tbl, "constraint", ddl) for name, tbl, ddl in cursor.fetchall()]
            # The primary keys no foreign key points to (statuses, income): each row of a load
            # otherwise also goes into that index (5.8 M statuses at 10 M people: 13.2 s with the
            # key, 8.9 s without and 1.3 s to build it afterwards).
            cursor.execute(
                "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint c "
                "WHERE conrelid::regclass::text = ANY(%s) AND contype = 'p' AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.conrelid)",
                [list(DEFERRED_TABLES)],
            )
            saved += [(name, tbl, "constraint", ddl) for name, tbl, ddl in cursor.fetchall()]
            cursor.execute(
                "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [list(DEFERRED_TABLES)],
            )
            saved += [(name, tbl, "index", ddl) for name, tbl, ddl in cursor.fetchall()]
            # Autovacuum off while loading: it would scan the growing tables again and again (and
            # take locks the index builds wait for); the ANALYZE after the load gives the planner
            # its statistics. Each table's own setting, if it had one, is recorded to come back.
            cursor.execute(
                "SELECT relname, opt FROM pg_class LEFT JOIN LATERAL unnest(reloptions) AS opt "
                "ON opt LIKE 'autovacuum\\_enabled=%%' WHERE relname = ANY(%s) AND relkind = 'r'",
                [list(DEFERRED_TABLES)],
            )
            for tbl, opt in sorted(cursor.fetchall()):
                saved.append(
                    (f"{AUTOVACUUM}{tbl}", tbl, "autovacuum", f"SET ({opt})" if opt else AUTOVACUUM_BACK)
                )
        else:
            marks = ", ".join(["%s"] * len(DEFERRED_TABLES))
            cursor.execute(
                f"SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                list(DEFERRED_TABLES),
            )
            saved += [(name, tbl, "index", ddl) for name, tbl, ddl in cursor.fetchall()]
        for name, tbl, kind, _ddl in saved:
            if kind == "constraint":
                cursor.execute(f'ALTER TABLE {tbl} DROP CONSTRAINT "{name}"')
        for name, _tbl, kind, _ddl in saved:
            if kind == "index":
                cursor.execute(f'DROP INDEX "{name}"')
        for _name, tbl, kind, _ddl in saved:
            if kind == "autovacuum":
                cursor.execute(f"ALTER TABLE {tbl} SET (autovacuum_enabled = false)")
        if not _pg():
            # Built again as unique indexes, which restore_indexes builds like the others.
            saved += _sqlite_table_uniques_off(cursor)
        for name, tbl, kind, ddl in saved:
            cursor.execute(
                f"INSERT INTO {DEFERRED_DDL} (name, tbl, kind, ddl) VALUES (%s, %s, %s, %s)",
                [name, tbl, kind, ddl],
            )


SQLITE_TABLE_UNIQUE = re.compile(r',\s*CONSTRAINT "(?P<name>[^"]+)" UNIQUE \((?P<columns>[^)]*)\)')


def _sqlite_table_uniques_off(cursor: Any) -> list[tuple[str, str, str, str]]:
    """SQLite: the named unique constraints of the deferred tables that are empty, taken out of
    their tables (which SQLite can only do by making the table again: cheap while it is empty),
    with the unique index that replaces each. Django writes a model's UniqueConstraint into the
    table, where SQLite keeps it as an index no DROP INDEX can remove; a load then inserts every
    row into it in random order (the member table's keyed hash: 100 s instead of 53 s for 10 M
    narrow rows on the development machine), where CREATE UNIQUE INDEX afterwards sorts once.
    The table is made again as Django does it (create, copy nothing, drop, rename), in the
    caller's transaction; the indexes, already dropped, are built again by restore_indexes."""
    saved: list[tuple[str, str, str, str]] = []
    for tbl in DEFERRED_TABLES:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [tbl])
        row = cursor.fetchone()
        uniques = list(SQLITE_TABLE_UNIQUE.finditer(row[0])) if row else []
        if not uniques:
            continue
        cursor.execute(f'SELECT 1 FROM "{tbl}" LIMIT 1')
        if cursor.fetchone() is not None:
            continue
        ddl = SQLITE_TABLE_UNIQUE.sub("", row[0])
        head = re.match(r'CREATE TABLE "?' + re.escape(tbl) + r'"? ', ddl)
        if head is None:
            raise RuntimeError(f"unexpected definition of {tbl}: {row[0][:80]}")
        cursor.execute(f'CREATE TABLE "{tbl}__load" ' + ddl[head.end() :])
        cursor.execute(f'DROP TABLE "{tbl}"')
        cursor.execute(f'ALTER TABLE "{tbl}__load" RENAME TO "{tbl}"')
        saved += [
            (u["name"], tbl, "index", f'CREATE UNIQUE INDEX "{u["name"]}" ON "{tbl}" ({u["columns"]})')
            for u in uniques
        ]
    return saved


@contextlib.contextmanager
def sqlite_cache() -> Iterator[None]:
    """SQLite: the page cache of this connection's temporary tables (the staging table, the
    merge's household table) is SQLITE_MERGE_CACHE_MB inside the block and as before after it. The
    merge scans and groups them again and again (10 M people: 261 -> 245 s); the registry's own
    tables keep the default cache (256 MB for them too made the index builds slower, 39 -> 49
    s). Only around the merge: while reading, the staging table's pages would fill it while the
    crypto workers and the member writer hold their memory, and the checks across rows, which
    fetch rows by seq, took 5.5 s with it instead of 1.7. Sorts get helper threads meanwhile
    (sqlite_sort_threads). Elsewhere: nothing."""
    with _sqlite_pragma("temp.cache_size", -SQLITE_MERGE_CACHE_MB * 1024), sqlite_sort_threads():
        yield


def sqlite_sort_threads() -> contextlib.AbstractContextManager[None]:
    """SQLite: up to SQLITE_SORT_THREADS helper threads sort for a statement inside the block
    (the index builds of a load, the merge's groupings), as before after it. Elsewhere: nothing."""
    return _sqlite_pragma("threads", SQLITE_SORT_THREADS)


@contextlib.contextmanager
def _sqlite_pragma(name: str, value: int) -> Iterator[None]:
    """SQLite: ``PRAGMA name = value`` inside the block, as it was after it. Elsewhere: nothing."""
    if _pg():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name} = {before}")


def restore_indexes() -> None:
    """Build the indexes and constraints recorded by :func:`defer_indexes` (none: nothing to do).

    PostgreSQL, outside a transaction: the indexes (and the unique constraints' indexes) are built
    two at a time on two connections (CREATE INDEX takes a SHARE lock, so two builds on one table
    do not wait for each other), each in its own transaction that also removes its record, so a
    killed run leaves only what is still to build; then the unique constraints are attached to
    their indexes and the foreign keys added unchecked and validated two at a time. Elsewhere: one
    transaction, in order."""
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute("SELECT to_regclass(%s)", [DEFERRED_DDL])
            if cursor.fetchone()[0] is None:
                return
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [DEFERRED_DDL])
            if cursor.fetchone() is None:
                return
        cursor.execute(f"SELECT name, tbl, kind, ddl FROM {DEFERRED_DDL} ORDER BY kind DESC, name")
        saved = cursor.fetchall()
    if any(kind == "direct" for _name, _tbl, kind, _ddl in saved):
        _undo_direct_load()
        saved = [row for row in saved if row[2] != "direct"]
    if not saved:
        return
    if _pg() and not connection.in_atomic_block:
        _restore_in_parallel(saved)
        return
    with sqlite_sort_threads(), transaction.atomic(), connection.cursor() as cursor:
        if _pg():
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in defer_indexes
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Indexes first (the unique constraints' indexes are built by ADD CONSTRAINT), then keys.
        for name, tbl, kind, ddl in sorted(saved, key=lambda r: (r[2] != "index", "FOREIGN" in r[3], r[0])):
            if kind == "index":
                cursor.execute(_if_not_exists(ddl))
            elif kind == "constraint":
                cursor.execute(f'ALTER TABLE {tbl} ADD CONSTRAINT "{name}" {ddl}')
        _autovacuum_back(saved)
        cursor.execute(f"DELETE FROM {DEFERRED_DDL}")


AUTOVACUUM = "autovacuum "  # a record's name prefix: the table's autovacuum is off while it loads
AUTOVACUUM_BACK = "RESET (autovacuum_enabled)"


def _autovacuum_back(saved: list[tuple[str, str, str, str]]) -> None:
    """Each table's autovacuum setting as it was before the load, and its record gone."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name, tbl, kind, ddl in saved:
            if kind == "autovacuum":
                cursor.execute(f"ALTER TABLE {tbl} {ddl}")
                cursor.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [name])


def _if_not_exists(ddl: str) -> str:
    """``CREATE [UNIQUE] INDEX name ...`` → ``... IF NOT EXISTS name ...``: a rerun skips what a
    killed run had built already."""
    return re.sub(r"^CREATE (UNIQUE )?INDEX (IF NOT EXISTS )?", r"CREATE \1INDEX IF NOT EXISTS ", ddl)


UNIQUE_DDL = re.compile(r"^(?P<kind>UNIQUE|PRIMARY KEY) \((?P<columns>[^)]*)\)$")


def _plan(
    saved: list[tuple[str, str, str, str]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Index builds (record name, CREATE … IF NOT EXISTS; a unique or primary key's index has no
    record of its own), unique and primary keys to attach to their index (name, table, UNIQUE or
    PRIMARY KEY), and the other constraints (name, table, definition)."""
    builds: list[tuple[str, str]] = []
    attach: list[tuple[str, str, str]] = []
    keys: list[tuple[str, str, str]] = []
    for name, tbl, kind, ddl in saved:
        if kind not in ("index", "constraint"):
            continue  # the mark of a direct load, a table's autovacuum setting
        unique = UNIQUE_DDL.match(ddl)
        if kind == "index":
            builds.append((name, _if_not_exists(ddl)))
        elif unique:
            builds.append(("", f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON {tbl} ({unique["columns"]})'))
            attach.append((name, tbl, unique["kind"]))
        else:
            keys.append((name, tbl, ddl))
    return builds, attach, keys


def _build(record: str, ddl: str) -> None:
    """One index, in a thread's own transaction and connection; its record goes with it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # Two builds at once already; parallel sort workers would only add temporary files.
            cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")
            t0 = time.perf_counter()
            cursor.execute(ddl)
            log.info("registry import: %.1f s %s", time.perf_counter() - t0, ddl)
            if record:
                cursor.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [record])
    finally:
        connection.close()  # this thread's connection


def indexes_meanwhile(table: str) -> Future[None] | None:
    """During a direct load (PostgreSQL, outside a transaction), once a table is final — the member
    table when the rejected rows are gone, the household table when its rows are committed —
    build its deferred indexes, then check its foreign keys to tables the load does not write
    (the dataset), on a thread of their own while the import goes on on this connection (one
    backend each: the two cores both work). What the import writes meanwhile does not lock those
    tables against CREATE INDEX or ADD CONSTRAINT; restore_indexes does the rest afterwards."""
    if not _pg() or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, tbl, kind, ddl FROM {DEFERRED_DDL} WHERE tbl = %s AND kind <> 'direct'",
            [table],
        )
        builds, _attach, keys = _plan(cursor.fetchall())
    # Its foreign keys to tables the load does not write (the dataset) are checked too: nothing
    # holds those tables meanwhile, and the 10 M members' check (5.5 s) leaves the last step.
    early_keys = [
        (name, tbl, ddl)
        for name, tbl, ddl in keys
        if ddl.startswith("FOREIGN KEY") and _referenced(ddl) not in DEFERRED_TABLES
    ]

    def run() -> None:
        for record, ddl in builds:
            _build(record, ddl)
        try:
            for name, tbl, ddl in early_keys:
                with transaction.atomic(), connection.cursor() as cursor:
                    _add_unchecked(cursor, name, tbl, ddl)
                _validate_key(name, tbl)
        finally:
            connection.close()  # this thread's connection

    pool = ThreadPoolExecutor(1, thread_name_prefix="registry-index-early")
    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def _restore_in_parallel(saved: list[tuple[str, str, str, str]]) -> None:
    builds, attach, keys = _plan(saved)
    # Biggest tables first, so the two builders finish together.
    order = {
        t: i
        for i, t in enumerate(
            ("registry_member", "registry_householdstatus", "registry_householdincome", "registry_household")
        )
    }
    builds.sort(
        key=lambda b: min((order[t] for t in order if f" {t} " in b[1] or f".{t} " in b[1]), default=9)
    )
    with ThreadPoolExecutor(2, thread_name_prefix="registry-index") as pool:
        for future in [pool.submit(_build, record, ddl) for record, ddl in builds]:
            future.result()
    # Foreign keys are added NOT VALID (no check, a moment's lock) and then validated two at a
    # time: ADD CONSTRAINT would lock the referenced household table against the other checks,
    # VALIDATE CONSTRAINT does not. Their records go with their validation, so a killed run
    # validates what is left (a constraint already there is validated, not added again).
    foreign = [(name, tbl, ddl) for name, tbl, ddl in keys if ddl.startswith("FOREIGN KEY")]
    other = [(name, tbl, ddl) for name, tbl, ddl in keys if not ddl.startswith("FOREIGN KEY")]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for name, tbl, key in attach:
            cursor.execute(f'ALTER TABLE {tbl} ADD CONSTRAINT "{name}" {key} USING INDEX "{name}"')
        for name, tbl, ddl in sorted(other):
            cursor.execute(f'ALTER TABLE {tbl} ADD CONSTRAINT "{name}" {ddl}')
        for name, tbl, ddl in sorted(foreign):
            _add_unchecked(cursor, name, tbl, ddl)
        cursor.execute(
            f"DELETE FROM {DEFERRED_DDL} WHERE kind <> 'autovacuum' AND NOT (name = ANY(%s))",
            [[n for n, _, _ in foreign]],
        )

    def validate(name: str, tbl: str) -> None:
        try:
            _validate_key(name, tbl)
        finally:
            connection.close()  # this thread's connection

    # The biggest checks first, so the two finish together.
    foreign.sort(key=lambda f: order.get(f[1], 9))
    with ThreadPoolExecutor(2, thread_name_prefix="registry-validate") as pool:
        for future in [pool.submit(validate, name, tbl) for name, tbl, _ in foreign]:
            future.result()
    _autovacuum_back(saved)


REFERENCES = re.compile(r"\bREFERENCES\s+(?P<table>[^\s(]+)")


def _referenced(ddl: str) -> str:
    """The table a foreign key's definition points to (``FOREIGN KEY (x) REFERENCES t(id) …``)."""
    found = REFERENCES.search(ddl)
    return found["table"].split(".")[-1].strip('"') if found else ""


def _add_unchecked(cursor: Any, name: str, tbl: str, ddl: str) -> None:
    """A deferred foreign key added NOT VALID (no check, a moment's lock) in the caller's
    transaction, unless a killed run added it already."""
    cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass", [name, tbl])
    if cursor.fetchone() is None:
        plain = ddl.replace(" NOT VALID", "")
        cursor.execute(f'ALTER TABLE {tbl} ADD CONSTRAINT "{name}" {plain} NOT VALID')


def _validate_key(name: str, tbl: str) -> None:
    """VALIDATE CONSTRAINT (a scan of ``tbl``, which does not lock the referenced table against
    other checks); its record goes with it, so a killed run validates what is left."""
    with transaction.atomic(), connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute(f'ALTER TABLE {tbl} VALIDATE CONSTRAINT "{name}"')
        log.info("registry import: %.1f s validate %s on %s", time.perf_counter() - t0, name, tbl)
        cursor.execute(f"DELETE FROM {DEFERRED_DDL} WHERE name = %s", [name])
