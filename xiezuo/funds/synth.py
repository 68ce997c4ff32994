"""Synthetic funds ledgers (issue #4): fiscal aid transfers, their allocation, social donations.

Orders of magnitude (DOMAIN.md §6): eastern fiscal aid was 22.9 billion yuan in 2019 and social
donations 6.5 billion, over roughly a thousand county pairs: a county pair gets some 5 to 30
million yuan of fiscal aid a year in several transfers from the province, city and district
budgets, and a few dozen donations of money and goods. A provincial pair keeps a couple of
transfers of its own (to the helped prefecture); an enterprise → village pair, a few donations
by the enterprise.

Allocations name projects by number; :func:`project_allocations` hands those numbers and amounts
to ``xiezuo.projects.synth`` (which runs after this module), so that every project funded here
exists there, with its east-west funds equal to what was allocated to it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import SynthContext

WAN = 1_000_000  # fen in 10,000 yuan
SOURCE_LEVELS = (("province", 0.5), ("prefecture", 0.3), ("county", 0.2))
POOLED_SHARE = 0.3
GOODS = (
    ("大米", 20),
    ("食用油", 15),
    ("冬季棉衣", 10),
    ("图书", 8),
    ("学生课桌椅", 6),
    ("计算机", 6),
    ("医疗设备", 5),
    ("化肥", 8),
    ("果树苗木", 6),
    ("农机具", 4),
)
DONORS = (
    "津东食品集团有限公司",
    "滨海新材料科技有限公司",
    "海河建设工程有限公司",
    "津门医药股份有限公司",
    "渤海湾物流有限公司",
    "津沽慈善基金会",
    "东丽商会",
    "津西智能装备有限公司",
    "天津市滨城农业发展有限公司",
    "津南电子科技有限公司",
    "华北乡村振兴促进会",
    "津北纺织服装有限公司",
)
_ALLOCATIONS_ATTR = "_funds_project_allocations"


def _weighted(ctx: SynthContext, options: tuple[tuple[str, float], ...]) -> str:
    return ctx.rng.choices([o for o, _w in options], weights=[w for _o, w in options])[0]


def _split(ctx: SynthContext, total_wan: int, parts: int) -> list[int]:
    """``total_wan`` 万元 in ``parts`` positive whole-万元 shares (fewer when the total is small)."""
    parts = max(1, min(parts, total_wan))
    cuts = sorted(ctx.rng.sample(range(1, total_wan), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total_wan]
    return [b - a for a, b in itertools.pairwise(bounds)]


def _after(ctx: SynthContext, day: dt.date, low: int, high: int) -> dt.date | None:
    """A day ``low``–``high`` days after ``day`` within the year, else None (not yet happened)."""
    out = day + dt.timedelta(days=ctx.rng.randint(low, high))
    return out if out.year == ctx.year else None


def project_allocations(ctx: SynthContext) -> dict[int, dict[str, int]]:
    """Pairing id → project number → east-west funds allocated to it (fen), from :func:`generate`."""
    out: dict[int, dict[str, int]] = getattr(ctx, _ALLOCATIONS_ATTR, {})
    return out


def project_number(county: int, year: int, seq: int) -> str:
    """A county project-bank number: ``130821-2019-007``."""
    return f"{str(county)[:6]}-{year}-{seq:03d}"


def _transfers(
    ctx: SynthContext, p: Pairing, *, total_wan: int, n: int, levels: tuple[tuple[str, float], ...]
) -> list[dict[str, Any]]:
    helper, target = ctx.region_code(p, HELPER), ctx.region_code(p, HELPED)
    rows = []
    for i, amount_wan in enumerate(_split(ctx, total_wan, n), start=1):
        level = _weighted(ctx, levels)
        allocated = amount_wan * WAN
        agreed_on = dt.date(ctx.year, ctx.rng.randint(1, 3), ctx.rng.randint(1, 28))
        allocated_on = ctx.date_in_year(start_month=max(3, agreed_on.month), end_month=11)
        arrived_on = _after(ctx, allocated_on, 5, 40) if ctx.rng.random() < 0.92 else None
        arrived = allocated if arrived_on else None
        spent = None
        spent_on = None
        if arrived is not None:
            spent = round(arrived * ctx.rng.uniform(0.55, 1.0) / WAN) * WAN
            spent_on = dt.date(ctx.year, 12, 31)
        rows.append(
            {
                "pairing": p,
                "year": ctx.year,
                "region_code": helper,
                "transfer_number": f"协作资金〔{ctx.year}〕{str(target)[:6]}-{i:02d}号",
                "title": f"{ctx.year}年东西部扶贫协作财政援助资金（第{i}批）",
                "source_level": level,
                "target_region_code": target,
                "agreed_fen": round(allocated * ctx.rng.uniform(0.85, 1.0) / WAN) * WAN,
                "agreed_on": agreed_on,
                "allocated_fen": allocated,
                "allocated_on": allocated_on,
                "arrived_fen": arrived,
                "arrived_on": arrived_on,
                "receipt_number": f"DZ{str(target)[:6]}{ctx.year}{str(helper)[:6]}{i:03d}"
                if arrived
                else None,
                "spent_fen": spent,
                "spent_on": spent_on,
            }
        )
    return rows


def _allocations(ctx: SynthContext, p: Pairing, transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each arrived transfer put to projects (2–6 of them) or into the pooled agriculture funds."""
    county = ctx.region_code(p, HELPED)
    projects: dict[str, int] = {}
    rows = []
    for t in transfers:
        if not t["arrived_fen"]:
            continue
        amount_wan = t["arrived_fen"] // WAN
        on = t["arrived_on"] + dt.timedelta(days=ctx.rng.randint(0, 20))
        on = min(on, dt.date(ctx.year, 12, 31))
        base = {
            "pairing": p,
            "year": ctx.year,
            "region_code": county,
            "transfer_number": t["transfer_number"],
            "allocated_on": on,
        }
        if ctx.rng.random() < POOLED_SHARE:
            number = ""
            if ctx.rng.random() < 0.5:  # pooled with the project named
                number = project_number(county, ctx.year, len(projects) + 1)
                projects[number] = amount_wan * WAN
            rows.append(
                {**base, "project_number": number or None, "amount_fen": amount_wan * WAN, "pooled": True}
            )
            continue
        for share in _split(ctx, amount_wan, ctx.rng.randint(2, 6)):
            number = project_number(county, ctx.year, len(projects) + 1)
            projects[number] = share * WAN
            rows.append({**base, "project_number": number, "amount_fen": share * WAN, "pooled": False})
    getattr(ctx, _ALLOCATIONS_ATTR)[p.pk] = projects
    return rows


def _donations(ctx: SynthContext, p: Pairing, n: int, donors: list[str]) -> list[dict[str, Any]]:
    helper, target = ctx.region_code(p, HELPER), ctx.region_code(p, HELPED)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, dt.date, str]] = set()
    while len(rows) < n:
        donor = ctx.rng.choice(donors)
        kind = "goods" if ctx.rng.random() < 0.3 else "money"
        on = ctx.date_in_year()
        if (donor, on, kind) in seen:
            continue
        seen.add((donor, on, kind))
        # Log-uniform between 1 and 100 万元, in whole hundreds of yuan.
        value = round(math.exp(ctx.rng.uniform(0, math.log(100))) * 100) * 10_000
        goods = None
        if kind == "goods":
            goods = ctx.rng.choices([g for g, _w in GOODS], weights=[w for _g, w in GOODS])[0]
        rows.append(
            {
                "pairing": p,
                "year": ctx.year,
                "region_code": helper,
                "donor": donor,
                "kind": kind,
                "goods": goods,
                "value_fen": value,
                "donated_on": on,
                "target_region_code": target,
                "receipt_number": f"JZ{ctx.year}{str(target)[:6]}{len(rows) + 1:04d}",
            }
        )
    return rows


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``fiscal_funds``, ``fund_allocations`` and ``donations`` for ``ctx.pairings``, ``ctx.year``."""
    setattr(ctx, _ALLOCATIONS_ATTR, {})
    funds: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    donations: list[dict[str, Any]] = []
    for p in ctx.pairings:
        if not p.active_in(ctx.year):
            continue
        if p.level == "county-county":
            transfers = _transfers(
                ctx, p, total_wan=ctx.rng.randint(500, 3000), n=ctx.count(5), levels=SOURCE_LEVELS
            )
            funds.extend(transfers)
            allocations.extend(_allocations(ctx, p, transfers))
            donors = [f"{name}（演示）" for name in ctx.rng.sample(DONORS, 6)]
            donations.extend(_donations(ctx, p, ctx.count(25), donors))
        elif p.level.startswith(("province-", "prefecture-")):
            funds.extend(
                _transfers(
                    ctx, p, total_wan=ctx.rng.randint(200, 1000), n=ctx.count(2), levels=(("province", 1.0),)
                )
            )
        elif p.level == "enterprise-village":
            firm = ctx.sides(p, HELPER)[0].organisation
            if firm is not None:
                donations.extend(_donations(ctx, p, ctx.count(2), [firm.name]))
    return {"fiscal_funds": funds, "fund_allocations": allocations, "donations": donations}
