"""The pure assessment engine (issue 18): scoring rules, frameworks as data, verification
semantics on a hand-built world of Arrow tables (tests/assessment_world.py). No database."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from xiezuo.assessment.engine import assess, framework, library, scoring
from xiezuo.assessment.engine.facts import SCHEMAS, FactError, Facts

sys.path.insert(0, str(Path(__file__).parent))
import assessment_world as world

ROOT = Path(__file__).resolve().parents[1]


def test_the_engine_imports_no_django() -> None:
    code = (
        "import sys; import xiezuo.assessment.engine.assess, xiezuo.assessment.engine.framework; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={"PATH": ""}
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- scoring ----------------------------------------------------------------------------------

SCORES = [
    # rule, params, points, value, target, expected points, finding
    ("ratio", {}, 8, 1500, 2000, "6.00", None),
    ("ratio", {}, 8, 2500, 2000, "8.00", None),  # capped at 1.0
    ("ratio", {"cap": 1.2}, 5, 2500, 2000, "6.00", None),  # capped at 1.2 × points
    ("ratio", {"cap": 1.2}, 5, 2200, 2000, "5.50", None),
    ("ratio", {}, 3, 1, 3, "1.00", None),
    ("ratio", {}, 4, 2, 3, "2.67", None),  # 2.6666… rounds half up
    ("ratio", {}, 7, 0.5, 0.8, "4.38", None),  # 4.375 → 4.38
    ("ratio", {}, 8, 10, None, "0.00", "missing_target"),
    ("ratio", {}, 8, 10, 0, "0.00", "bad_target"),
    ("ratio", {}, 8, None, 10, "0.00", "no_value"),
    ("at_least", {}, 6, 0.95, 0.9, "6.00", None),
    ("at_least", {}, 6, 0.9, 0.9, "6.00", None),
    ("at_least", {}, 6, 0.875, 0.9, "5.83", None),
    ("at_least", {}, 3, 0, 1, "0.00", None),
    ("at_least", {}, 3, 1, 0, "3.00", None),  # nothing asked: full points
    ("at_least", {}, 3, 1, None, "0.00", "missing_target"),
    ("growth", {}, 4, 4000, 2000, "4.00", None),
    ("growth", {}, 4, 1500, 2000, "3.00", None),
    ("growth", {}, 4, 500, 0, "4.00", None),  # nothing last year
    ("growth", {}, 4, 500, None, "0.00", "missing_target"),
    ("penalty", {}, 4, 0, None, "4.00", None),
    ("penalty", {}, 4, 3, None, "1.00", None),
    ("penalty", {"per": 1.5}, 4, 2, None, "1.00", None),
    ("penalty", {}, 4, 9, None, "0.00", None),  # not below 0
    ("penalty", {}, 4, None, None, "0.00", "no_value"),
]


@pytest.mark.parametrize(("rule", "params", "points", "value", "target", "expected", "finding"), SCORES)
def test_scoring_rules(
    rule: str,
    params: dict[str, Any],
    points: float,
    value: float | None,
    target: float | None,
    expected: str,
    finding: str | None,
) -> None:
    assert scoring.score(rule, params, points=points, value=value, target=target) == (
        Decimal(expected),
        finding,
    )


BANDS = (("好", 90.0), ("较好", 80.0), ("一般", 60.0), ("较差", 0.0))


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "好"),
        ("90.00", "好"),
        ("89.99", "较好"),
        ("80", "较好"),
        ("79.99", "一般"),
        ("60", "一般"),
        ("59.99", "较差"),
        ("0", "较差"),
    ],
)
def test_grades(total: str, grade: str) -> None:
    assert scoring.grade(Decimal(total), BANDS) == grade


@pytest.mark.parametrize(
    ("totals", "ranks"),
    [
        ([80, 95, 80, 70], [2, 1, 2, 4]),
        ([50], [1]),
        ([60, 60, 60], [1, 1, 1]),
        ([10, 20, 30, 20], [4, 2, 1, 2]),
    ],
)
def test_ranks_ties_share_a_rank(totals: list[int], ranks: list[int]) -> None:
    assert scoring.ranks([Decimal(t) for t in totals]) == ranks


# --- frameworks -------------------------------------------------------------------------------


def test_the_shipped_frameworks_load() -> None:
    fws = framework.shipped()
    assert sorted(fws) == ["ew-2017-east", "ew-2017-west", "ew-2021"]
    east, west, new = fws["ew-2017-east"], fws["ew-2017-west"], fws["ew-2021"]
    assert [i.code for i in east.indicators] == [f"E{n}" for n in range(1, 23)]
    assert [i.code for i in west.indicators] == [f"W{n}" for n in range(1, 23)]
    assert [(a.name, a.points) for a in east.areas] == [
        ("组织领导", 12),
        ("人才支援", 14),
        ("资金支持", 20),
        ("产业合作", 18),
        ("劳务协作", 18),
        ("携手奔小康", 18),
    ]
    assert [a.name for a in west.areas][1:3] == ["人才交流", "资金使用"]
    assert east.sides() == ("helper",) and west.sides() == ("helped",) and new.sides() == ("helper", "helped")
    assert [f.code for f in framework.for_year(2019, fws)] == ["ew-2017-east", "ew-2017-west"]
    assert [f.code for f in framework.for_year(2021, fws)] == ["ew-2021"]
    assert east.version == "2017.2" and east.indicators[16].computation.params["min_days"] == 90


def _raw() -> dict[str, Any]:
    text = (framework.SHIPPED / "ew-2017-east.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def _break(path: list[Any], value: Any = None, delete: bool = False) -> dict[str, Any]:
    raw = _raw()
    node = raw
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


E17 = ["areas", 4, "indicators", 0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_break(["side"], "east"), "ew-2017-east: side: expected helper or helped, got 'east'"),
        (
            _break(["years"], {"from": 2020, "to": 2017}),
            "ew-2017-east: years: from and to are years, to not before from",
        ),
        (_break(["title"], delete=True), "ew-2017-east: missing title"),
        (_break(["colour"], "red"), "ew-2017-east: unknown key colour"),
        (
            _break([*E17, "computation", "function"], "cnt"),
            "ew-2017-east: areas[4].indicators[0].computation: unknown function 'cnt' (known: "
            "agreement_reached, count, coverage, distinct, exits_helped, exits_on_plan, growth, "
            "helped_in_time, linked_share, manual, mean, misuse_findings, pairs_with, people, "
            "registry_exits, registry_poor, share, sum, tilt, total)",
        ),
        (
            _break([*E17, "computation", "ledger"], "jobs"),
            "ew-2017-east: areas[4].indicators[0].computation.ledger: unknown ledger 'jobs' (known: "
            "agreement_targets, "
            "donations, fiscal_funds, fund_allocations, industry_beneficiaries, investments, "
            "meetings, parks, "
            "placements, project_beneficiaries, projects, purchases, secondments, training_participants, "
            "training_sessions, visits, workshops)",
        ),
        (
            _break([*E17, "computation", "date"], "workplace_region"),
            "ew-2017-east: areas[4].indicators[0].computation.date: column 'workplace_region' of "
            "ledger placements is not a date",
        ),
        (
            _break([*E17, "computation", "end"], "finish"),
            "ew-2017-east: areas[4].indicators[0].computation.end: ledger placements has no column 'finish'",
        ),
        (
            _break([*E17, "computation", "min_days"], -5),
            "ew-2017-east: areas[4].indicators[0].computation.min_days: expected a whole number ≥ 0, got -5",
        ),
        (
            _break([*E17, "computation", "unit"], "heads"),
            "ew-2017-east: areas[4].indicators[0].computation.unit: expected one of people, "
            "person_times, got 'heads'",
        ),
        (
            _break([*E17, "computation", "where"], {"destination": {"like": "to%"}}),
            "ew-2017-east: areas[4].indicators[0].computation.where.destination: expected a value, a "
            "list of values or {empty: true|false}",
        ),
        (
            _break([*E17, "computation", "sql"], "select 1"),
            "ew-2017-east: areas[4].indicators[0].computation: unknown key sql",
        ),
        (
            _break([*E17, "computation", "ledger"], delete=True),
            "ew-2017-east: areas[4].indicators[0].computation: missing ledger",
        ),
        (
            _break([*E17, "scoring"], {"rule": "bonus"}),
            "ew-2017-east: areas[4].indicators[0].scoring: unknown rule 'bonus' (known: ratio, "
            "at_least, growth, penalty)",
        ),
        (
            _break([*E17, "scoring"], {"rule": "ratio", "cap": 0}),
            "ew-2017-east: areas[4].indicators[0].scoring.cap: must be above 0",
        ),
        (
            _break([*E17, "target"], {"rule": "agreement"}),
            "ew-2017-east: areas[4].indicators[0].target: rule agreement needs item (an agreement "
            "target item)",
        ),
        (
            _break([*E17, "target"], {"rule": "guess"}),
            "ew-2017-east: areas[4].indicators[0].target: unknown rule 'guess' (known: agreement, "
            "fixed, last_year, none)",
        ),
        (
            _break([*E17, "points"], "eight"),
            "ew-2017-east: areas[4].indicators[0].points: expected a number, got 'eight'",
        ),
        (
            _break([*E17, "points"], 9),
            "ew-2017-east: areas[4]: area labour has 18 points but its helper indicators add up to 19",
        ),
        (
            _break(["areas", 4, "points"], 19),
            "ew-2017-east: areas[4]: area labour has 19 points but its helper indicators add up to 18",
        ),
        (_break(["points"], 120), "ew-2017-east: the helper side's indicators add up to 100 points, not 120"),
        (_break([*E17, "code"], "E1"), "ew-2017-east: areas[4].indicators[0]: indicator code E1 used twice"),
        (
            _break(
                ["grades"],
                [{"grade": "好", "min": 60}, {"grade": "较好", "min": 80}, {"grade": "较差", "min": 0}],
            ),
            "ew-2017-east: grades: bands from the highest minimum down, each lower, the last from 0",
        ),
        (_break(["areas", 0], "leadership"), "ew-2017-east: areas[0]: expected a mapping"),
    ],
)
def test_framework_errors_say_where(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(framework.FrameworkError) as caught:
        framework.parse(raw)
    assert str(caught.value) == message


def test_framework_file_that_is_not_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("code: [unclosed\n", encoding="utf-8")
    with pytest.raises(framework.FrameworkError, match=r"^broken.yaml: not valid YAML"):
        framework.load(bad)


# --- facts ------------------------------------------------------------------------------------


def test_facts_refuse_personal_columns_and_missing_ones() -> None:
    people = world.tables()["people"]
    with pytest.raises(FactError, match=r"people: personal columns \['id_hmac'\] never leave the database"):
        Facts({"people": people.append_column("id_hmac", pa.array(["x"] * people.num_rows))})
    with pytest.raises(FactError, match=r"fact table people: missing columns \['exit_year'\]"):
        Facts({"people": people.drop_columns(["exit_year"])})
    with pytest.raises(FactError, match=r"unknown fact tables \['persons'\]"):
        Facts({"persons": people})


# --- the hand-built world ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def run() -> assess.Assessment:
    fws = framework.shipped()
    return assess.assess(world.facts(), [fws["ew-2017-east"], fws["ew-2017-west"]], 2019)


def _result(run: assess.Assessment, pairing: int, side: str) -> assess.SideResult:
    return next(r for r in run.results if r.pairing == pairing and r.side == side)


def _value(run: assess.Assessment, pairing: int, side: str, code: str) -> assess.Value:
    return next(v for v in _result(run, pairing, side).indicators if v.code == code)


def _evidence(run: assess.Assessment, code: str, pairing: int) -> list[tuple[int, int, str | None]]:
    return [
        (r["record"], r["person"], r["reason"])
        for r in run.evidence.to_pylist()
        if r["indicator"] == code and r["pairing"] == pairing
    ]


def test_only_active_pairings_are_assessed_on_each_side(run: assess.Assessment) -> None:
    assert [(r.framework, r.side, r.pairing, r.level) for r in run.results] == [
        ("ew-2017-east", "helper", 1, "province-province"),
        ("ew-2017-east", "helper", 2, "county-county"),
        ("ew-2017-east", "helper", 3, "county-county"),
        ("ew-2017-west", "helped", 1, "province-province"),
        ("ew-2017-west", "helped", 2, "county-county"),
        ("ew-2017-west", "helped", 3, "county-county"),
    ]


def test_placements_are_verified_once_per_pairing_with_reasons(run: assess.Assessment) -> None:
    assert _evidence(run, "E17", 2) == [
        (101, 1, None),
        (102, 1, "counted_already"),
        (104, 2, None),  # exited in 2018: still counts (脱贫不脱政策)
        (106, 4, "not_poor_on_date"),  # died before the start
        (107, 5, None),  # exited but monitored on the date
        (108, 6, "outside_area"),
        (109, 7, "not_registered"),
        (110, 8, "not_poor_on_date"),  # registered only after the start
        (111, 9, "too_short"),  # 61 days in the year
        (112, 9, None),  # 1 January – 31 March: exactly 90 days
    ]
    assert _evidence(run, "E17", 3) == [(103, 1, "outside_area"), (105, 3, None)]
    # the provincial pair includes its county pairs; 113 is its own record of a person counted by 105
    assert [(r, reason) for r, _, reason in _evidence(run, "E17", 1)] == [
        (101, None), (102, "counted_already"), (103, "outside_area"), (104, None), (105, None),
        (106, "not_poor_on_date"), (107, None), (108, "outside_area"), (109, "not_registered"),
        (110, "not_poor_on_date"), (111, "too_short"), (112, None), (113, "counted_already"),
    ]  # fmt: skip
    assert [(p, _value(run, p, "helper", "E17").value) for p in (1, 2, 3)] == [(1, 5.0), (2, 4.0), (3, 1.0)]
    assert [(p, _value(run, p, "helped", "W17").value) for p in (1, 2, 3)] == [(1, 5.0), (2, 4.0), (3, 1.0)]


def test_refusals_and_stale_checks_are_findings(run: assess.Assessment) -> None:
    e17 = [(f.pairing, f.reason, f.severity, f.records) for f in run.findings if f.indicator == "E17"]
    assert e17 == [
        (1, "counted_already", "warning", (102, 113)),
        (1, "not_poor_on_date", "warning", (106, 110)),
        (1, "not_registered", "warning", (109,)),
        (1, "outside_area", "warning", (103, 108)),
        (1, "stale_check", "info", (106,)),  # the entry-time check said 106 counts
        (1, "too_short", "warning", (111,)),
        (2, "counted_already", "warning", (102,)),
        (2, "not_poor_on_date", "warning", (106, 110)),
        (2, "not_registered", "warning", (109,)),
        (2, "outside_area", "warning", (108,)),
        (2, "stale_check", "info", (106,)),
        (2, "too_short", "warning", (111,)),
        (3, "outside_area", "warning", (103,)),
    ]


def test_secondments_of_180_days_count_each_cadre_once(run: assess.Assessment) -> None:
    assert _evidence(run, "E5", 1) == [(201, 20, None), (202, 21, "too_short"), (203, 20, "counted_already")]
    assert _evidence(run, "E5", 3) == [(203, 20, None)]  # 242 days
    assert [_value(run, p, "helper", "E5").value for p in (1, 2, 3)] == [1.0, 1.0, 1.0]


def test_targets_from_the_agreement_and_last_year(run: assess.Assessment) -> None:
    # pairing 1 has its own agreement (10), pairing 3 its own (2); no cadre target anywhere
    assert [(v.value, v.target, v.points) for v in (_value(run, p, "helper", "E17") for p in (1, 2, 3))] == [
        (5.0, 10.0, Decimal("4.00")),
        (4.0, 4.0, Decimal("8.00")),
        (1.0, 2.0, Decimal("4.00")),
    ]
    e5 = _value(run, 1, "helper", "E5")
    assert (e5.target, e5.points) == (None, Decimal("0.00"))
    missing = [
        (f.pairing, f.severity) for f in run.findings if f.indicator == "E5" and f.reason == "missing_target"
    ]
    assert missing == [(1, "error"), (2, "error"), (3, "error")]
    # fiscal aid: 3,500 + 500 fen arrived in 2019, 2,000 in 2018
    assert [(v.value, v.target, v.points) for v in (_value(run, 1, "helper", c) for c in ("E9", "E10"))] == [
        (4000.0, 8000.0, Decimal("3.00")),
        (4000.0, 2000.0, Decimal("4.00")),
    ]


def test_shares_and_the_deep_poverty_tilt(run: assess.Assessment) -> None:
    # 3,500 of 4,000 fen went to deep-poverty county A, where 3 of the 4 people registered poor on
    # 1 January live (people 1, 4, 9 in A; 3 in B): 0.875 ÷ 0.75
    assert _value(run, 1, "helper", "E12").value == 0.875 / 0.75
    assert _value(run, 3, "helper", "E12").value is None  # no registered poor in deep poverty there
    w9 = [(_value(run, p, "helped", "W9").value, _value(run, p, "helped", "W9").points) for p in (1, 2, 3)]
    assert w9 == [(0.875, Decimal("5.83")), (3000 / 3500, Decimal("5.71")), (1.0, Decimal("6.00"))]


def test_areas_totals_grades_and_ranks(run: assess.Assessment) -> None:
    got = [(r.side, r.pairing, r.total, r.grade, r.rank) for r in run.results]
    assert got == [
        ("helper", 1, Decimal("21.00"), "较差", 1),
        ("helper", 2, Decimal("25.00"), "较差", 1),  # E4: its one agreement item (placements) reached
        ("helper", 3, Decimal("13.00"), "较差", 2),
        ("helped", 1, Decimal("19.33"), "较差", 1),  # W12: no misuse found, 4 points each
        ("helped", 2, Decimal("25.71"), "较差", 1),  # and W4 as E4
        ("helped", 3, Decimal("19.50"), "较差", 2),
    ]
    helper2 = _result(run, 2, "helper")
    assert helper2.areas == {
        "leadership": Decimal("3.00"), "talent": Decimal("0.00"), "funds": Decimal("9.00"),
        "industry": Decimal("0.00"), "labour": Decimal("8.00"), "pairs": Decimal("5.00"),
    }  # fmt: skip


def test_the_same_facts_give_the_same_json(run: assess.Assessment) -> None:
    fws = framework.shipped()
    again = assess.assess(world.facts(), [fws["ew-2017-east"], fws["ew-2017-west"]], 2019)
    meta = {"id": 1, "year": 2019, "frameworks": run.frameworks, "snapshot": "x"}
    first = json.dumps(assess.as_json(run, meta), ensure_ascii=False, sort_keys=True)
    assert first == json.dumps(assess.as_json(again, meta), ensure_ascii=False, sort_keys=True)
    assert run.evidence.equals(again.evidence) and run.findings == again.findings
    result = assess.as_json(run, meta)["results"][1]
    assert result["indicators"][16] == {"code": "E17", "value": 4, "target": 4, "points": 8.0}
    summary = [result[k] for k in ("pairing", "side", "level", "total", "grade", "rank")]
    assert summary == [2, "helper", "county-county", 25.0, "较差", 1]


def _figure(raw: dict[str, Any], year: int = 2019, facts: Facts | None = None) -> dict[int, float | None]:
    """One computation of the library on the hand-built world: pairing → value."""
    computation = framework._computation(raw, "test")
    con, tables, clo, helped = assess.connect(facts or world.facts())
    ctx = library.Context(t=tables, year=year, closure=clo, helped=helped)
    t = con.to_pyarrow(library.compute(ctx, computation).values)
    return dict(sorted(zip(t["pairing"].to_pylist(), t["value"].to_pylist(), strict=True)))


ARRIVED = {"function": "sum", "ledger": "fiscal_funds", "column": "arrived_fen"}
SPENT = {"function": "sum", "ledger": "fiscal_funds", "column": "spent_fen"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (ARRIVED, {1: 4000.0, 2: 3500.0, 3: 500.0}),
        ({**ARRIVED, "where": {"target_region_code": world.A}}, {1: 3500.0, 2: 3500.0}),
        # 102 and 112 have an end (114 is of 2018)
        ({"function": "count", "ledger": "placements", "where": {"end": {"empty": False}}}, {1: 2.0, 2: 2.0}),
        ({"function": "distinct", "ledger": "placements", "column": "pairing"}, {1: 3.0, 2: 1.0, 3: 1.0}),
        # only pairing 1 had funds arrive in 2018: the others have no figure (the runner's None)
        ({"function": "growth", "of": ARRIVED}, {1: 2.0}),
        ({"function": "total", "parts": [ARRIVED, SPENT]}, {1: 7500.0, 2: 6500.0, 3: 1000.0}),
        (
            {
                "function": "mean",
                "parts": [
                    {"function": "share", "numerator": SPENT, "denominator": ARRIVED},
                    {"function": "share", "numerator": ARRIVED, "denominator": ARRIVED},
                ],
            },
            {1: (0.875 + 1) / 2, 2: (3000 / 3500 + 1) / 2, 3: 1.0},
        ),
        # people 1, 3, 4, 9 were registered poor on 1 January 2019 (2 and 5 had exited, 8 came later)
        ({"function": "registry_poor"}, {1: 4.0, 2: 3.0, 3: 1.0}),
        ({"function": "registry_exits"}, {1: 0.0, 2: 0.0, 3: 0.0}),
        (
            {"function": "people", "ledger": "placements", "date": "start", "unit": "person_times"},
            {
                1: 8.0,
                2: 6.0,
                3: 1.0,
            },  # every verified placement: 101 102 104 107 111 112 (2), 105 (3), 113 (1)
        ),
        (
            {"function": "people", "ledger": "placements", "date": "start", "accept_exited": False},
            {1: 4.0, 2: 3.0, 3: 1.0},  # person 2 (exited in 2018) no longer counts
        ),
    ],
)
def test_library_functions(raw: dict[str, Any], expected: dict[int, float | None]) -> None:
    assert _figure(raw) == expected


def test_a_two_sided_framework_scores_each_side_on_its_own() -> None:
    fws = framework.shipped()
    run = assess.assess(world.facts(), [fws["ew-2021"]], 2019)
    got = [(r.side, r.pairing, list(r.areas), r.total) for r in run.results]
    assert [(side, pairing) for side, pairing, _, _ in got] == [
        ("helped", 1), ("helped", 2), ("helped", 3), ("helper", 1), ("helper", 2), ("helper", 3)
    ]  # fmt: skip
    assert all(areas == ["leadership", "funds", "labour", "consumption"] for _, _, areas, _ in got)
    helper1 = next(r for r in run.results if r.side == "helper" and r.pairing == 1)
    assert [(v.code, v.value, v.target, v.points) for v in helper1.indicators] == [
        ("H1", 0.0, 1.0, Decimal("0.00")),
        ("H2", 0.0, 1.0, Decimal("0.00")),
        ("H3", 4000.0, 2000.0, Decimal("20.00")),
        ("H4", 4000.0, 8000.0, Decimal("10.00")),
        ("H5", 5.0, 10.0, Decimal("10.00")),
        ("H6", 0.0, None, Decimal("0.00")),
    ]
    assert helper1.total == Decimal("40.00") and helper1.grade == "较差"


def test_pairing_coverage_of_poverty_counties_and_poor_villages() -> None:
    tables = world.tables()
    # county pair 3 (→ county B) ended in 2018; a poor village in A gets a village pair 5 under 2
    pairings = tables["pairings"].to_pylist()
    for row in pairings:
        if row["pairing"] == 3:
            row["end_year"] = 2018
    pairings.append({**pairings[1], "pairing": 5, "parent": 2, "level": "village-village"})
    regions = tables["regions"].to_pylist()
    village = {key: None for key in regions[0]} | {"level": 5, "poor_village": True}
    regions += [
        {**village, "code": world.VA, "low": world.VA, "high": world.VA + 1},
        {**village, "code": world.VA + 1, "low": world.VA + 1, "high": world.VA + 2},
    ]
    sides = tables["pairing_sides"].to_pylist()
    sides.append(
        {"pairing": 5, "side": "helped", "region_code": world.VA, "low": world.VA, "high": world.VA + 1}
    )
    changed = {
        **tables,
        "pairings": pa.Table.from_pylist(pairings, schema=tables["pairings"].schema),
        "regions": pa.Table.from_pylist(regions, schema=tables["regions"].schema),
        "pairing_sides": pa.Table.from_pylist(sides, schema=tables["pairing_sides"].schema),
    }
    con, t, clo, helped = assess.connect(Facts(changed))
    ctx = library.Context(t=t, year=2019, closure=clo, helped=helped)
    out = con.to_pyarrow(library.coverage(ctx).values)
    got = dict(sorted(zip(out["pairing"].to_pylist(), out["value"].to_pylist(), strict=True)))
    # pair 1: counties ½ (A paired, B's pair ended), villages ½ (one of two) → ½; pair 2 (A): 1 and
    # ½ → ¾; pair 3 (B): its own pair ended → 0; pair 5 (the village): 1
    assert got == {1: 0.5, 2: 0.75, 3: 0.0, 5: 1.0}


def _with(tables: dict[str, pa.Table], name: str, rows: list[dict[str, Any]]) -> dict[str, pa.Table]:
    schema = SCHEMAS[name]
    extra = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
    return {**tables, name: pa.concat_tables([tables.get(name, schema.empty_table()), extra])}


def test_the_assessments_agreement_items_are_targets() -> None:
    items = [
        (2, "industry_beneficiaries", 5), (3, "industry_beneficiaries", 3),
        (2, "placements_to_partner", 2), (2, "workshop_employees", 4), (2, "exits", 6),
        (2, "exit_rate", 20), (3, "exit_rate", 30),
    ]  # fmt: skip
    rows = [
        {"record": 410 + n, "pairing": p, "year": 2019, "side": "helper", "region_code": world.A,
         "target_item": item, "target_count": count}
        for n, (p, item, count) in enumerate(items)
    ]  # fmt: skip
    fws = framework.shipped()
    run = assess.assess(
        Facts(_with(world.tables(), "agreement_targets", rows)),
        [fws["ew-2017-east"], fws["ew-2017-west"]],
        2019,
    )
    codes = ("E16", "E18", "E22", "W15", "W16", "W18", "W20")
    got = {
        p: [
            (v.code, v.target)
            for c in codes
            for v in [_value(run, p, "helper" if c[0] == "E" else "helped", c)]
        ]
        for p in (1, 2, 3)
    }
    # pairing 1 has no agreement items of these: its county pairs' counts add up, their rates average
    assert got == {
        1: [("E16", 8.0), ("E18", 2.0), ("E22", 6.0), ("W15", 4.0), ("W16", 8.0), ("W18", 2.0),
            ("W20", 0.25)],
        2: [("E16", 5.0), ("E18", 2.0), ("E22", 6.0), ("W15", 4.0), ("W16", 5.0), ("W18", 2.0),
            ("W20", 0.2)],
        3: [("E16", 3.0), ("E18", None), ("E22", None), ("W15", None), ("W16", 3.0), ("W18", None),
            ("W20", 0.3)],
    }  # fmt: skip
    missing = sorted(
        (f.indicator, f.pairing)
        for f in run.findings
        if f.reason == "missing_target" and f.indicator in codes
    )
    assert missing == [("E18", 3), ("E22", 3), ("W15", 3), ("W18", 3)]


# --- the indicators computed since 2017.2 (E3, E4, E11, E22, W4, W11, W12, W21, W22, D6) ------


def _rows(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"year": 2019, "side": "helped", "region_code": world.A, **r} for r in rows]


def test_county_pairs_with_a_visit_of_their_helper_countys_leaders() -> None:
    visits = _rows(
        "visits",
        [
            {"record": 501, "pairing": 2, "leader_level": "county_top", "direction": "east_to_west"},
            {"record": 502, "pairing": 3, "leader_level": "county_other", "direction": "east_to_west"},
            {"record": 503, "pairing": 3, "leader_level": "county_top", "direction": "west_to_east"},
            {"record": 504, "pairing": 3, "leader_level": "county_top", "direction": "east_to_west",
             "year": 2018},
        ],
    )  # fmt: skip
    facts = Facts(_with(world.tables(), "visits", visits))
    e3 = {
        "function": "pairs_with",
        "level": "county-county",
        "ledger": "visits",
        "where": {"leader_level": "county_top", "direction": "east_to_west"},
    }
    # only county pair 2's helper leaders came in 2019: one of pair 1's two county pairs
    assert _figure(e3, facts=facts) == {1: 0.5, 2: 1.0, 3: 0.0}


def _projects() -> Facts:
    projects = _rows(
        "projects",
        [
            {"record": 601, "pairing": 2, "project_number": "P1", "east_west_fen": 1000},
            {"record": 602, "pairing": 2, "project_number": "P2", "east_west_fen": 3000},
            {"record": 603, "pairing": 3, "project_number": "P3", "east_west_fen": 500},
            {"record": 604, "pairing": 2, "project_number": None, "east_west_fen": 1000},
        ],
    )
    beneficiaries = _rows(
        "project_beneficiaries",
        [
            {"record": 701, "pairing": 2, "project_number": "P1", "started_on": world.D(2019, 3, 1)},
            {"record": 702, "pairing": 2, "project_number": "P2", "started_on": world.D(2019, 3, 1)},
            {"record": 703, "pairing": 3, "project_number": "P3", "started_on": world.D(2019, 3, 1)},
            {"record": 704, "pairing": 3, "project_number": "P3", "started_on": world.D(2019, 4, 1)},
        ],
    )
    named = [
        {"ledger": "project_beneficiaries", "record": r, "person": p}
        for r, p in ((701, 1), (702, 7), (703, 3), (704, 3))
    ]
    t = _with(world.tables(), "projects", projects)
    t = _with(t, "project_beneficiaries", beneficiaries)
    return Facts(_with(t, "record_people", named))


BENEFICIARIES = {"function": "people", "ledger": "project_beneficiaries", "date": "started_on"}


def test_funds_and_projects_linked_to_verified_beneficiary_households() -> None:
    facts = _projects()
    base = {
        "function": "linked_share",
        "ledger": "projects",
        "key": "project_number",
        "people": BENEFICIARIES,
    }
    # P1 has person 1 (verified), P2 only person 7 (not registered), P3 person 3 (twice);
    # the project without a number links to no one
    assert _figure({**base, "column": "east_west_fen"}, facts=facts) == {
        1: 1500 / 5500,
        2: 1000 / 5000,
        3: 1.0,
    }
    assert _figure(base, facts=facts) == {1: 2 / 4, 2: 1 / 3, 3: 1.0}


def test_exits_of_people_who_received_help() -> None:
    t = world.tables()
    people = t["people"].to_pylist()
    for row in people:
        if row["person"] in (1, 3, 6, 8):  # 6 is outside the area, 8 not yet poor on its start
            row["exit_year"] = 2019
        if row["person"] == 2:
            row["exit_year"] = 2018
    facts = Facts({**t, "people": pa.Table.from_pylist(people, schema=t["people"].schema)})
    raw = {
        "function": "exits_helped",
        "parts": [{"function": "people", "ledger": "placements", "date": "start"}, BENEFICIARIES],
    }
    assert _figure(raw, facts=facts) == {1: 2.0, 2: 1.0, 3: 1.0}


def test_planned_county_and_village_exits_achieved() -> None:
    t = world.tables()
    regions = t["regions"].to_pylist()
    for row in regions:
        if row["code"] == world.A:
            row["planned_exit_year"], row["exit_year"] = 2019, 2019
        if row["code"] == world.B:
            row["planned_exit_year"], row["exit_year"] = 2019, 2020  # late
    village = {key: None for key in regions[0]} | {"level": 5, "poor_village": True}
    regions += [
        {**village, "code": world.VA, "low": world.VA, "high": world.VA + 1, "planned_exit_year": 2019},
        {**village, "code": world.VB, "low": world.VB, "high": world.VB + 1, "planned_exit_year": 2020},
    ]
    facts = Facts({**t, "regions": pa.Table.from_pylist(regions, schema=t["regions"].schema)})
    # pair 2 (county A): A exited on plan, its village VA not; pair 3: B late; VB is due in 2020
    assert _figure({"function": "exits_on_plan"}, facts=facts) == {1: 1 / 3, 2: 0.5, 3: 0.0}
    assert _figure({"function": "exits_on_plan"}, facts=world.facts()) == {}


def test_monitored_households_helped_within_a_month() -> None:
    D = world.D
    monitoring = [
        {"household": 10, "start": D(2019, 5, 1)},  # person 1 in A: helped after 45 days
        {"household": 12, "start": D(2019, 7, 1)},  # person 3 in B: helped on day 30
        {"household": 15, "start": D(2019, 3, 1)},  # outside every helped area
        {"household": 13, "start": D(2018, 3, 1)},  # identified before the year
    ]  # household 14 (person 5 in A) is monitored from 2019-02-01 in the world: helped on day 19
    measures = [
        {"household": 14, "identified_on": D(2019, 2, 1), "started_on": D(2019, 2, 20)},
        {"household": 10, "identified_on": D(2019, 5, 1), "started_on": D(2019, 6, 15)},
        {"household": 12, "identified_on": D(2019, 7, 1), "started_on": D(2019, 7, 31)},
        {"household": 12, "identified_on": D(2019, 7, 1), "started_on": D(2019, 7, 2)},
        {"household": 13, "identified_on": D(2018, 3, 1), "started_on": D(2018, 3, 2)},
        {"household": 15, "identified_on": D(2019, 3, 1), "started_on": D(2019, 3, 2)},
    ]
    t = _with(world.tables(), "monitoring", monitoring)
    facts = Facts(_with(t, "help_measures", measures))
    raw = {"function": "helped_in_time", "days": 30}
    assert _figure(raw, facts=facts) == {1: 2 / 3, 2: 0.5, 3: 1.0}
    assert _figure({**raw, "days": 10}, facts=facts) == {1: 1 / 3, 2: 0.0, 3: 1.0}


def test_agreement_items_reached_and_no_misuse_found(run: assess.Assessment) -> None:
    # pair 1 agreed placements (10: 5 reached) and fiscal aid (8,000 fen: 4,000 arrived); pair 2
    # placements (4: 4 reached); pair 3 placements (2: 1 reached)
    e4 = [(_value(run, p, "helper", "E4").value, _value(run, p, "helper", "E4").points) for p in (1, 2, 3)]
    assert e4 == [(0.0, Decimal("0.00")), (1.0, Decimal("3.00")), (0.0, Decimal("0.00"))]
    w4 = [_value(run, p, "helped", "W4").value for p in (1, 2, 3)]
    assert w4 == [0.0, 1.0, 0.0]  # the helped side's agreement indicators: placements only (W17)
    w12 = [(_value(run, p, "helped", "W12").value, _value(run, p, "helped", "W12").points) for p in (1, 2, 3)]
    assert w12 == [(0.0, Decimal("4.00"))] * 3
    # no visits in the world: no county pair had its leaders' visit
    assert [_value(run, p, "helper", "E3").value for p in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert not [
        f for f in run.findings if f.reason == "no_value" and f.indicator in ("E3", "E4", "W4", "W12")
    ]
