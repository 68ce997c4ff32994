"""A small hand-built world of Arrow fact tables for the pure engine tests (no database).

One provincial pair 1 (江苏 32 → 贵州 52) with two county pairs: 2 (→ county A 522701, deep
poverty) and 3 (→ county B 522702). People, by person key:

1  A, poor since 2014                       5  A, exited 2016, monitored from 2019-02-01
2  A, poor 2014–2017, exited from 2018      6  outside (云南 533101), poor
3  B, poor since 2014                       7  not in the registry
4  A, poor, died 2019-03-01                 8  A, registered poor only from 2019-06-01
9  A, poor since 2014                       20, 21  seconded cadres (not registry members)

Placements of 2019 (record: pairing, person, start–end → what E17 says at the county pair):

101 2 p1 01-10–        counted            108 2 p6 03-01–        outside_area
102 2 p1 05-01–10-01   counted_already    109 2 p7 03-01–        not_registered
103 3 p1 02-01–        outside_area       110 2 p8 03-01–        not_poor_on_date (not yet)
104 2 p2 03-01–        counted (exited)   111 2 p9 11-01–        too_short (61 days)
105 3 p3 04-01–        counted            112 2 p9 2018-06-01–03-31  counted (exactly 90 days)
106 2 p4 04-01–        not_poor_on_date (died; the entry-time check said ok: stale)
107 2 p5 03-01–        counted (monitored)
113 1 p3 07-01–        counted at pair 1 only, where p3 was counted by 105 before: counted_already
114 2 p1 (year 2018)   not in 2019
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from xiezuo.assessment.engine.facts import SCHEMAS, Facts

D = dt.date
P52, A, B = 520000000000, 522701000000, 522702000000
VA, VB, VOUT = 522701100201, 522702100201, 533101100201


def _t(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def _record(record: int, pairing: int, year: int = 2019, side: str = "helped", **own: Any) -> dict[str, Any]:
    return {"record": record, "pairing": pairing, "year": year, "side": side, "region_code": A, **own}


def tables() -> dict[str, pa.Table]:
    people = [
        (1, 10, VA, None, False),
        (2, 11, VA, None, False),
        (3, 12, VB, None, False),
        (4, 13, VA, D(2019, 3, 1), True),
        (5, 14, VA, None, False),
        (6, 15, VOUT, None, False),
        (8, 16, VA, None, False),
        (9, 17, VA, None, False),
    ]
    poor14 = D(2014, 1, 1)
    statuses = [
        (10, "poor", poor14, None),
        (11, "poor", poor14, D(2018, 1, 1)),
        (11, "exited", D(2018, 1, 1), None),
        (12, "poor", poor14, None),
        (13, "poor", poor14, None),
        (14, "poor", poor14, D(2016, 1, 1)),
        (14, "exited", D(2016, 1, 1), None),
        (15, "poor", poor14, None),
        (16, "poor", D(2019, 6, 1), None),
        (17, "poor", poor14, None),
    ]
    placements = [
        (101, 2, 1, D(2019, 1, 10), None, 2019),
        (102, 2, 1, D(2019, 5, 1), D(2019, 10, 1), 2019),
        (103, 3, 1, D(2019, 2, 1), None, 2019),
        (104, 2, 2, D(2019, 3, 1), None, 2019),
        (105, 3, 3, D(2019, 4, 1), None, 2019),
        (106, 2, 4, D(2019, 4, 1), None, 2019),
        (107, 2, 5, D(2019, 3, 1), None, 2019),
        (108, 2, 6, D(2019, 3, 1), None, 2019),
        (109, 2, 7, D(2019, 3, 1), None, 2019),
        (110, 2, 8, D(2019, 3, 1), None, 2019),
        (111, 2, 9, D(2019, 11, 1), None, 2019),
        (112, 2, 9, D(2018, 6, 1), D(2019, 3, 31), 2019),
        (113, 1, 3, D(2019, 7, 1), None, 2019),
        (114, 2, 1, D(2018, 3, 1), None, 2018),
    ]
    secondments = [
        (201, 2, 20, D(2019, 1, 1), D(2019, 12, 31)),
        (202, 2, 21, D(2019, 8, 1), None),
        (203, 3, 20, D(2019, 2, 1), D(2019, 9, 30)),
    ]
    return {
        "people": _t(
            "people",
            [
                {"person": p, "household": h, "region_code": r, "left_on": left, "died": died}
                for p, h, r, left, died in people
            ],
        ),
        "statuses": _t(
            "statuses", [dict(zip(("household", "status", "start", "end"), s, strict=True)) for s in statuses]
        ),
        "monitoring": _t("monitoring", [{"household": 14, "start": D(2019, 2, 1), "end": None}]),
        "regions": _t(
            "regions",
            [
                {"code": P52, "level": 1, "low": P52, "high": 530000000000, "deep_poverty": False},
                {
                    "code": A,
                    "level": 3,
                    "low": A,
                    "high": A + 10**6,
                    "poverty_county": True,
                    "deep_poverty": True,
                },
                {
                    "code": B,
                    "level": 3,
                    "low": B,
                    "high": B + 10**6,
                    "poverty_county": True,
                    "deep_poverty": False,
                },
            ],
        ),
        "pairings": _t(
            "pairings",
            [
                {
                    "pairing": 1,
                    "parent": None,
                    "programme": "east_west_2016",
                    "level": "province-province",
                    "start_year": 2016,
                },
                {
                    "pairing": 2,
                    "parent": 1,
                    "programme": "east_west_2016",
                    "level": "county-county",
                    "start_year": 2016,
                },
                {
                    "pairing": 3,
                    "parent": 1,
                    "programme": "east_west_2016",
                    "level": "county-county",
                    "start_year": 2016,
                },
                {
                    "pairing": 4,
                    "parent": None,
                    "programme": "east_west_2016",
                    "level": "province-province",
                    "start_year": 2016,
                    "end_year": 2018,
                },
            ],
        ),
        "pairing_sides": _t(
            "pairing_sides",
            [
                {
                    "pairing": 1,
                    "side": "helper",
                    "region_code": 320000000000,
                    "low": 320000000000,
                    "high": 330000000000,
                },
                {"pairing": 1, "side": "helped", "region_code": P52, "low": P52, "high": 530000000000},
                {
                    "pairing": 2,
                    "side": "helper",
                    "region_code": 320101000000,
                    "low": 320101000000,
                    "high": 320102000000,
                },
                {"pairing": 2, "side": "helped", "region_code": A, "low": A, "high": A + 10**6},
                {
                    "pairing": 3,
                    "side": "helper",
                    "region_code": 320102000000,
                    "low": 320102000000,
                    "high": 320103000000,
                },
                {"pairing": 3, "side": "helped", "region_code": B, "low": B, "high": B + 10**6},
            ],
        ),
        "record_people": _t(
            "record_people",
            [
                {"ledger": "placements", "record": r, "person": p, "checked_ok": True if r == 106 else None}
                for r, _, p, *_ in placements
            ]
            + [{"ledger": "secondments", "record": r, "person": p} for r, _, p, *_ in secondments],
        ),
        "placements": _t(
            "placements",
            [
                _record(r, pr, year, start=s, end=e, destination="near_home")
                for r, pr, _, s, e, year in placements
            ],
        ),
        "secondments": _t(
            "secondments",
            [
                _record(
                    r, pr, side="helper", person_type="cadre", direction="east_to_west", start_on=s, end_on=e
                )
                for r, pr, _, s, e in secondments
            ],
        ),
        "fiscal_funds": _t(
            "fiscal_funds",
            [
                _record(301, 2, side="helper", arrived_fen=3500, spent_fen=3000, target_region_code=A),
                _record(302, 3, side="helper", arrived_fen=500, spent_fen=500, target_region_code=B),
                _record(
                    303, 1, 2018, side="helper", arrived_fen=2000, spent_fen=2000, target_region_code=P52
                ),
            ],
        ),
        "agreement_targets": _t(
            "agreement_targets",
            [
                _record(401, 1, side="helper", target_item="placements", target_count=10),
                _record(402, 2, side="helper", target_item="placements", target_count=4),
                _record(403, 3, side="helper", target_item="placements", target_count=2),
                _record(404, 1, side="helper", target_item="fiscal_funds", target_fen=8000),
            ],
        ),
    }


def facts() -> Facts:
    return Facts(tables())
