"""Snapshots: the facts of a run frozen into Parquet files named by their content hash.

``<data dir>/snapshots/objects/<sha256>.parquet`` holds one fact table (a table that did not
change between two snapshots is stored once); ``<data dir>/snapshots/<sha256>.json`` is the
manifest (fact table → object hash), and its own hash names the snapshot. Tables are written
sorted, with fixed writer options (same rows → same bytes), so the same database content
gives the same snapshot id, and an assessment recomputed from a snapshot gives byte-identical
results whatever changed in the database since.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from xiezuo.assessment.engine.facts import SCHEMAS, Facts


class SnapshotError(ValueError):
    """A snapshot that is missing, incomplete or altered."""


def root() -> Path:
    return Path(settings.DATA_DIR) / "snapshots"


def _bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    # Fixed writer options and no statistics timestamps: the file is a function of the rows.
    pq.write_table(table, sink, compression="zstd", row_group_size=1_000_000, store_schema=True)
    return sink.getvalue()


def write(tables: Mapping[str, pa.Table]) -> str:
    """Freeze the fact tables; returns the snapshot id (the manifest's sha256)."""
    facts = Facts(tables)
    objects = root() / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    for name in sorted(SCHEMAS):
        data = _bytes(facts[name])
        digest = hashlib.sha256(data).hexdigest()
        path = objects / f"{digest}.parquet"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        manifest[name] = {"sha256": digest, "rows": facts[name].num_rows}
    text = json.dumps({"tables": manifest}, sort_keys=True, indent=1).encode()
    snapshot = hashlib.sha256(text).hexdigest()
    target = root() / f"{snapshot}.json"
    if not target.exists():
        target.write_bytes(text)
    return snapshot


def read(snapshot: str) -> Facts:
    """The facts of a snapshot, each file checked against its hash."""
    path = root() / f"{snapshot}.json"
    if len(snapshot) != 64 or not path.exists():
        raise SnapshotError(f"no snapshot {snapshot}")
    text = path.read_bytes()
    if hashlib.sha256(text).hexdigest() != snapshot:
        raise SnapshotError(f"snapshot {snapshot}: the manifest was altered")
    tables = {}
    for name, entry in json.loads(text)["tables"].items():
        data = (root() / "objects" / f"{entry['sha256']}.parquet").read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise SnapshotError(f"snapshot {snapshot}: table {name} was altered")
        tables[name] = pq.read_table(io.BytesIO(data))
    return Facts(tables)
