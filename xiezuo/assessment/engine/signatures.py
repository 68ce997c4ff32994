"""The typed signatures of the indicator library's functions: what a framework file may say.

A computation in a framework is ``{function: NAME, <param>: <value>, …}``; the loader checks it
against the signature here before anything runs (an unknown function or column is an error of
the file, not of a run). Kinds of parameter:

``ledger``        a ledger fact table (:data:`facts.LEDGERS`)
``column``        a column of the computation's ledger; ``date`` a date column of it
``where``         ``{column: value}``, ``{column: [values]}`` or ``{column: {empty: true|false}}``
``int``/``bool``/``number``  a literal; ``choice`` one of the listed words
``computation``   a nested computation; ``computations`` a non-empty list of them
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = True
    default: object = None
    choices: tuple[str, ...] = ()


def _p(kind: str, default: object = None, *, choices: tuple[str, ...] = ()) -> Param:
    return Param(kind, required=False, default=default, choices=choices)


SIGNATURES: Mapping[str, Mapping[str, Param]] = {
    # records of the year in the pairing and its sub-pairings
    "count": {"ledger": Param("ledger"), "where": _p("where", {})},
    "distinct": {"ledger": Param("ledger"), "column": Param("column"), "where": _p("where", {})},
    "sum": {"ledger": Param("ledger"), "column": Param("column"), "where": _p("where", {})},
    # the people named on the records: verified against the registry (or not: cadres), with
    # a duration condition, counted once per pairing (people) or per event (person_times)
    "people": {
        "ledger": Param("ledger"),
        "date": Param("date"),
        "end": _p("date"),
        "min_days": _p("int", 0),
        "window": _p("choice", "year", choices=("year", "any")),
        "verify": _p("bool", True),
        "accept_exited": _p("bool", True),
        "unit": _p("choice", "people", choices=("people", "person_times")),
        "where": _p("where", {}),
    },
    "share": {"numerator": Param("computation"), "denominator": Param("computation")},
    "mean": {"parts": Param("computations")},
    "total": {"parts": Param("computations")},
    # this year's value ÷ last year's
    "growth": {"of": Param("computation")},
    # share of the amount in deep-poverty areas ÷ their share of the helped side's registered poor
    "tilt": {
        "ledger": Param("ledger"),
        "column": Param("column"),
        "region": Param("column"),
        "where": _p("where", {}),
    },
    # the helped area's registry: people registered poor at the start of the year, exits in the year
    "registry_poor": {},
    "registry_exits": {},
    # poverty counties with a county pair and poor villages with a pair, in the helped area
    "coverage": {},
    # the share of the active pairs of a level below a pairing with a record (E3)
    "pairs_with": {"level": Param("text"), "ledger": Param("ledger"), "where": _p("where", {})},
    # the share of records (by count or by an amount column) whose key is named on a record of a
    # people computation with a verified person (E11, W11: projects with verified beneficiaries)
    "linked_share": {
        "ledger": Param("ledger"),
        "key": Param("column"),
        "people": Param("computation"),
        "column": _p("column"),
        "where": _p("where", {}),
    },
    # people counted by any of the people computations whose household exited in the year (E22)
    "exits_helped": {"parts": Param("computations")},
    # the share of the year's planned county and village exits in the helped area achieved (W21)
    "exits_on_plan": {},
    # the share of households newly monitored in the year with a help measure within `days` (W22)
    "helped_in_time": {"days": _p("int", 30)},
    # confirmed findings of misuse or false reporting (W12; none recorded yet: 0)
    "misuse_findings": {},
    # the share of the side's agreement items reached, from the other indicators' values (E4, W4)
    "agreement_reached": {},
    # not computed from the facts (yet): reported without a value, scored 0, a finding asks for it
    "manual": {"note": _p("text", "")},
}
