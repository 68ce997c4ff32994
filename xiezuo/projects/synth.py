"""Synthetic projects ledgers (issue #4): assistance projects and their beneficiaries.

A county pair runs some 10–40 projects a year. The projects are those the funds generator
allocated east-west funds to (``xiezuo.funds.synth.project_allocations``), each with exactly the
allocated amount as its east-west funds; without funds rows (this module alone) it makes its own.
Stages follow a year's calendar (bank → approval → start → completion → acceptance → county
reimbursement → hand-over), cut at 31 December: late projects are still under way. Beneficiaries
are registry members of the helped county (with the framework's small share of planted bad
claims), checked on the project's start date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiezuo.funds.synth import WAN, project_allocations, project_number
from xiezuo.ledgers.types import HELPED
from xiezuo.pairings.models import Pairing
from xiezuo.projects.rules import STAGES
from xiezuo.regions.models import Region
from xiezuo.synth.ledgers import SynthContext

TYPES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    (
        "industry",
        45,
        ("食用菌种植基地", "肉牛养殖场", "中药材种植基地", "设施蔬菜大棚", "光伏电站", "农产品加工车间"),
    ),
    ("infrastructure", 20, ("产业路硬化工程", "村内道路硬化", "便民桥建设", "农田灌溉渠道")),
    ("education", 8, ("小学教学楼改造", "幼儿园建设", "学校食堂改造")),
    ("health", 7, ("村卫生室建设", "乡镇卫生院设备购置")),
    ("housing", 5, ("农村危房改造",)),
    ("employment", 8, ("帮扶车间建设", "扶贫公益岗位开发")),
    ("water", 4, ("安全饮水巩固提升工程",)),
    ("other", 3, ("村级综合服务中心",)),
)
MECHANISMS: dict[str, tuple[tuple[str, float], ...]] = {
    "industry": (("dividend", 40), ("employment", 25), ("order_purchase", 20), ("rent", 15)),
    "employment": (("employment", 90), ("other", 10)),
}
DEFAULT_MECHANISM = (("other", 60), ("employment", 40))
# Days from the previous stage: (low, high), stage by stage after 入库.
GAPS = {
    "approved_on": (20, 60),
    "started_on": (15, 60),
    "completed_on": (60, 180),
    "accepted_on": (10, 40),
    "reimbursed_on": (10, 30),
    "handed_over_on": (15, 60),
}


def _village_names(ctx: SynthContext, p: Pairing, n: int) -> list[tuple[int, str]]:
    codes = ctx.villages(p, HELPED, n)
    names = dict(Region.objects.filter(code__in=set(codes)).order_by("level").values_list("code", "name"))
    return [(c, names.get(c, "")) for c in codes]


def _stages(ctx: SynthContext) -> dict[str, Any]:
    """Stage dates along a year, cut at 31 December, and the stage reached."""
    end = dt.date(ctx.year, 12, 31)
    day = dt.date(ctx.year, 1, 1) + dt.timedelta(days=ctx.rng.randint(-60, 90))
    dates: dict[str, dt.date | None] = {"banked_on": day}
    for column, (low, high) in GAPS.items():
        day += dt.timedelta(days=ctx.rng.randint(low, high))
        dates[column] = day if day <= end else None  # later stages are later still: None too
    stage = "reserve"
    for code, stage_date, _zh in STAGES:
        if stage_date is not None and dates.get(stage_date) is not None:
            stage = code
    out: dict[str, Any] = {**dates, "stage": stage}
    started, completed = dates["started_on"], dates["completed_on"]
    if started is not None:
        out["plan_notice_on"] = started - dt.timedelta(days=ctx.rng.randint(7, 20))
    if completed is not None:
        notice = completed + dt.timedelta(days=ctx.rng.randint(3, 15))
        out["completion_notice_on"] = notice if notice <= end else None
    return out


def _projects(ctx: SynthContext, p: Pairing, funded: dict[str, int]) -> list[dict[str, Any]]:
    county = ctx.region_code(p, HELPED)
    if not funded:
        funded = {
            project_number(county, ctx.year, i): ctx.rng.randint(20, 300) * WAN
            for i in range(1, ctx.count(20) + 1)
        }
    villages = _village_names(ctx, p, len(funded))
    rows = []
    for (number, east_west), (village, village_name) in zip(funded.items(), villages, strict=True):
        kind, _w, names = ctx.rng.choices(TYPES, weights=[w for _k, w, _n in TYPES])[0]
        mechanisms = MECHANISMS.get(kind, DEFAULT_MECHANISM)
        mechanism = ctx.rng.choices([m for m, _w in mechanisms], weights=[w for _m, w in mechanisms])[0]
        other = 0 if ctx.rng.random() < 0.4 else round(east_west * ctx.rng.uniform(0.1, 1.5) / WAN) * WAN
        rows.append(
            {
                "pairing": p,
                "year": ctx.year,
                "region_code": village,
                "project_number": number,
                "name": f"{village_name}{ctx.rng.choice(names)}",
                "project_type": kind,
                "budget_fen": east_west + other,
                "east_west_fen": east_west,
                "other_fen": other,
                "benefit_mechanism": mechanism,
                "benefit_households": ctx.rng.randint(15, 300),
                **_stages(ctx),
            }
        )
    return rows


def _beneficiaries(ctx: SynthContext, p: Pairing, projects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for project in projects:
        started = project.get("started_on")
        if started is None:
            continue
        n = min(project["benefit_households"], ctx.count(8))
        dividend = project["benefit_mechanism"] == "dividend"
        for id_number in dict.fromkeys(ctx.claims("project_beneficiaries", p, n)):
            rows.append(
                {
                    "pairing": p,
                    "year": ctx.year,
                    "region_code": project["region_code"],
                    "project_number": project["project_number"],
                    "id_number": id_number,
                    "started_on": started,
                    "benefit_fen": ctx.rng.randint(3, 20) * 10_000 if dividend else None,
                }
            )
    return rows


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``projects`` and ``project_beneficiaries`` for the county pairs of ``ctx.pairings``."""
    funded = project_allocations(ctx)
    projects: list[dict[str, Any]] = []
    beneficiaries: list[dict[str, Any]] = []
    for p in ctx.pairings:
        if p.level != "county-county" or not p.active_in(ctx.year):
            continue
        rows = _projects(ctx, p, funded.get(p.pk, {}))
        projects.extend(rows)
        beneficiaries.extend(_beneficiaries(ctx, p, rows))
    return {"projects": projects, "project_beneficiaries": beneficiaries}
