"""Synthetic consumption assistance purchases (issue #4; DOMAIN.md §6).

Order of magnitude: eastern purchases of western products were 48.3 billion yuan in 2019;
divided over the pairs that is tens of millions of yuan per county pair and year, in a few hundred
purchases (most small canteen and union orders, a few large market and e-commerce contracts).
A provincial pair gets a smaller number of larger purchases by provincial units. The 832 platform
channel appears from its first year (code list ``purchase_channel``). Buyers are organisations of
the helper side, named with （演示）.
"""

from __future__ import annotations

import math
from typing import Any

from xiezuo.core import codelists
from xiezuo.industry.synth import UPPER_LEVELS, side_name
from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import SynthContext

DEMO = "（演示）"

PRODUCTS: dict[str, tuple[str, ...]] = {
    "grain_oil": ("小米", "荞麦面", "杂粮礼盒", "胡麻油", "燕麦米"),
    "meat_egg": ("柴鸡蛋", "牛肉", "羊肉", "土鸡"),
    "aquatic": ("冷水鱼",),
    "fruit_vegetable": ("国光苹果", "山楂", "板栗", "错季蔬菜", "红薯"),
    "tea_drink": ("山楂饮料", "杏仁露", "黄芩茶"),
    "mushroom_dried": ("香菇", "黑木耳", "榛蘑", "蕨菜干"),
    "herbs": ("黄芩", "柴胡", "苍术"),
    "processed_food": ("山楂糕", "板栗仁", "杂粮饼干", "蜂蜜"),
    "handicraft": ("满族刺绣", "手工布艺"),
}
CATEGORY_WEIGHTS = {
    "grain_oil": 22, "meat_egg": 14, "aquatic": 2, "fruit_vegetable": 22, "tea_drink": 8,
    "mushroom_dried": 14, "herbs": 4, "processed_food": 12, "handicraft": 2,
}  # fmt: skip
# channel: (weight, median yuan, buyer units, evidence (party, weight) …)
CANTEEN_UNITS = (
    "机关事务管理局机关食堂",
    "总工会",
    "教育局",
    "卫生健康委员会",
    "人民医院食堂",
    "第一中学食堂",
)
MARKET_UNITS = ("农产品批发市场有限公司", "超市连锁有限公司", "菜篮子商贸有限公司")
CHANNELS: dict[str, tuple[int, float, tuple[str, ...], tuple[tuple[str, int], ...]]] = {
    "canteen_union": (36, 30_000, CANTEEN_UNITS, (("buyer", 7), ("seller", 3))),
    "market": (18, 80_000, MARKET_UNITS, (("seller", 6), ("buyer", 4))),
    "ecommerce": (14, 40_000, ("电子商务有限公司", "网络科技有限公司"), (("platform", 7), ("seller", 3))),
    "platform_832": (
        10,
        25_000,
        ("财政局", "人民法院", "税务局", "公安分局"),
        (("platform", 9), ("buyer", 1)),
    ),
    "counter": (10, 20_000, ("消费扶贫专馆运营有限公司", "供销合作社"), (("seller", 7), ("buyer", 3))),
    "fair": (8, 15_000, ("会展服务有限公司", "商务局"), (("seller", 8), ("buyer", 2))),
    "other": (4, 10_000, ("餐饮管理有限公司", "物业服务有限公司"), (("buyer", 1),)),
}


def _weighted(ctx: SynthContext, items: list[tuple[str, int]]) -> str:
    x = ctx.rng.uniform(0, sum(w for _k, w in items))
    for key, weight in items:
        x -= weight
        if x <= 0:
            return key
    return items[-1][0]


def open_channels(year: int) -> list[tuple[str, int]]:
    """Channels that existed in ``year`` (the code list's valid years), with their weights."""
    out = []
    for code, (weight, *_rest) in CHANNELS.items():
        entry = codelists.lookup("purchase_channel", code)
        if entry is None:
            continue
        if (entry.valid_from or 0) <= year <= (entry.valid_to or 9999):
            out.append((code, weight))
    return out


def purchases(ctx: SynthContext, pairing: Pairing, *, n: int, scale_yuan: float) -> list[dict[str, Any]]:
    helper, helped = side_name(ctx, pairing, HELPER), side_name(ctx, pairing, HELPED)
    county = ctx.region_code(pairing, HELPED)
    villages = [c for c in ctx.villages(pairing, HELPED, 20) if c % 1000] or [county]
    channels = open_channels(ctx.year)
    categories = list(CATEGORY_WEIGHTS.items())
    rows, seen = [], set()
    for serial in range(1, n + 1):
        channel = _weighted(ctx, channels)
        _w, median, units, evidence = CHANNELS[channel]
        category = _weighted(ctx, categories)
        product = ctx.rng.choice(PRODUCTS[category])
        buyer = f"{helper}{ctx.rng.choice(units)}{DEMO}"
        on = ctx.date_in_year()
        by = _weighted(ctx, list(evidence))
        if by == "platform":
            ref = (
                f"{'832' if channel == 'platform_832' else 'DD'}{on:%Y%m%d}{pairing.pk % 100:02d}{serial:05d}"
            )
        else:
            ref = f"No.{ctx.rng.randrange(10**7):08d}"
        if (buyer, ref, product) in seen:
            continue
        seen.add((buyer, ref, product))
        yuan = median * scale_yuan * math.exp(ctx.rng.gauss(0, 1.1))
        rows.append(
            {
                "pairing": pairing,
                "year": ctx.year,
                "region_code": ctx.region_code(pairing, HELPER),
                "product": f"{helped}{product}",
                "category": category,
                "certificate_no": f"FP{county // 10**6}{ctx.year}{serial:05d}"
                if ctx.rng.random() < 0.4
                else "",
                "origin_code": ctx.rng.choice(villages) if ctx.rng.random() < 0.3 else county,
                "buyer": buyer,
                "channel": channel,
                "amount_fen": max(100, round(yuan * 100)),
                "purchased_on": on,
                "evidence_by": by,
                "evidence_ref": ref,
            }
        )
    return rows


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Purchases for ``ctx.pairings`` and ``ctx.year`` (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    for pairing in ctx.pairings:
        if (
            not pairing.active_in(ctx.year)
            or not ctx.sides(pairing, HELPER)
            or not ctx.sides(pairing, HELPED)
        ):
            continue
        if pairing.level in UPPER_LEVELS:
            rows += purchases(ctx, pairing, n=ctx.count(60), scale_yuan=4.0)
        elif pairing.level == "county-county":
            rows += purchases(ctx, pairing, n=ctx.count(300), scale_yuan=1.0)
    return {"purchases": rows}
