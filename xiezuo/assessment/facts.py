"""Fact tables from the database (DESIGN.md D15): one function per kind of fact, Django models to
Arrow tables of the schemas in :mod:`xiezuo.assessment.engine.facts`.

Every table is read with one plain SQL query, fetched in batches (no per-row query, no model
instances). ID numbers, names and ciphertexts never leave the database (D3): registry members are
keyed by their integer id; a person named on a ledger record is matched to a member on the keyed
hash inside the query, and a person the registry does not know gets a key above every member's,
dense in the order of the hashes, so the hash itself stays behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
from django.apps import apps
from django.db import connection

from xiezuo.assessment.engine import facts as schemas
from xiezuo.regions.models import LEVEL_DIGITS

BATCH = 50_000
DEEP_FLAGS = ("deep_3q3z", "deep_county", "deep_village", "extreme_township")

# fact table → (model label, its own columns: fact column → model field); the record columns
# (record, pairing, year, side, region_code) come first for every ledger.
LEDGER_MODELS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "visits": ("engagement.LeaderVisit", {}),
    "meetings": ("engagement.Meeting", {}),
    "agreement_targets": ("engagement.AgreementTarget", {}),
    "secondments": ("talent.Secondment", {}),
    "training_sessions": ("talent.TrainingSession", {}),
    "training_participants": ("talent.TrainingParticipant", {}),
    "fiscal_funds": ("funds.FiscalFund", {}),
    "fund_allocations": ("funds.FundAllocation", {}),
    "donations": ("funds.Donation", {}),
    "projects": ("projects.Project", {}),
    "project_beneficiaries": ("projects.Beneficiary", {}),
    "investments": ("industry.Investment", {"enterprise": "enterprise"}),
    "parks": ("industry.Park", {}),
    "workshops": ("industry.Workshop", {}),
    "industry_beneficiaries": ("industry.Beneficiary", {}),
    "placements": ("labour.Placement", {}),
    "purchases": ("consumption.Purchase", {}),
}
# Text columns where an empty string means "none" (forms store blank, the engine asks "is there one").
BLANK_IS_NULL = frozenset({"post", "project_number", "entity_kind"})


def _rows(sql: str, params: Sequence[Any] = ()) -> Iterator[list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(BATCH):
            yield batch


def _table(name: str, sql: str, params: Sequence[Any] = ()) -> pa.Table:
    """The query's rows as a table of ``name``'s schema (columns in schema order), read in batches."""
    schema = schemas.SCHEMAS[name]
    loose = pa.schema([pa.field(f.name, pa.string() if f.type == pa.date32() else f.type) for f in schema])
    parts = []
    for batch in _rows(sql, params):
        columns = list(zip(*batch, strict=True))
        arrays = [_array(col, field.type) for col, field in zip(columns, loose, strict=True)]
        parts.append(pa.Table.from_arrays(arrays, schema=loose))
    table = pa.concat_tables(parts) if parts else loose.empty_table()
    return schemas.conform(name, table)


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    if kind == pa.string():
        # SQLite hands back dates as text, PostgreSQL as dates: both become ISO text, cast once.
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if kind == pa.bool_():
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    return pa.array(values, kind)


def _name(label: str) -> str:
    return str(apps.get_model(label)._meta.db_table)


def _range_sql(code: str, level: str) -> tuple[str, str]:
    cases = " ".join(f"WHEN {lv} THEN {10 ** (12 - d)}" for lv, d in LEVEL_DIGITS.items())
    return code, f"{code} + CASE {level} {cases} END"


def people() -> pa.Table:
    m, h = _name("registry.Member"), _name("registry.Household")
    return _table(
        "people",
        f"SELECT m.id, m.household_id, h.region_code, m.entered_on, m.left_on, "
        f"CASE WHEN m.leave_reason = 'death' THEN 1 ELSE 0 END, h.exit_year "
        f"FROM {m} m JOIN {h} h ON h.id = m.household_id ORDER BY m.id",
    )


def statuses() -> pa.Table:
    s = _name("registry.HouseholdStatus")
    return _table(
        "statuses", f'SELECT household_id, status, start, "end" FROM {s} ORDER BY household_id, start, id'
    )


def monitoring() -> pa.Table:
    t = _name("registry.Monitoring")
    return _table(
        "monitoring",
        f"SELECT household_id, identified_on, removed_on FROM {t} ORDER BY household_id, identified_on, id",
    )


def help_measures() -> pa.Table:
    t, m = _name("registry.HelpMeasure"), _name("registry.Monitoring")
    return _table(
        "help_measures",
        f"SELECT m.household_id, m.identified_on, t.started_on FROM {t} t "
        f"JOIN {m} m ON m.id = t.monitoring_id ORDER BY m.household_id, m.identified_on, t.started_on, t.id",
    )


def regions() -> pa.Table:
    r, f = _name("regions.Region"), _name("regions.RegionFlag")
    low, high = _range_sql("r.code", "r.level")
    deep = ", ".join(f"'{x}'" for x in DEEP_FLAGS)

    def has(flag_sql: str) -> str:
        found = f"SELECT 1 FROM {f} x WHERE x.region_id = r.id AND x.flag {flag_sql}"
        return f"CASE WHEN EXISTS ({found}) THEN 1 ELSE 0 END"

    # the flag's value is the exit year as text (blank where the source gives none)
    year = (
        "CASE WHEN LENGTH(x.value) = 4 AND x.value BETWEEN '1900' AND '2999' "
        "THEN CAST(x.value AS INTEGER) END"
    )
    exit_year = f"(SELECT {year} FROM {f} x WHERE x.region_id = r.id AND x.flag = 'poverty_county')"
    county, village, deep_in = has("= 'poverty_county'"), has("= 'poor_village'"), has(f"IN ({deep})")
    sql = (
        f"SELECT r.code, r.level, {low}, {high}, {county}, NULL, {exit_year}, {deep_in}, {village} "
        f"FROM {r} r ORDER BY r.code, r.level"
    )

    return _table("regions", sql)


def pairings() -> pa.Table:
    p = _name("pairings.Pairing")
    return _table(
        "pairings", f"SELECT id, parent_id, programme, level, start_year, end_year FROM {p} ORDER BY id"
    )


def pairing_sides() -> pa.Table:
    s = _name("pairings.PairingSide")
    low, high = _range_sql("region_code", "region_level")
    return _table(
        "pairing_sides",
        f"SELECT pairing_id, side, region_code, {low}, {high} FROM {s} "
        "ORDER BY pairing_id, side, region_code, id",
    )


def record_people() -> pa.Table:
    """People on records: members by id; others keyed above every member, dense by keyed hash."""
    pc, m = _name("ledgers.PersonCheck"), _name("registry.Member")
    top = next(_rows(f"SELECT COALESCE(MAX(id), 0) FROM {m}"))[0][0]
    rows = (
        f"SELECT pc.ledger, pc.record_id, m.id AS member, pc.id_hmac, pc.ok, pc.verify "
        f"FROM {pc} pc LEFT JOIN {m} m ON m.id_hmac = pc.id_hmac"
    )
    strangers = f"SELECT DISTINCT id_hmac FROM ({rows}) q WHERE member IS NULL"
    numbered = f"SELECT id_hmac, ROW_NUMBER() OVER (ORDER BY id_hmac) AS n FROM ({strangers}) s"
    # one row per ledger, record and person (a person named in two columns of a record is one
    # person there); the verdict is "ok" only when every check of them on the record was
    sql = (
        f"SELECT q.ledger, q.record_id, COALESCE(q.member, %s + k.n) AS person, "
        f"MIN(CASE WHEN NOT q.verify THEN NULL WHEN q.ok THEN 1 WHEN NOT q.ok THEN 0 END) "
        f"FROM ({rows}) q LEFT JOIN ({numbered}) k ON k.id_hmac = q.id_hmac AND q.member IS NULL "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return _table("record_people", sql, [top])


def ledger(name: str) -> pa.Table:
    label, renames = LEDGER_MODELS[name]
    model = apps.get_model(label)
    fields = {f.name: f for f in model._meta.concrete_fields}
    own = [f.name for f in schemas.LEDGERS[name]][len(schemas.RECORD) :]
    cols = ["id", "pairing_id", "year", "side", "region_code"]
    for column in own:
        field = fields[renames.get(column, column)]
        sql = connection.ops.quote_name(field.column)
        cols.append(f"NULLIF({sql}, '')" if column in BLANK_IS_NULL else sql)
    return _table(name, f"SELECT {', '.join(cols)} FROM {model._meta.db_table} ORDER BY id")


def take() -> dict[str, pa.Table]:
    """Every fact table, read from the database now."""
    out = {
        "people": people(),
        "statuses": statuses(),
        "monitoring": monitoring(),
        "help_measures": help_measures(),
        "regions": regions(),
        "pairings": pairings(),
        "pairing_sides": pairing_sides(),
        "record_people": record_people(),
    }
    for name in LEDGER_MODELS:
        out[name] = ledger(name)
    return out
