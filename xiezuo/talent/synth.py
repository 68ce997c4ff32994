"""Synthetic talent ledgers: secondments, training sessions and their participants (issue #4).

Per county pair and year (DOMAIN.md §6 spread over about 300 county pairs): about ten
secondments (mostly east → west, professionals more than cadres), about twenty training sessions
with a few hundred people trained, and the rosters of the poor labourers' skills sessions, whose
participants are registry people of the helped county with a planted share of bad claims
(``ctx.claims``). Seconded cadres and professionals get synthetic ID numbers of their home county
(they are not checked against the registry). Only ``ctx.rng`` draws: same seed, same rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import Region, subtree_range
from xiezuo.synth.ledgers import SynthContext, id_number

UPPER_LEVELS = frozenset({"province-province", "province-prefecture", "prefecture-prefecture"})
COUNTY_LEVEL = "county-county"
FIELDS = ("education", "health", "agriculture", "science_technology", "other")
FIELD_WEIGHTS = (40, 35, 15, 5, 5)
# (home unit on the sending side, host unit on the receiving side, post) by field; cadres first.
UNITS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "cadre": (
        ("{home}发展和改革委员会", "{host}发展和改革局", "副局长"),
        ("{home}农业农村委员会", "{host}农业农村局", "副局长"),
        ("{home}合作交流办公室", "{host}扶贫开发办公室", "副主任"),
        ("{home}商务局", "{host}商务局", "局长助理"),
        ("{home}人民政府办公室", "{host}人民政府", "副县长"),
    ),
    "education": (
        ("{home}第一中学", "{host}第一中学", "支教教师"),
        ("{home}实验小学", "{host}第二小学", "支教教师"),
    ),
    "health": (
        ("{home}人民医院", "{host}医院", "支医医生"),
        ("{home}中医医院", "{host}中医院", "科室副主任"),
    ),
    "agriculture": (("{home}农业技术推广中心", "{host}农业农村局", "农技指导员"),),
    "science_technology": (("{home}科学技术局", "{host}科学技术局", "科技特派员"),),
    "other": (("{home}规划设计院", "{host}住房和城乡建设局", "技术顾问"),),
}
TRADES = ("家政服务", "电工", "焊工", "中式烹调", "育婴员", "电子商务", "农机操作", "保安员", "养老护理")
KINDS = ("labour_skills", "village_leaders", "cadres", "professionals")
KIND_WEIGHTS = (40, 20, 20, 20)
PARTICIPANTS = {
    "labour_skills": (15, 40),
    "village_leaders": (10, 30),
    "cadres": (15, 50),
    "professionals": (10, 30),
}


def _name(ctx: SynthContext, pairing: Pairing, side: str) -> str:
    s = ctx.sides(pairing, side)[0]
    return s.region.name if s.region is not None else str(s.organisation)


def _county_address(ctx: SynthContext, pairing: Pairing, side: str) -> str:
    """A county-level address code under the side's region, for synthetic ID numbers."""
    s = ctx.sides(pairing, side)[0]
    if s.region_level >= 3:
        return str(s.region_code)[:6]
    low, high = subtree_range(s.region_code, s.region_level)
    code = (
        Region.objects.filter(level=3, code__gte=low, code__lt=high)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    return str(code or s.region_code)[:6]


def _secondments(ctx: SynthContext, pairing: Pairing, upper: bool) -> list[dict[str, Any]]:
    rng = ctx.rng
    names = {HELPER: _name(ctx, pairing, HELPER), HELPED: _name(ctx, pairing, HELPED)}
    addresses = {HELPER: _county_address(ctx, pairing, HELPER), HELPED: _county_address(ctx, pairing, HELPED)}
    common = {"pairing": pairing, "year": ctx.year, "region_code": ctx.region_code(pairing, HELPER)}
    rows, seen = [], set()
    for _ in range(ctx.count(4 if upper else 10)):
        east = rng.random() < 0.75
        home, host = (HELPER, HELPED) if east else (HELPED, HELPER)
        cadre = rng.random() < 0.3
        field = None if cadre else rng.choices(FIELDS, weights=FIELD_WEIGHTS)[0]
        birth = dt.date(rng.randint(1965, 1992), rng.randint(1, 12), rng.randint(1, 28))
        person = id_number(addresses[home], birth, rng.randrange(1000))
        if person in seen:
            continue
        seen.add(person)
        home_unit, host_unit, post = rng.choice(UNITS[field or "cadre"])
        if not east:
            post = "挂职锻炼" if cadre else "跟岗学习"
        start = dt.date(ctx.year, rng.choice((1, 3, 4, 7, 9)), rng.randint(1, 28))
        months = rng.choice((6, 12, 12, 18, 24, 36)) if cadre or east else rng.choice((3, 6))
        end = None if rng.random() < 0.1 else _add_months(start, months) - dt.timedelta(days=1)
        rows.append(
            {
                **common,
                "id_number": person,
                "person_type": "cadre" if cadre else "professional",
                "professional_field": field,
                "direction": "east_to_west" if east else "west_to_east",
                "home_org": home_unit.format(home=names[home]),
                "host_org": host_unit.format(host=names[host]),
                "post": post,
                "start_on": start,
                "end_on": end,
            }
        )
    return rows


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def _title(ctx: SynthContext, kind: str, helped: str) -> str:
    if kind == "labour_skills":
        return f"{ctx.year}年{helped}贫困劳动力{ctx.rng.choice(TRADES)}技能培训班"
    if kind == "village_leaders":
        return f"{ctx.year}年{helped}创业致富带头人培训班"
    if kind == "cadres":
        return f"{helped}党政干部东西部扶贫协作专题培训班"
    return f"{helped}{ctx.rng.choice(('教师', '医护人员', '农技人员'))}专业技术人才培训班"


def _organiser(kind: str, helper: str, helped: str) -> str:
    return {
        "labour_skills": f"{helped}人力资源和社会保障局",
        "village_leaders": f"{helped}扶贫开发办公室",
        "cadres": f"中共{helper}委员会组织部",
        "professionals": f"{helper}教育局",
    }[kind]


def _trainings(
    ctx: SynthContext, pairing: Pairing, upper: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = ctx.rng
    helper, helped = _name(ctx, pairing, HELPER), _name(ctx, pairing, HELPED)
    common = {"pairing": pairing, "year": ctx.year, "region_code": ctx.region_code(pairing, HELPED)}
    prefix = str(ctx.region_code(pairing, HELPED))[:6]
    sessions, participants = [], []
    for n in range(1, ctx.count(6 if upper else 20) + 1):
        kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
        start = ctx.date_in_year()
        number = f"{prefix}-{ctx.year}-{n:03d}"
        count = rng.randint(*PARTICIPANTS[kind])
        away = kind in ("cadres", "professionals") and rng.random() < 0.5
        sessions.append(
            {
                **common,
                "session_number": number,
                "kind": kind,
                "title": _title(ctx, kind, helped),
                "organiser": _organiser(kind, helper, helped),
                "start_on": start,
                "end_on": start + dt.timedelta(days=rng.randint(1, 9)),
                "place": helper if away else helped,
                "participants": count,
            }
        )
        if kind != "labour_skills":
            continue
        for person in dict.fromkeys(ctx.claims("training_participants", pairing, count)):
            participants.append(
                {**common, "session_number": number, "kind": kind, "id_number": person, "trained_on": start}
            )
    return sessions, participants


def generate(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {
        "secondments": [],
        "training_sessions": [],
        "training_participants": [],
    }
    for pairing in ctx.pairings:
        if pairing.level not in UPPER_LEVELS | {COUNTY_LEVEL} or not pairing.active_in(ctx.year):
            continue
        if any(s.region is None for s in (*ctx.sides(pairing, HELPER), *ctx.sides(pairing, HELPED))):
            continue
        upper = pairing.level in UPPER_LEVELS
        out["secondments"] += _secondments(ctx, pairing, upper)
        sessions, participants = _trainings(ctx, pairing, upper)
        out["training_sessions"] += sessions
        out["training_participants"] += participants
    return out
