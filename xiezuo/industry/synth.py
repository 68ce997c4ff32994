"""Synthetic industrial cooperation ledgers (issue #4; DOMAIN.md §6).

Order of magnitude: 2016–2019 over 20,000 eastern enterprises invested in the west; divided over
some 350 county pairs that is a handful of enterprises and tens of millions of yuan per county
pair and year (the national sum is dominated by a few very large investments, which a provincial
pair gets here). A county pair has one co-built park, 5–20 assistance workshops, and a few hundred
registered poor people employed in them or in the enterprises, or paid dividends. People come from
the registry of the helped county (``ctx.claims``, with the planted share of bad claims).

Synthetic organisations carry （演示） in their names, as the foundation's do.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import Region
from xiezuo.synth.ledgers import SynthContext

DEMO = "（演示）"
UPPER_LEVELS = frozenset({"province-province", "province-prefecture", "prefecture-prefecture"})
WAN = 10_000 * 100  # fen in one 万元

# (sector, share, project names, firm name stems)
SECTORS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "A",
        25,
        ("设施蔬菜种植基地", "肉牛养殖基地", "中药材种植基地", "食用菌种植基地"),
        ("农业科技", "现代农业", "生态农业"),
    ),
    (
        "C",
        35,
        ("农产品加工项目", "服装加工厂", "电子元件组装厂", "食品加工厂"),
        ("食品", "服饰", "电子科技", "农产品加工"),
    ),
    ("R", 10, ("乡村旅游开发项目", "文旅综合体"), ("文化旅游", "旅游开发")),
    ("F", 10, ("农产品电商中心", "农产品交易中心"), ("电子商务", "商贸")),
    ("D", 8, ("光伏发电项目", "生物质能源项目"), ("新能源", "能源科技")),
    ("G", 7, ("冷链物流中心", "仓储物流园"), ("物流", "供应链管理")),
    ("Q", 5, ("康养中心",), ("健康产业",)),
)
FIRM_PREFIXES = (
    "津东",
    "华明",
    "鑫源",
    "瑞丰",
    "海晟",
    "泰达",
    "金桥",
    "裕华",
    "宏利",
    "恒信",
    "广汇",
    "聚丰",
)
WORKSHOP_KINDS = (
    "服装加工",
    "电子元件组装",
    "手工编织",
    "食用菌",
    "箱包加工",
    "农产品分拣",
    "假发加工",
    "中药材初加工",
)
COOPERATIVE_KINDS = ("食用菌", "肉牛养殖", "中药材", "果品", "杂粮", "光伏")


def _short(name: str) -> str:
    """东丽区 → 东丽, 承德县 → 承德, 天津市 → 天津 (a name shorter than 3 characters stays)."""
    return name[:-1] if len(name) > 2 and name[-1] in "省市区县旗州" else name


def village_label(name: str) -> str:
    """The name of a village as people say it: 桥东村民委员会 → 桥东村, 新兴社区居民委员会 → 新兴社区.

    >>> village_label("桥东村民委员会"), village_label("新兴社区居民委员会"), village_label("石门")
    ('桥东村', '新兴社区', '石门')
    """
    for suffix, short in (("村民委员会", "村"), ("居民委员会", ""), ("村委会", "村"), ("居委会", "")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + short
    return name


def helper_province(ctx: SynthContext, pairing: Pairing) -> str:
    """Short name of the helper side's province (天津), the home of the firms it guides west."""
    code = ctx.region_code(pairing, HELPER) // 10**10 * 10**10
    name = Region.objects.filter(code=code, level=1).values_list("name", flat=True).first()
    return _short(name or "")


def side_name(ctx: SynthContext, pairing: Pairing, side: str) -> str:
    s = ctx.sides(pairing, side)[0]
    if s.region is not None:
        return str(s.region.name)
    return str(s.organisation.name) if s.organisation is not None else ""


def _pick_sector(ctx: SynthContext) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    total = sum(s[1] for s in SECTORS)
    x = ctx.rng.uniform(0, total)
    for code, weight, projects, stems in SECTORS:
        x -= weight
        if x <= 0:
            return code, projects, stems
    code, _w, projects, stems = SECTORS[-1]
    return code, projects, stems


def _wan(ctx: SynthContext, median_wan: float, sigma: float = 0.8) -> int:
    """An amount in fen, rounded to 0.01 万元 as offices report, log-normal around ``median_wan``."""
    wan = median_wan * math.exp(ctx.rng.gauss(0, sigma))
    return max(1, round(wan * 100)) * (WAN // 100)


def _base(pairing: Pairing, ctx: SynthContext, side: str) -> dict[str, Any]:
    return {"pairing": pairing, "year": ctx.year, "region_code": ctx.region_code(pairing, side)}


def investments(
    ctx: SynthContext, pairing: Pairing, *, n: int, median_wan: float, helped: str
) -> list[dict[str, Any]]:
    rows, names = [], set()
    location = ctx.region_code(pairing, HELPED)
    home = helper_province(ctx, pairing)
    for _ in range(n):
        sector, projects, stems = _pick_sector(ctx)
        name = f"{home}{ctx.rng.choice(FIRM_PREFIXES)}{ctx.rng.choice(stems)}有限公司{DEMO}"
        if name in names:
            continue
        names.add(name)
        agreed = _wan(ctx, median_wan)
        landed = ctx.rng.random() < 0.9
        invested = round(agreed * ctx.rng.uniform(0.3, 1.0) / (WAN // 100)) * (WAN // 100) if landed else 0
        rows.append(
            {
                **_base(pairing, ctx, HELPER),
                "enterprise": name,
                "project": f"{_short(helped)}{ctx.rng.choice(projects)}",
                "sector": sector,
                "agreed_fen": agreed,
                "invested_fen": invested,
                "landed_on": ctx.date_in_year() if landed else None,
                "location_code": location,
            }
        )
    return rows


def park(
    ctx: SynthContext, pairing: Pairing, *, helper: str, helped: str, area: tuple[int, int], invest_wan: float
) -> dict[str, Any]:
    return {
        **_base(pairing, ctx, HELPED),
        "name": f"{_short(helper)}·{_short(helped)}共建产业园",
        "location_code": ctx.region_code(pairing, HELPED),
        "area_mu": ctx.rng.randrange(*area) // 10 * 10,
        "enterprises_settled": ctx.rng.randint(3, 20),
        "invested_fen": _wan(ctx, invest_wan, 0.5),
        "established_on": dt.date(
            ctx.year - ctx.rng.randint(0, 2), ctx.rng.randint(1, 12), ctx.rng.randint(1, 28)
        ),
    }


def _village_names(codes: list[int]) -> dict[int, str]:
    rows = Region.objects.filter(code__in=set(codes), level=5).values_list("code", "name")
    return {code: village_label(name) for code, name in rows}


def workshops(ctx: SynthContext, pairing: Pairing, *, n: int, helped: str) -> list[dict[str, Any]]:
    villages = [c for c in ctx.villages(pairing, HELPED, n) if c % 1000]
    names = _village_names(villages)
    rows, seen = [], set()
    for code in villages:
        village = names.get(code, "")
        kind = ctx.rng.choice(WORKSHOP_KINDS)
        if not village or (code, kind) in seen:
            continue
        seen.add((code, kind))
        opened = dt.date(
            ctx.year - ctx.rng.choice((0, 0, 1, 1, 2)), ctx.rng.randint(1, 12), ctx.rng.randint(1, 28)
        )
        if opened.year == ctx.year and opened.month > 10:
            opened = opened.replace(month=opened.month - 6)
        closed = None
        if ctx.rng.random() < 0.05:
            closed = dt.date(
                ctx.year, ctx.rng.randint(max(opened.month, 1) if opened.year == ctx.year else 1, 12), 28
            )
        rows.append(
            {
                **_base(pairing, ctx, HELPED),
                "name": f"{village}{kind}帮扶车间",
                "village_code": code,
                "operator": f"{_short(helped)}{ctx.rng.choice(FIRM_PREFIXES)}{kind}有限公司{DEMO}",
                "jobs": ctx.rng.randint(15, 80),
                "opened_on": opened,
                "closed_on": closed,
            }
        )
    return rows


def _start(ctx: SynthContext, not_before: dt.date | None, not_after: dt.date | None) -> dt.date:
    """A start date in the year, inside the place's own dates."""
    first = max(not_before or dt.date(ctx.year, 1, 1), dt.date(ctx.year, 1, 1))
    last = min(not_after or dt.date(ctx.year, 12, 31), dt.date(ctx.year, 12, 31))
    return first + dt.timedelta(days=ctx.rng.randint(0, max(0, (last - first).days)))


def beneficiaries(
    ctx: SynthContext,
    pairing: Pairing,
    shops: list[dict[str, Any]],
    firms: list[dict[str, Any]],
    *,
    helped: str,
) -> list[dict[str, Any]]:
    """Poor people employed in the workshops and the landed enterprises, and paid dividends by
    cooperatives; one row per person and place (a person may appear for a job and a dividend)."""
    places: list[tuple[str, str, dt.date | None, dt.date | None, int]] = []  # kind, name, dates, people
    for shop in shops:
        people = round(shop["jobs"] * ctx.rng.uniform(0.3, 0.6))
        places.append(("workshop", shop["name"], shop["opened_on"], shop["closed_on"], people))
    for firm in firms:
        if firm["invested_fen"]:
            places.append(("enterprise", firm["enterprise"], firm["landed_on"], None, ctx.rng.randint(3, 15)))
    employed = sum(p[4] for p in places)
    ids = ctx.claims("industry_beneficiaries", pairing, employed)
    rows, seen = [], set()
    it = iter(ids)
    for kind, name, not_before, not_after, count in places:
        for _ in range(count):
            person = next(it, None)
            if person is None or (person, "employed", name) in seen:
                continue
            seen.add((person, "employed", name))
            rows.append(
                {
                    **_base(pairing, ctx, HELPED),
                    "id_number": person,
                    "benefit": "employed",
                    "entity_kind": kind,
                    "entity_name": name,
                    "started_on": _start(ctx, not_before, not_after),
                    "amount_fen": ctx.rng.randrange(1500, 3600, 50) * 100,
                }
            )
    for _ in range(ctx.rng.randint(1, 3)):
        stem = ctx.rng.choice(FIRM_PREFIXES) + ctx.rng.choice(COOPERATIVE_KINDS)
        coop = f"{_short(helped)}{stem}农民专业合作社{DEMO}"
        paid_on = dt.date(ctx.year, ctx.rng.choice((6, 9, 12)), ctx.rng.randint(1, 28))
        for person in ctx.claims("industry_beneficiaries", pairing, ctx.count(30)):
            if (person, "dividend", coop) in seen:
                continue
            seen.add((person, "dividend", coop))
            rows.append(
                {
                    **_base(pairing, ctx, HELPED),
                    "id_number": person,
                    "benefit": "dividend",
                    "entity_kind": "cooperative",
                    "entity_name": coop,
                    "started_on": paid_on,
                    "amount_fen": ctx.rng.randrange(300, 2000, 10) * 100,
                }
            )
    return rows


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Rows of the four industry ledgers for ``ctx.pairings`` and ``ctx.year`` (see the module docstring)."""
    out: dict[str, list[dict[str, Any]]] = {
        "investments": [],
        "parks": [],
        "workshops": [],
        "industry_beneficiaries": [],
    }
    for pairing in ctx.pairings:
        if (
            not pairing.active_in(ctx.year)
            or not ctx.sides(pairing, HELPER)
            or not ctx.sides(pairing, HELPED)
        ):
            continue
        helper, helped = side_name(ctx, pairing, HELPER), side_name(ctx, pairing, HELPED)
        if pairing.level in UPPER_LEVELS:
            out["investments"] += investments(ctx, pairing, n=ctx.count(2), median_wan=30_000, helped=helped)
            out["parks"].append(
                park(ctx, pairing, helper=helper, helped=helped, area=(5_000, 20_000), invest_wan=20_000)
            )
        elif pairing.level == "county-county":
            firms = investments(ctx, pairing, n=ctx.count(5), median_wan=1_000, helped=helped)
            n_shops = ctx.count(12)
            shops = workshops(
                ctx, pairing, n=min(20, max(5, n_shops)) if ctx.scale >= 1 else n_shops, helped=helped
            )
            out["investments"] += firms
            out["parks"].append(
                park(ctx, pairing, helper=helper, helped=helped, area=(300, 3_000), invest_wan=3_000)
            )
            out["workshops"] += shops
            out["industry_beneficiaries"] += beneficiaries(ctx, pairing, shops, firms, helped=helped)
    return out
