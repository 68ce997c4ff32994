"""Foundation data for the demo and the test world: regions, pairings, organisations, accounts.

Everything here is synthetic or public reference data; no real personal data. Idempotent: run it
again and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from stdnum.cn import uscc

from xiezuo.accounts import roles
from xiezuo.accounts.services import grant_role
from xiezuo.core.codelists import load_code_lists
from xiezuo.core.scope import SYSTEM
from xiezuo.pairings.loading import load_pairings_2016
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.pairings.services import create_organisation, save_pairing
from xiezuo.regions.loading import load_regions
from xiezuo.regions.models import Region, full_code
from xiezuo.regions.rules import level_of_short

# The demo's provincial pair: 天津市 → 承德市 (河北, a helped area that is not western), with the
# county pairs of 携手奔小康 (DOMAIN.md §5).
COUNTY_PAIRS = [
    ("120110", "130821"),  # 东丽区 → 承德县
    ("120111", "130881"),  # 西青区 → 平泉市
    ("120112", "130825"),  # 津南区 → 隆化县
    ("120113", "130822"),  # 北辰区 → 兴隆县
    ("120114", "130828"),  # 武清区 → 围场满族蒙古族自治县
]
DEMO_COUNTIES = sorted({c for pair in COUNTY_PAIRS for c in pair})
TOWNSHIP_PAIR = ("120110006", "130821100")  # 东丽区华明街道 → 承德县下板城镇
PASSWORD = "xiezuo-demo-2026"
# Registered poor people the demo imports into its helped poverty counties (synthetic).
DEMO_PEOPLE = 8000


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    region: str | None  # short code; None = whole country
    note: str
    expires_on: dt.date | None = None


ACCOUNTS = [
    Account("national", roles.NATIONAL, None, "国家协调员 national coordinator"),
    Account("tianjin", roles.HELPER, "12", "帮扶方协调员 天津市"),
    Account("dongli", roles.HELPER, "120110", "帮扶方协调员 东丽区"),
    Account("chengde", roles.HELPED, "1308", "受帮扶方协调员 承德市"),
    Account("chengdexian", roles.CLERK, "130821", "县级填报员 承德县"),
    Account("weichang", roles.CLERK, "130828", "县级填报员 围场县"),
    Account("assessor", roles.ASSESSOR, "13", "考核评估员 河北省（至 2027-03-31）", dt.date(2027, 3, 31)),
    Account("viewer", roles.VIEWER, "1308", "查看者 承德市"),
    Account("ningbo", roles.HELPER, "3302", "帮扶方协调员 宁波市（不含天津—承德）"),
    Account("sysadmin", roles.SYSADMIN, None, "系统管理员"),
    Account("secadmin", roles.SECADMIN, None, "安全管理员"),
    Account("auditor", roles.AUDITOR, None, "审计员"),
]


def region(code: str) -> Region:
    return Region.objects.get(code=full_code(code), level=level_of_short(code))


def ensure_account(account: Account, password: str = PASSWORD) -> User:
    from xiezuo.accounts.models import Grant

    user = User.objects.filter(username=account.username).first()
    if user is None:
        user = User.objects.create_user(username=account.username, password=password)
    wanted = region(account.region) if account.region else None
    if Grant.objects.filter(
        user=user, role=account.role, region=wanted, expires_on=account.expires_on
    ).exists():
        return user
    grant_role(
        actor=SYSTEM,
        user=user,
        role=account.role,
        region=wanted,
        expires_on=account.expires_on,
        via="cli",
    )
    return user


def synthetic_uscc(rng: random.Random, county: str) -> str:
    """A unified social credit code with valid check characters (synthetic, not a real entity)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    while True:
        body = "91" + county + "".join(rng.choice("0123456789") for _ in range(8))
        org_weights = [3, 7, 9, 10, 5, 8, 4, 2]
        org = body[8:16]
        check = 11 - sum(alphabet.index(c) * w for c, w in zip(org, org_weights, strict=True)) % 11
        body += {10: "X", 11: "0"}.get(check, str(check))
        code = body + uscc.calc_check_digit(body)
        if uscc.is_valid(code):
            return code


def ensure_organisation(name: str, kind: str, county: str, rng: random.Random) -> Organisation:
    org = Organisation.objects.filter(name=name).first()
    if org is None:
        org = create_organisation(
            actor=SYSTEM,
            kind=kind,
            name=name,
            region=region(county),
            uscc=synthetic_uscc(rng, county),
            via="cli",
        )
    return org


def ensure_pairing(
    *,
    programme: str,
    level: str,
    start: int,
    end: int | None,
    helper: list[Region | Organisation],
    helped: list[Region | Organisation],
    parent: Pairing | None,
    source: str,
) -> Pairing:
    from xiezuo.pairings.services import pairing_name

    found = Pairing.objects.filter(
        programme=programme, level=level, name=pairing_name(helper, helped)
    ).first()
    if found is not None:
        return found
    return save_pairing(
        actor=SYSTEM,
        programme=programme,
        level=level,
        start_year=start,
        end_year=end,
        helper=helper,
        helped=helped,
        parent=parent,
        source=source,
        via="cli",
    )


def first_village(township: str, *, skip_communities: bool = True) -> Region:
    low = full_code(township)
    qs = Region.objects.filter(level=5, code__gte=low, code__lt=low + 1000).order_by("code")
    for r in qs:
        if not skip_communities or "社区" not in r.name:
            return r
    raise LookupError(f"no village under {township}")


@dataclass
class Foundation:
    provincial: Pairing
    county_pairs: list[Pairing] = field(default_factory=list)
    lower: list[Pairing] = field(default_factory=list)


def build_pairings(county_pairs: list[tuple[str, str]]) -> Foundation:
    """The 天津 → 承德 provincial pair (from the 2016 list) and the pairs under it."""
    load_pairings_2016(actor=SYSTEM)
    tianjin, chengde = region("12"), region("1308")
    provincial = Pairing.objects.get(programme="east_west_2016", sides__region=chengde)
    assert provincial.sides.filter(region=tianjin).exists()
    src = "演示数据（合成）：携手奔小康结对，依据 DOMAIN.md §5 所列县级结对示例"
    out = Foundation(provincial)
    for helper, helped in county_pairs:
        out.county_pairs.append(
            ensure_pairing(
                programme="hand_in_hand",
                level="county-county",
                start=2017,
                end=2020,
                helper=[region(helper)],
                helped=[region(helped)],
                parent=provincial,
                source=src,
            )
        )
    return out


def build_lower_pairs(found: Foundation, rng: random.Random) -> None:
    """Township, village and enterprise → village pairs under 东丽区 → 承德县."""
    dongli_pair = next(
        p for p in found.county_pairs if p.sides.filter(region_code=full_code("120110")).exists()
    )
    src = "演示数据（合成）"
    town = ensure_pairing(
        programme="hand_in_hand",
        level="township-township",
        start=2018,
        end=2020,
        helper=[region(TOWNSHIP_PAIR[0])],
        helped=[region(TOWNSHIP_PAIR[1])],
        parent=dongli_pair,
        source=src,
    )
    village = ensure_pairing(
        programme="hand_in_hand",
        level="village-village",
        start=2019,
        end=2020,
        helper=[first_village(TOWNSHIP_PAIR[0], skip_communities=False)],
        helped=[first_village(TOWNSHIP_PAIR[1])],
        parent=town,
        source=src,
    )
    firm = ensure_organisation("天津津农现代农业发展有限公司（演示）", "enterprise", "120110", rng)
    enterprise = ensure_pairing(
        programme="ten_thousand_firms",
        level="enterprise-village",
        start=2018,
        end=2020,
        helper=[firm],
        helped=[first_village("130821102")],
        parent=dongli_pair,
        source=src,
    )
    found.lower = [town, village, enterprise]


def build_foundation(*, villages_for: list[str], county_pairs: list[tuple[str, str]]) -> Foundation:
    load_code_lists()
    load_regions(level=3)
    load_regions(level=5, counties=villages_for)
    found = build_pairings(county_pairs)
    build_lower_pairs(found, random.Random(20161208))
    return found


# The test world (DESIGN.md D13): two provinces (天津, 河北), four counties in two county pairs under
# the 天津 → 承德 pair, the 2016 list, and one account per role plus one whose grant has expired.
WORLD_COUNTY_PAIRS = COUNTY_PAIRS[:2]
WORLD_COUNTIES = sorted({c for pair in WORLD_COUNTY_PAIRS for c in pair})
WORLD_PASSWORD = "testpass-123"
WORLD_ACCOUNTS = [
    *ACCOUNTS,
    Account("expired", roles.CLERK, "130821", "县级填报员 承德县（已过期）", dt.date(2020, 1, 1)),
]


def build_world() -> Foundation:
    found = build_foundation(villages_for=WORLD_COUNTIES, county_pairs=WORLD_COUNTY_PAIRS)
    for account in WORLD_ACCOUNTS:
        ensure_account(account, WORLD_PASSWORD)
    return found
