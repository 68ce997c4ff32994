"""The fact tables the engine reads: one narrow Arrow schema per kind of fact (DESIGN.md D15).

No ID number, name or ciphertext appears in any fact (D3). People are ``person``, a dense integer
key assigned when the facts are taken (over the registry members and every other person a ledger
names, e.g. seconded cadres), so joins are on integers; a person key absent from ``people`` is a
person the registry does not know. Money is integer fen (D4), places are 12-digit codes (D5),
``[low, high)`` is a region's subtree as a code range, dates are ``date32``.

Tables:

``people``           one row per registry member: ``person``, ``household``, ``region_code`` (the
                     household's village), ``entered_on``/``left_on`` (joined and left the
                     household, null = unknown/still there), ``died``, ``exit_year`` of the household.
``statuses``         household poverty status intervals ``[start, end)``: poor, pre_exit, exited, returned.
``monitoring``       household monitoring intervals ``[start, end)`` (防返贫动态监测).
``help_measures``    help measures of monitored households: ``household``, ``identified_on`` (the
                     start of the monitoring episode they belong to), ``started_on``.
``regions``          every region with its subtree range and flags: national poverty county with
                     planned and actual exit year, deep poverty (三区三州, provincial deep-poverty
                     county, deep-poverty village, extremely poor township), poor village.
``pairings``         the pairing tree: ``pairing``, ``parent``, programme, level, years.
``pairing_sides``    each side member of a pairing as a region range (organisations: their region).
``record_people``    the people named on ledger records, with the entry-time check's verdict: one row
                     per ledger, record and person.
one table per ledger the record columns (``record`` is the ledger row id, ``pairing`` the lowest
                     pairing it concerns, ``year`` the year it counts for, ``side``, ``region_code``)
                     followed by that ledger's own columns (:data:`LEDGERS`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

I64, I16, I8 = pa.int64(), pa.int16(), pa.int8()
STR, DATE, BOOL = pa.string(), pa.date32(), pa.bool_()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


PEOPLE = _schema(
    ("person", I64),
    ("household", I64),
    ("region_code", I64),
    ("entered_on", DATE),
    ("left_on", DATE),
    ("died", BOOL),
    ("exit_year", I16),
)
STATUSES = _schema(("household", I64), ("status", STR), ("start", DATE), ("end", DATE))
MONITORING = _schema(("household", I64), ("start", DATE), ("end", DATE))
HELP_MEASURES = _schema(("household", I64), ("identified_on", DATE), ("started_on", DATE))
REGIONS = _schema(
    ("code", I64),
    ("level", I8),
    ("low", I64),
    ("high", I64),
    ("poverty_county", BOOL),
    ("planned_exit_year", I16),
    ("exit_year", I16),
    ("deep_poverty", BOOL),
    ("poor_village", BOOL),
)
PAIRINGS = _schema(
    ("pairing", I64),
    ("parent", I64),
    ("programme", STR),
    ("level", STR),
    ("start_year", I16),
    ("end_year", I16),
)
PAIRING_SIDES = _schema(("pairing", I64), ("side", STR), ("region_code", I64), ("low", I64), ("high", I64))
RECORD_PEOPLE = _schema(
    ("ledger", STR),
    ("record", I64),
    ("person", I64),
    ("checked_ok", BOOL),  # the entry-time PersonCheck verdict (null: not checked)
)

RECORD = (("record", I64), ("pairing", I64), ("year", I16), ("side", STR), ("region_code", I64))

LEDGERS: Mapping[str, pa.Schema] = {
    name: _schema(*RECORD, *own)
    for name, own in {
        "visits": (
            ("leader_level", STR),
            ("direction", STR),
            ("from_region", I64),
            ("to_region", I64),
            ("visited_on", DATE),
        ),
        "meetings": (("kind", STR), ("held_on", DATE)),
        "agreement_targets": (("target_item", STR), ("target_fen", I64), ("target_count", I64)),
        "secondments": (
            ("person_type", STR),
            ("professional_field", STR),
            ("direction", STR),
            ("start_on", DATE),
            ("end_on", DATE),
            ("post", STR),
        ),
        "training_sessions": (("kind", STR), ("start_on", DATE), ("end_on", DATE), ("participants", I64)),
        "training_participants": (("kind", STR), ("trained_on", DATE)),
        "fiscal_funds": (
            ("source_level", STR),
            ("target_region_code", I64),
            ("agreed_fen", I64),
            ("arrived_fen", I64),
            ("arrived_on", DATE),
            ("spent_fen", I64),
            ("spent_on", DATE),
        ),
        "fund_allocations": (
            ("transfer_number", STR),
            ("project_number", STR),
            ("amount_fen", I64),
            ("pooled", BOOL),
        ),
        "donations": (("kind", STR), ("value_fen", I64), ("donated_on", DATE), ("target_region_code", I64)),
        "projects": (
            ("project_number", STR),
            ("project_type", STR),
            ("stage", STR),
            ("east_west_fen", I64),
            ("started_on", DATE),
            ("completed_on", DATE),
            ("accepted_on", DATE),
            ("plan_notice_on", DATE),
            ("completion_notice_on", DATE),
            ("benefit_households", I64),
        ),
        "project_beneficiaries": (("project_number", STR), ("started_on", DATE)),
        "investments": (
            ("enterprise", I64),
            ("invested_fen", I64),
            ("landed_on", DATE),
            ("location_code", I64),
        ),
        "parks": (("location_code", I64), ("invested_fen", I64), ("established_on", DATE)),
        "workshops": (("village_code", I64), ("jobs", I64), ("opened_on", DATE), ("closed_on", DATE)),
        "industry_beneficiaries": (
            ("benefit", STR),
            ("entity_kind", STR),
            ("started_on", DATE),
            ("amount_fen", I64),
        ),
        "placements": (
            ("workplace_region", I64),
            ("start", DATE),
            ("end", DATE),
            ("destination", STR),
            ("arrangement", STR),
        ),
        "purchases": (("channel", STR), ("amount_fen", I64), ("purchased_on", DATE), ("origin_code", I64)),
    }.items()
}

CORE: Mapping[str, pa.Schema] = {
    "people": PEOPLE,
    "statuses": STATUSES,
    "monitoring": MONITORING,
    "help_measures": HELP_MEASURES,
    "regions": REGIONS,
    "pairings": PAIRINGS,
    "pairing_sides": PAIRING_SIDES,
    "record_people": RECORD_PEOPLE,
}
SCHEMAS: Mapping[str, pa.Schema] = {**CORE, **LEDGERS}

# Columns that must never appear in a fact table, whatever a future schema adds (D3).
FORBIDDEN = frozenset(
    {"id_hmac", "id_cipher", "id_number", "name", "name_cipher", "name_hmac", "phone_cipher"}
)


class FactError(ValueError):
    """A fact table that does not match its schema."""


def empty(name: str) -> pa.Table:
    return SCHEMAS[name].empty_table()


def conform(name: str, table: pa.Table) -> pa.Table:
    """``table`` with exactly the columns of ``name``'s schema, in order and cast to its types.

    >>> conform("monitoring", pa.table({"household": [1], "start": [None], "end": [None]})).schema.names
    ['household', 'start', 'end']
    """
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise FactError(f"fact table {name}: missing columns {missing}")
    extra = sorted(set(table.column_names) & FORBIDDEN)
    if extra:
        raise FactError(f"fact table {name}: personal columns {extra} never leave the database")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise FactError(f"fact table {name}: {exc}") from exc


class Facts:
    """A complete set of fact tables (missing ones empty), conformed to their schemas."""

    def __init__(self, tables: Mapping[str, pa.Table]) -> None:
        unknown = sorted(set(tables) - set(SCHEMAS))
        if unknown:
            raise FactError(f"unknown fact tables {unknown}")
        self.tables: dict[str, pa.Table] = {
            name: conform(name, tables[name]) if name in tables else empty(name) for name in SCHEMAS
        }

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]
