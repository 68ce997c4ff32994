"""Synthetic engagement ledgers: agreement targets, leaders' visits and meetings (issue #4).

Per county pair and year (DOMAIN.md §6 spread over about 300 county pairs): one agreement with a
target for every item, a few leaders' visits each way, one or two joint meetings and a few
other meetings. A provincial (or prefecture) pair gets its own agreement, the visits of
provincial and city leaders and the yearly high-level joint meeting. Lower pairs (townships,
villages, enterprises) get none: these records belong to the county pair (D8).
Only ``ctx.rng`` draws, so the same seed gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import SynthContext

UPPER_LEVELS = frozenset({"province-province", "province-prefecture", "prefecture-prefecture"})
COUNTY_LEVEL = "county-county"

# Target per item as (low, high): 万元 for money items, a count otherwise; per county pair, and
# the provincial pair's own agreement is a multiple of it (DOMAIN.md §6 divided across pairs).
COUNTY_TARGETS: dict[str, tuple[int, int]] = {
    "fiscal_funds": (1500, 4000),
    "social_funds": (200, 800),
    "cadres": (2, 5),
    "professionals": (6, 12),
    "trainings": (300, 600),
    "enterprises": (3, 8),
    "investment": (5000, 20000),
    "workshops": (3, 10),
    "placements": (300, 1000),
    "projects": (10, 25),
    "purchases": (3000, 10000),
    "visits": (2, 3),
    "meetings": (1, 2),
}
# The items the assessment measures people against (FRAMEWORK.md E16, E18, E22, W15, W16, W18,
# W20): shares of the demo's ~700 placements and ~1,600 registry members a county. Drawn from a
# generator derived from ctx.rng's state without advancing it, so that adding them left every
# other synthetic row of the same seed as it was.
ASSESSMENT_TARGETS: dict[str, tuple[int, int]] = {
    "industry_beneficiaries": (150, 400),
    "placements_to_partner": (100, 300),
    "workshop_employees": (50, 150),
    "exits": (100, 300),
    "exit_rate": (10, 30),  # per cent of the registered poor at the start of the year
}
# a provincial agreement asks three times a county pair's, except for these (a rate is a rate)
UPPER_FACTOR = {"visits": 1, "meetings": 1, "cadres": 1, "professionals": 1, "exit_rate": 1}
MONEY = frozenset({"fiscal_funds", "social_funds", "investment", "purchases"})
PURPOSES = (
    "调研对接东西部扶贫协作工作",
    "考察帮扶车间和产业园区建设",
    "对接劳务协作和转移就业",
    "推进消费扶贫产品进机关、进食堂",
    "看望慰问挂职干部和专业技术人才",
    "签订年度帮扶协议",
    "考察学习产业发展和招商引资经验",
    "对接农产品产销合作",
)


def _name(ctx: SynthContext, pairing: Pairing, side: str) -> str:
    s = ctx.sides(pairing, side)[0]
    return s.region.name if s.region is not None else str(s.organisation)


def _levels(pairing: Pairing) -> tuple[str, str]:
    """(top leader level, other leader level) of a pairing's sides."""
    if pairing.level == COUNTY_LEVEL:
        return "county_top", "county_other"
    if pairing.level == "prefecture-prefecture":
        return "prefecture_top", "prefecture_other"
    return "province_top", "province_other"


def _day(ctx: SynthContext, *, last_month: int = 12) -> dt.date:
    return ctx.date_in_year(end_month=last_month)


def _agreement(ctx: SynthContext, pairing: Pairing, common: dict[str, Any]) -> list[dict[str, Any]]:
    rng = ctx.rng
    upper = pairing.level in UPPER_LEVELS
    helper, helped = _name(ctx, pairing, HELPER), _name(ctx, pairing, HELPED)
    signed = dt.date(ctx.year, rng.randint(1, 3), rng.randint(1, 28))
    number = f"{helper[:2]}{helped[:2]}协〔{ctx.year}〕{rng.randint(1, 9)}号"
    title = f"{helper}—{helped}{ctx.year}年东西部扶贫协作{'框架' if upper else '携手奔小康'}协议"
    rows = []
    # hash of the state's integers: the same on every run (no salted str hash involved)
    side = random.Random(hash(rng.getstate()[1]))
    for item, (low, high) in (*COUNTY_TARGETS.items(), *ASSESSMENT_TARGETS.items()):
        value = (side if item in ASSESSMENT_TARGETS else rng).randint(low, high)
        if upper:
            value *= UPPER_FACTOR.get(item, 3)
        row = {
            **common,
            "target_item": item,
            "agreement_title": title,
            "document_number": number,
            "signed_on": signed,
            "target_fen": None,
            "target_count": None,
        }
        if item in MONEY:
            row["target_fen"] = value * 10_000 * 100
        else:
            row["target_count"] = value
        rows.append(row)
    return rows


def _visits(ctx: SynthContext, pairing: Pairing, common: dict[str, Any]) -> list[dict[str, Any]]:
    rng = ctx.rng
    top, other = _levels(pairing)
    helper_code, helped_code = ctx.region_code(pairing, HELPER), ctx.region_code(pairing, HELPED)
    rows, seen = [], set()
    for _ in range(ctx.count(4)):
        east = rng.random() < 0.6
        high, low = (top, other)
        if not east and pairing.level == "province-prefecture":  # the helped side is a prefecture
            high, low = "prefecture_top", "prefecture_other"
        level = rng.choices((high, low, "department"), weights=(45, 40, 15))[0]
        origin, dest = (helper_code, helped_code) if east else (helped_code, helper_code)
        day = _day(ctx, last_month=11)
        key = (day, level, origin, dest)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                **common,
                "leader_level": level,
                "leader": "",
                "direction": "east_to_west" if east else "west_to_east",
                "from_region": origin,
                "to_region": dest,
                "visited_on": day,
                "returned_on": day + dt.timedelta(days=rng.randint(1, 4)),
                "purpose": rng.choice(PURPOSES),
                "delegation_size": rng.randint(3, 15),
            }
        )
    return rows


def _meetings(ctx: SynthContext, pairing: Pairing, common: dict[str, Any]) -> list[dict[str, Any]]:
    rng = ctx.rng
    top, _other = _levels(pairing)
    helper, helped = _name(ctx, pairing, HELPER), _name(ctx, pairing, HELPED)
    kinds = ["joint"] * rng.randint(1, 2)
    kinds += ["leadership"] * rng.randint(1, 3)
    kinds += rng.sample(("promotion", "symposium", "other"), rng.randint(0, 2))
    rows, seen = [], set()
    for n, kind in enumerate(kinds, start=1):
        day = _day(ctx)
        if (kind, day) in seen:
            continue
        seen.add((kind, day))
        place = helped if kind == "joint" and n % 2 else helper
        rows.append(
            {
                **common,
                "kind": kind,
                "held_on": day,
                "place": place,
                "chair_level": top if kind in ("joint", "leadership") else "department",
                "minutes_number": f"{helper[:2]}协纪〔{ctx.year}〕{n}号"
                if kind in ("joint", "leadership")
                else "",
                "summary": f"研究部署{ctx.year}年{helper}与{helped}东西部扶贫协作重点工作",
                "attendance": rng.randint(10, 40),
            }
        )
    return rows


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"agreement_targets": [], "visits": [], "meetings": []}
    for pairing in ctx.pairings:
        if pairing.level not in UPPER_LEVELS | {COUNTY_LEVEL} or not pairing.active_in(ctx.year):
            continue
        if any(s.region is None for s in (*ctx.sides(pairing, HELPER), *ctx.sides(pairing, HELPED))):
            continue
        common = {"pairing": pairing, "year": ctx.year, "region_code": ctx.region_code(pairing, HELPER)}
        out["agreement_targets"] += _agreement(ctx, pairing, common)
        out["visits"] += _visits(ctx, pairing, common)
        out["meetings"] += _meetings(ctx, pairing, common)
    return out
