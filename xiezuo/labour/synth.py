"""Synthetic labour ledgers for the demo: a year of placements and job postings per county pair.

Scale (DOMAIN.md §6): 2.4 million labourers were placed in 2011–2015 alone and far more each year
from 2017, over about 350 helped counties — a few hundred to about 2,000 placements per county pair
and year. The base here is 700 placements (the demo registry holds about 1,600 people a county, of
whom about half are of working age) and 30 postings per county pair, 8 for a provincial pair.

People come from the registry of the helped county (``ctx.people``), of working age on the
placement's start (read from the ID number's birth date), with the recorded share of planted bad
claims (``ctx.bad_ids``, 3 %, the share ``ctx.claims`` uses). Where the jobs are follows the shape
of East–West reports: about a third with the eastern partner, a third near home (workshops,
public-welfare posts), the rest elsewhere in the province or beyond. Employers are invented
names marked （演示）; office lines are invented too. Same seed, same rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from xiezuo.labour import rules
from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import Region, subtree_range
from xiezuo.synth.ledgers import BAD_CLAIM_SHARE, SynthContext

PLACEMENTS_PER_COUNTY_PAIR = 700
POSTINGS_PER_COUNTY_PAIR = 30
POSTINGS_PER_PROVINCIAL_PAIR = 8
SECOND_JOB_SHARE = 0.12  # of those whose job ended: about 4 % of all placed

# Share of placements by where the job is, and how such jobs are arranged there.
DESTINATIONS = (
    (rules.TO_PARTNER, 0.35),
    (rules.NEAR_HOME, 0.30),
    (rules.IN_PROVINCE, 0.20),
    (rules.OTHER, 0.15),
)
ARRANGEMENTS = {
    rules.TO_PARTNER: (("organised", 0.5), ("job_fair", 0.2), ("targeted", 0.2), ("broker", 0.1)),
    rules.NEAR_HOME: (("workshop", 0.4), ("welfare_post", 0.3), ("self_found", 0.2), ("job_fair", 0.1)),
    rules.IN_PROVINCE: (("job_fair", 0.4), ("self_found", 0.3), ("broker", 0.15), ("targeted", 0.15)),
    rules.OTHER: (("self_found", 0.6), ("broker", 0.2), ("job_fair", 0.2)),
}
# Monthly wage in yuan by where the job is (welfare posts pay a stipend).
WAGES = {
    rules.TO_PARTNER: (3500, 5500),
    rules.NEAR_HOME: (1500, 3000),
    rules.IN_PROVINCE: (2500, 4500),
    rules.OTHER: (4000, 6500),
}
WELFARE_STIPEND = (500, 1000)
# Where people go beyond the province: big labour markets (county codes of 2023).
FAR_MARKETS = ("110105", "110113", "440305", "440306", "320583", "330212", "370212", "320506")
TRADES = (
    ("电子科技", ("电子装配工", "质检员", "普工")),
    ("食品", ("食品加工工", "包装工", "普工")),
    ("物流", ("分拣员", "装卸工", "快递员")),
    ("服装", ("缝纫工", "熨烫工", "普工")),
    ("汽车零部件", ("装配工", "焊工", "普工")),
    ("物业管理", ("保洁员", "保安员", "绿化工")),
    ("家政服务", ("家政服务员", "养老护理员", "育婴员")),
    ("建筑工程", ("钢筋工", "木工", "瓦工")),
    ("餐饮管理", ("厨师", "服务员", "面点师")),
    ("农业科技", ("种植工", "养殖工", "采摘工")),
)
LOCAL_JOBS = {
    "workshop": ("手工编织", "服装加工", "食用菌种植"),
    "welfare_post": ("护林员", "保洁员", "护路员", "水管员"),
}
# Telephone area codes of the eastern helper provinces' capitals, for invented office lines.
AREA_CODES = {
    11: "010",
    12: "022",
    21: "024",
    31: "021",
    32: "025",
    33: "0571",
    35: "0591",
    37: "0531",
    44: "020",
}
SKILLS = (
    "无特殊要求，岗前免费培训",
    "持电工证优先",
    "能吃苦耐劳，服从安排",
    "有相关工作经验优先",
    "初中及以上文化",
    "持健康证",
)


def _pick(ctx: SynthContext, table: tuple[tuple[str, float], ...]) -> str:
    x = ctx.rng.random()
    for value, share in table:
        x -= share
        if x < 0:
            return value
    return table[-1][0]


def _birth(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def _working_age(id_number: str, on: dt.date) -> bool:
    birth = _birth(id_number)
    if birth is None:
        return False
    born_after, born_by = rules.working_age_births(on)
    return born_after < birth <= born_by


def _counties(low: int, high: int, *, exclude: int | None = None) -> list[int]:
    return [
        c
        for c in Region.objects.filter(level=3, code__gte=low, code__lt=high)
        .order_by("code")
        .values_list("code", flat=True)
        if c != exclude
    ]


def _name(region: int) -> str:
    r = Region.objects.filter(code=region).order_by("level").first()
    return r.name if r is not None else ""


class _Places:
    """Workplaces and employers of one county pair, chosen once with the seeded generator."""

    def __init__(self, ctx: SynthContext, pairing: Pairing) -> None:
        self.home = ctx.region_code(pairing, HELPED)
        helper = ctx.region_code(pairing, HELPER)
        partner_province = helper // 10**10 * 10**10
        home_province = self.home // 10**10 * 10**10
        self.partner = [helper] * 4 + _counties(partner_province, partner_province + 10**10, exclude=helper)[
            :8
        ]
        self.near = ctx.villages(pairing, HELPED, 40)
        self.province = _counties(home_province, home_province + 10**10, exclude=self.home) or [self.home]
        far = Region.objects.filter(level=3, code__in=[int(c) * 10**6 for c in FAR_MARKETS])
        self.far = sorted(far.values_list("code", flat=True)) or [helper]
        self.names = {code: _name(code) for code in {*self.partner, *self.province, *self.far, self.home}}
        self.employers: dict[int, list[tuple[str, str, tuple[str, ...]]]] = {}
        self.ctx = ctx

    def workplace(self, destination: str) -> int:
        choices = {
            rules.TO_PARTNER: self.partner,
            rules.NEAR_HOME: self.near,
            rules.IN_PROVINCE: self.province,
            rules.OTHER: self.far,
        }[destination]
        return self.ctx.rng.choice(choices)

    def employer(self, workplace: int, arrangement: str) -> tuple[str, str]:
        """(employer name, job) at a workplace; a few employers per place, reused."""
        rng = self.ctx.rng
        if arrangement in LOCAL_JOBS:
            home = self.names.get(self.home, "")
            if arrangement == "workshop":
                trade = rng.choice(LOCAL_JOBS["workshop"])
                return f"{home}{trade}帮扶车间（演示）", trade
            return f"{home}乡村公益岗位管理办公室（演示）", rng.choice(LOCAL_JOBS["welfare_post"])
        county = workplace // 10**6 * 10**6
        pool = self.employers.setdefault(county, [])
        if len(pool) < 4 and (not pool or rng.random() < 0.5):
            place = self.names.get(county) or self.names.get(self.home, "")
            trade, jobs = rng.choice(TRADES)
            pool.append(
                (
                    f"{place.removesuffix('区').removesuffix('县').removesuffix('市')}{trade}有限公司（演示）",
                    trade,
                    jobs,
                )
            )
        name, _trade, titles = rng.choice(pool)
        return name, rng.choice(titles)


def _date(ctx: SynthContext, *, start_month: int = 1, end_month: int = 12) -> dt.date:
    today = timezone.localdate()
    d = ctx.date_in_year(start_month=start_month, end_month=end_month)
    return d if d <= today else today - dt.timedelta(days=ctx.rng.randrange(1, 60))


def _wage(ctx: SynthContext, destination: str, arrangement: str) -> int:
    low, high = WELFARE_STIPEND if arrangement == "welfare_post" else WAGES[destination]
    return ctx.rng.randrange(low, high + 1, 10) * 100


def placements(ctx: SynthContext, pairing: Pairing) -> list[dict[str, Any]]:
    """A year of placements of one county pair (entered by the helped county)."""
    places = _Places(ctx, pairing)
    n = ctx.count(PLACEMENTS_PER_COUNTY_PAIR)
    bad = sum(1 for _ in range(n) if ctx.rng.random() < BAD_CLAIM_SHARE)
    mid_year = dt.date(ctx.year, 7, 1)
    seen: set[str] = set()
    good = []
    for id_number in ctx.people(pairing, 5 * n):
        if id_number not in seen and _working_age(id_number, mid_year):
            seen.add(id_number)
            good.append(id_number)
        if len(good) == n - bad:
            break
    # A registry with fewer people of working age than planned yields fewer placements, never more
    # planted bad claims than the recorded share.
    people = good + ctx.bad_ids("placements", bad, county=str(places.home)[:6])
    ctx.rng.shuffle(people)
    rows: list[dict[str, Any]] = []
    for id_number in people:
        destination = _pick(ctx, DESTINATIONS)
        arrangement = _pick(ctx, ARRANGEMENTS[destination])
        start = _date(ctx, start_month=1, end_month=11)
        end = None
        if ctx.rng.random() < 0.35:
            end = start + dt.timedelta(days=ctx.rng.randint(30, 300))
        rows.append(_placement(ctx, pairing, places, id_number, destination, arrangement, start, end))
        if (
            end is not None
            and end.year == ctx.year
            and end.month < 11
            and ctx.rng.random() < SECOND_JOB_SHARE
        ):
            # Some who left a job took another the same year (a new placement, a new record).
            again = end + dt.timedelta(days=ctx.rng.randint(7, 40))
            if again.year == ctx.year and again <= timezone.localdate():
                rows.append(
                    _placement(ctx, pairing, places, id_number, rules.TO_PARTNER, "organised", again, None)
                )
    return rows


def _placement(
    ctx: SynthContext,
    pairing: Pairing,
    places: _Places,
    id_number: str,
    destination: str,
    arrangement: str,
    start: dt.date,
    end: dt.date | None,
) -> dict[str, Any]:
    workplace = places.workplace(destination)
    employer, job = places.employer(workplace, arrangement)
    return {
        "pairing": pairing,
        "year": ctx.year,
        "region_code": places.home,
        "id_number": id_number,
        "employer": employer,
        "workplace_region": workplace,
        "start": start,
        "end": end,
        "job": job,
        "monthly_wage_fen": _wage(ctx, destination, arrangement),
        "arrangement": arrangement,
    }


def postings(ctx: SynthContext, pairing: Pairing, n: int) -> list[dict[str, Any]]:
    """Job postings the helper side's labour bureau sends for its employers."""
    helper = ctx.region_code(pairing, HELPER)
    low, high = subtree_range(helper, ctx.sides(pairing, HELPER)[0].region_level)
    workplaces = _counties(low, high) or [helper]
    area = AREA_CODES.get(helper // 10**10, f"0{helper // 10**10}")
    names = {c: _name(c) for c in set(workplaces)}
    rows: list[dict[str, Any]] = []
    keys: set[tuple[str, str, dt.date]] = set()
    for _ in range(n):
        workplace = ctx.rng.choice(workplaces)
        trade, jobs = ctx.rng.choice(TRADES)
        place = names.get(workplace, "").removesuffix("区").removesuffix("县").removesuffix("市")
        employer = f"{place}{trade}有限公司（演示）"
        title = ctx.rng.choice(jobs)
        valid_from = _date(ctx, start_month=1, end_month=11)
        if (employer, title, valid_from) in keys:
            continue
        keys.add((employer, title, valid_from))
        wage_min = ctx.rng.randrange(3000, 5001, 100)
        rows.append(
            {
                "pairing": pairing,
                "year": ctx.year,
                "region_code": helper,
                "employer": employer,
                "workplace_region": workplace,
                "title": title,
                "positions": ctx.rng.choice((5, 10, 10, 20, 20, 30, 50, 80)),
                "wage_min_fen": wage_min * 100,
                "wage_max_fen": (wage_min + ctx.rng.randrange(500, 2501, 100)) * 100,
                "valid_from": valid_from,
                "valid_to": valid_from + dt.timedelta(days=ctx.rng.choice((30, 60, 90, 180))),
                "skills": ctx.rng.choice(SKILLS),
                "contact": f"{area}-{ctx.rng.randrange(2000_0000, 8999_9999)}",
            }
        )
    return rows


def _levels(ctx: SynthContext, pairing: Pairing) -> tuple[int, int] | None:
    helper, helped = ctx.sides(pairing, HELPER), ctx.sides(pairing, HELPED)
    if not helper or not helped or helper[0].region_id is None or helped[0].region_id is None:
        return None
    return helper[0].region_level, helped[0].region_level


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Placements and postings of every county pair, postings of provincial pairs, for ``ctx.year``."""
    out: dict[str, list[dict[str, Any]]] = {"placements": [], "postings": []}
    for pairing in sorted(ctx.pairings, key=lambda p: p.pk):
        if not pairing.active_in(ctx.year):
            continue
        levels = _levels(ctx, pairing)
        if levels == (3, 3):
            out["placements"].extend(placements(ctx, pairing))
            out["postings"].extend(postings(ctx, pairing, ctx.count(POSTINGS_PER_COUNTY_PAIR)))
        elif levels is not None and max(levels) <= 2:
            out["postings"].extend(postings(ctx, pairing, ctx.count(POSTINGS_PER_PROVINCIAL_PAIR)))
    return out
