"""Labour ledgers (劳务协作): placements and job postings, their rules, constraints, import, registry
checks, metrics, the matching page and the synthetic generator.

The test world's county pair 东丽区 → 承德县 (under 天津 → 承德) carries every record; the county
clerk of 承德县 (chengdexian) enters placements, the coordinator of 东丽区 (dongli) enters postings.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.ledgers_world import People, make_people
from tests.world import World
from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.labour import rules
from xiezuo.labour.ledgers import PLACEMENT_TYPE, POSTING_TYPE, check_placement, check_posting
from xiezuo.labour.models import JobPosting, Placement
from xiezuo.labour.synth import generate
from xiezuo.ledgers import rollup
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import LedgerRecord, PersonCheck
from xiezuo.ledgers.services import RecordInvalid, save_record
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.regions.models import Region
from xiezuo.registry.models import Dataset, Household, HouseholdStatus, Member, MemberDetail
from xiezuo.synth.ledgers import SynthContext, id_number

pytestmark = pytest.mark.django_db

TIANJIN = ((120000000000, 130000000000),)
CHENGDE = ((130821000000, 130822000000),)
DONGLI, XIQING, SHUANGQIAO, NANSHAN = 120110000000, 120111000000, 130802000000, 440305000000


# --- pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workplace", "home", "expected"),
    [
        (DONGLI, 130821000000, "to_partner"),
        (XIQING, 130821000000, "to_partner"),
        (130821100201, 130821000000, "near_home"),
        (130821100201, 130821103205, "near_home"),
        (SHUANGQIAO, 130821000000, "in_province"),
        (NANSHAN, 130821000000, "other"),
        (130881000000, 130800000000, "near_home"),  # a prefecture-level record: home is the prefecture
    ],
)
def test_destination_follows_the_workplace(workplace: int, home: int, expected: str) -> None:
    assert rules.destination(workplace, home=home, partner=TIANJIN) == expected


GOOD = {
    "year": 2019,
    "region_code": 130821000000,
    "workplace_region": DONGLI,
    "start": dt.date(2019, 3, 1),
    "end": None,
    "monthly_wage_fen": 420_000,
    "arrangement": "organised",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"end": dt.date(2019, 12, 31)}, []),
        ({"end": dt.date(2019, 2, 1)}, [("end", "早于就业开始日期", "the end is before the start")]),
        (
            {"year": 2018},
            [
                (
                    "start",
                    "晚于归属年度（2018年），请核对归属年度",
                    "the start is after the year it counts for",
                ),
            ],
        ),
        (
            {"end": dt.date(2019, 12, 31), "year": 2020},
            [
                (
                    "end",
                    "早于归属年度（2020年），该年度不在岗",
                    "the job ended before the year it counts for",
                ),
            ],
        ),
        ({"start": dt.date(2018, 6, 1), "year": 2019}, []),  # an open placement of last year still counts
        (
            {"start": dt.date(2019, 7, 2)},
            [("start", "晚于今天，请在上岗后填报", "the start is in the future")],
        ),
        ({"monthly_wage_fen": 10_000_000}, []),
        (
            {"monthly_wage_fen": 10_000_001},
            [
                (
                    "monthly_wage_fen",
                    "超过10万元，请核对是否误填了年收入或金额单位",
                    "a monthly wage above 100,000 yuan: annual income or wrong unit?",
                )
            ],
        ),
        (
            {"arrangement": "workshop"},
            [
                (
                    "workplace_region",
                    "帮扶车间应在受帮扶地区",
                    "an assistance workshop lies in the helped area",
                ),
            ],
        ),
        ({"arrangement": "workshop", "workplace_region": 130821100201}, []),
        (
            {"arrangement": "welfare_post", "workplace_region": SHUANGQIAO},
            [
                ("workplace_region", "公益岗位应在本县", "a public-welfare post lies in the home county"),
            ],
        ),
        ({"arrangement": "welfare_post", "workplace_region": 130821100201}, []),
    ],
)
def test_placement_rules(change: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    values = {**GOOD, **change}
    assert (
        rules.placement_errors(values, partner=TIANJIN, helped=CHENGDE, today=dt.date(2019, 7, 1)) == expected
    )


POSTING = {
    "year": 2019,
    "valid_from": dt.date(2019, 3, 1),
    "valid_to": dt.date(2019, 6, 30),
    "wage_min_fen": 400_000,
    "wage_max_fen": 600_000,
    "positions": 20,
    "contact": "022-84376000",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"valid_to": None, "wage_max_fen": None}, []),
        ({"valid_to": dt.date(2019, 2, 28)}, [("valid_to", "早于有效期起", "valid to is before valid from")]),
        (
            {"wage_max_fen": 399_900},
            [("wage_max_fen", "低于月薪下限", "the wage maximum is below the minimum")],
        ),
        ({"positions": 0}, [("positions", "至少为1人", "at least one position")]),
        (
            {"contact": "138 1234 5678"},
            [
                (
                    "contact",
                    "请填写用工单位的办公电话，不要填写个人手机号",
                    "the contact is the employer's office line, not a personal mobile number",
                )
            ],
        ),
        (
            {"year": 2018},
            [
                ("valid_from", "晚于归属年度（2018年），请核对归属年度", "valid from is after the year"),
            ],
        ),
        (
            {"year": 2020},
            [
                ("valid_to", "早于归属年度（2020年），请核对归属年度", "valid to is before the year"),
            ],
        ),
    ],
)
def test_posting_rules(change: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert rules.posting_errors({**POSTING, **change}) == expected


def test_the_rules_examples_hold() -> None:
    import doctest

    assert doctest.testmod(rules).failed == 0


@pytest.mark.parametrize(
    ("on", "born_after", "born_by"),
    [
        (dt.date(2019, 6, 1), dt.date(1959, 6, 1), dt.date(2003, 6, 1)),
        (dt.date(2020, 2, 29), dt.date(1960, 2, 29), dt.date(2004, 2, 29)),
        (dt.date(2021, 2, 28), dt.date(1961, 2, 28), dt.date(2005, 2, 28)),
    ],
)
def test_working_age_is_16_to_59_on_the_day(on: dt.date, born_after: dt.date, born_by: dt.date) -> None:
    assert rules.working_age_births(on) == (born_after, born_by)


# --- saving through the framework ---------------------------------------------------------------


@pytest.fixture
def people(db: Any) -> People:
    """The framework's registry people (tests.ledgers_world): poor, exited, dead, outside, unknown."""
    return make_people()


@pytest.fixture
def pair(world: World) -> Pairing:
    return world.pairing("120110", "130821")


def village(county: str, index: int = 0) -> int:
    low = int(county) * 10**6
    codes = list(
        Region.objects.filter(level=5, code__gte=low, code__lt=low + 10**6)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return int(codes[index])


def placement_values(pair: Pairing, person: str, **change: Any) -> dict[str, Any]:
    return {
        "pairing": pair,
        "year": 2019,
        "id_number": person,
        "employer": "天津东丽测试电子有限公司",
        "workplace_region": "120110",
        "start": dt.date(2019, 3, 1),
        "end": None,
        "job": "电子装配工",
        "monthly_wage_fen": 420_000,
        "arrangement": "organised",
        **change,
    }


def posting_values(pair: Pairing, **change: Any) -> dict[str, Any]:
    return {
        "pairing": pair,
        "year": 2019,
        "employer": "天津东丽测试电子有限公司",
        "workplace_region": "120110",
        "title": "电子装配工",
        "positions": 30,
        "wage_min_fen": 400_000,
        "wage_max_fen": 550_000,
        "valid_from": dt.date(2019, 6, 1),
        "valid_to": dt.date(2019, 9, 30),
        "skills": "无特殊要求，岗前免费培训",
        "contact": "022-84376000",
        **change,
    }


def test_save_rules_reach_the_clerk(world: World, pair: Pairing, people: People) -> None:
    clerk = world.user("chengdexian")
    with pytest.raises(RecordInvalid) as caught:
        save_record(
            PLACEMENT_TYPE,
            actor=clerk,
            values=placement_values(pair, people.poor[0], end=dt.date(2019, 1, 1), arrangement="workshop"),
        )
    assert caught.value.errors == [
        ("end", "早于就业开始日期", "the end is before the start"),
        ("workplace_region", "帮扶车间应在受帮扶地区", "an assistance workshop lies in the helped area"),
    ]
    with pytest.raises(RecordInvalid) as caught:
        save_record(
            POSTING_TYPE,
            actor=world.user("dongli"),
            values=posting_values(pair, wage_max_fen=300_000, contact="13812345678"),
        )
    assert caught.value.errors == [
        ("wage_max_fen", "低于月薪下限", "the wage maximum is below the minimum"),
        (
            "contact",
            "请填写用工单位的办公电话，不要填写个人手机号",
            "the contact is the employer's office line, not a personal mobile number",
        ),
    ]
    assert Placement.objects.count() == 0 and JobPosting.objects.count() == 0


@pytest.mark.parametrize(
    ("workplace", "destination", "confirmation"),
    [
        ("120110", "to_partner", "pending"),
        ("120111", "to_partner", "pending"),  # 西青区: with 天津, the partner of the pair above
        ("village", "near_home", "none"),
        ("130802", "in_province", "none"),
        ("440305", "other", "none"),
    ],
)
def test_where_the_job_is_and_who_confirms(
    world: World, pair: Pairing, people: People, workplace: str, destination: str, confirmation: str
) -> None:
    code = str(village("130821", 3)) if workplace == "village" else workplace
    record = save_record(
        PLACEMENT_TYPE,
        actor=world.user("chengdexian"),
        values=placement_values(pair, people.poor[0], workplace_region=code),
    )
    record.refresh_from_db()
    assert (record.destination, record.confirmation, record.side, record.region_code) == (
        destination,
        confirmation,
        "helped",
        130821000000,
    )
    assert record.employer.name == "天津东丽测试电子有限公司"


def raw_placement(pair: Pairing, **change: Any) -> Placement:
    org = Organisation.objects.create(
        kind="enterprise",
        name="原始插入测试公司",
        region=Region.objects.get(code=DONGLI, level=3),
        region_code=DONGLI,
    )
    fields = {
        "pairing": pair,
        "year": 2019,
        "region_code": 130821000000,
        "side": "helped",
        "key": "raw-" + "0" * 60,
        "employer": org,
        "workplace_region": DONGLI,
        "start": dt.date(2019, 3, 1),
        "arrangement": "organised",
        **change,
    }
    return Placement.objects.create(**fields)


def raw_posting(pair: Pairing, **change: Any) -> JobPosting:
    org = Organisation.objects.create(
        kind="enterprise",
        name="原始插入测试公司",
        region=Region.objects.get(code=DONGLI, level=3),
        region_code=DONGLI,
    )
    fields = {
        "pairing": pair,
        "year": 2019,
        "region_code": DONGLI,
        "side": "helper",
        "key": "raw-" + "1" * 60,
        "employer": org,
        "workplace_region": DONGLI,
        "title": "普工",
        "positions": 10,
        "valid_from": dt.date(2019, 3, 1),
        **change,
    }
    return JobPosting.objects.create(**fields)


@pytest.mark.parametrize(
    "change",
    [{"end": dt.date(2019, 2, 28)}, {"monthly_wage_fen": -1}, {"side": "east"}, {"year": 1995}],
)
def test_placement_constraints(pair: Pairing, change: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_placement(pair, **change)


@pytest.mark.parametrize(
    "change",
    [
        {"positions": 0},
        {"wage_min_fen": -100},
        {"wage_max_fen": -100},
        {"wage_min_fen": 500_000, "wage_max_fen": 400_000},
        {"valid_to": dt.date(2019, 2, 1)},
    ],
)
def test_posting_constraints(pair: Pairing, change: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_posting(pair, **change)


def test_raw_rows_within_the_constraints_are_stored(pair: Pairing) -> None:
    assert raw_placement(pair, end=dt.date(2019, 3, 1), monthly_wage_fen=0).pk
    assert raw_posting(pair, wage_min_fen=400_000, wage_max_fen=400_000, valid_to=dt.date(2019, 3, 1)).pk


# --- import -------------------------------------------------------------------------------------


def placement_sheet(path: Path, pair: Pairing, people: People) -> Path:
    """A county office's sheet: a title row, a note row, 序号 and 姓名 columns, 月工资 in 万元,
    labels and aliases for codes, a 合计 row, and two bad rows."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["2019年东丽区—承德县转移就业台账"])
    ws.append(["填报单位：承德县人力资源和社会保障局"])
    ws.append(
        [
            "序号",
            "结对关系",
            "归属年度",
            "姓名",
            "身份证号",
            "用工单位",
            "务工地",
            "就业时间",
            "离岗时间",
            "工种",
            "月工资（万元）",
            "就业方式",
        ]
    )
    home = str(village("130821", 3))
    rows = [
        (
            people.poor[0],
            "天津东丽测试电子有限公司",
            "120110",
            "2019-03-01",
            None,
            "电子装配工",
            0.42,
            "有组织输出",
        ),
        (
            people.poor[1],
            "承德县手工编织帮扶车间",
            home,
            "2019-04-15",
            "2019-12-31",
            "编织工",
            0.15,
            "扶贫车间",
        ),
        (people.exited[0], "石家庄测试食品有限公司", "130102", "2019年5月1日", None, "普工", 0.33, "招聘会"),
        (
            people.outside[0],
            "深圳南山测试物业有限公司",
            "440305",
            "2019-06-01",
            None,
            "保安员",
            0.5,
            "自主就业",
        ),
        (
            people.unknown[0],
            "天津西青测试物流有限公司",
            "120111",
            "2019-07-01",
            None,
            "分拣员",
            0.38,
            "定向招聘",
        ),
        (people.dead[0], "天津东丽测试电子有限公司", "120110", "2019-02-01", None, "普工", 0.4, "organised"),
        (
            people.poor[2],
            "天津东丽测试电子有限公司",
            "120110",
            "2019-05-01",
            "2019-04-01",
            "普工",
            0.4,
            "有组织劳务输出",
        ),
        (people.poor[3], "天津东丽测试电子有限公司", "120110", "2019-05-01", None, "普工", 0.4, "网上找的"),
    ]
    for i, (person, employer, where, start, end, job, wage, how) in enumerate(rows, start=1):
        ws.append([i, pair.name, 2019, "张三", person, employer, where, start, end, job, wage, how])
    ws.append(["合计", None, None, None, None, None, None, None, None, None, 2.98, None])
    wb.save(path)
    return path


def error_rows(path: Path) -> list[tuple[Any, Any, Any]]:
    ws = load_workbook(path).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    at = [header.index(h) for h in ("原行号", "错误列", "错误原因")]
    return [tuple(r[i] for i in at) for r in rows[1:]]


def test_import_of_a_messy_sheet_and_the_registry_checks(
    world: World, pair: Pairing, people: People, tmp_path: Path
) -> None:
    sheet = placement_sheet(tmp_path / "转移就业.xlsx", pair, people)
    clerk = world.user("chengdexian")
    result = import_ledger("placements", sheet, actor=clerk, errors_out=tmp_path / "errors.xlsx")
    assert result.counts() == {
        "read": 8,
        "accepted": 6,
        "rejected": 2,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
    }
    assert error_rows(tmp_path / "errors.xlsx") == [
        (10, "就业结束日期", "就业结束日期：早于就业开始日期"),
        (
            11,
            "就业方式",
            (
                "就业方式：「网上找的」不是有效的就业方式，可填：有组织劳务输出、招聘会、定向招聘、帮扶自主就业、"
                "公益岗位、帮扶车间、劳务经纪人介绍、其他（或代码 organised、job_fair、targeted、self_found、"
                "welfare_post、workshop、broker、other）"
            ),
        ),
    ]
    cipher = get_cipher()
    by_person = {}
    for check in PersonCheck.objects.filter(ledger="placements"):
        record = Placement.objects.get(pk=check.record_id)
        by_person[check.id_hmac] = (
            check.reason,
            record.flagged,
            record.arrangement,
            record.destination,
            record.confirmation,
            record.monthly_wage_fen,
        )
    expect = {
        people.poor[0]: ("match", False, "organised", "to_partner", "pending", 420_000),
        people.poor[1]: ("match", False, "workshop", "near_home", "none", 150_000),
        people.exited[0]: ("match_exited", False, "job_fair", "in_province", "none", 330_000),
        people.outside[0]: ("not_verified", True, "self_found", "other", "none", 500_000),
        people.unknown[0]: ("not_verified", True, "targeted", "to_partner", "pending", 380_000),
        people.dead[0]: ("dead", True, "organised", "to_partner", "pending", 400_000),
    }
    assert by_person == {cipher.hmac(k): v for k, v in expect.items()}
    # Names on the sheet are not kept; ID numbers only as keyed hashes and masked.
    assert not Placement.objects.filter(job__contains="张三").exists()
    assert sorted(
        PersonCheck.objects.filter(ledger="placements").values_list("id_masked", flat=True)
    ) == sorted(mask_id(p) for p in expect)

    again = import_ledger("placements", sheet, actor=clerk)
    assert again.counts() == {
        "read": 8,
        "accepted": 6,
        "rejected": 2,
        "created": 0,
        "updated": 0,
        "unchanged": 6,
    }
    assert Placement.objects.count() == 6

    placed, with_partner = PLACEMENT_TYPE.metrics
    assert rollup.metric_value(PLACEMENT_TYPE, placed, [pair.pk], 2019) == {"": 3}
    assert rollup.metric_value(PLACEMENT_TYPE, with_partner, [pair.pk], 2019) == {"": 1}
    assert rollup.metric_value(PLACEMENT_TYPE, placed, rollup.subtree_ids(world.provincial), 2019) == {"": 3}


def test_postings_import_and_positions_metric(world: World, pair: Pairing, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["东丽区2019年面向承德县岗位信息表"])
    ws.append(
        [
            "结对关系",
            "归属年度",
            "招聘单位",
            "工作地点",
            "岗位名称",
            "招聘人数",
            "最低月薪",
            "最高月薪",
            "发布日期",
            "截止日期",
            "任职要求",
            "联系电话",
        ]
    )
    ws.append(
        [
            pair.name,
            2019,
            "天津东丽测试电子有限公司",
            "120110",
            "电子装配工",
            30,
            4000,
            5500,
            "2019-03-01",
            "2019-06-30",
            "初中及以上文化",
            "022-84376000",
        ]
    )
    ws.append(
        [
            pair.name,
            2019,
            "天津东丽测试物流有限公司",
            "120110",
            "分拣员",
            12,
            3800,
            4800,
            "2019-04-01",
            None,
            "",
            "022-84370001",
        ]
    )
    ws.append(
        [
            pair.name,
            2019,
            "天津东丽测试物业有限公司",
            "120110",
            "保洁员",
            8,
            3000,
            2800,
            "2019-04-01",
            None,
            "",
            "022-84370002",
        ]
    )
    ws.append(
        [
            pair.name,
            2019,
            "天津东丽测试餐饮有限公司",
            "120110",
            "服务员",
            5,
            3000,
            3500,
            "2019-04-01",
            None,
            "",
            "13912345678",
        ]
    )
    ws.append(["合计", None, None, None, None, 55, None, None, None, None, None, None])
    wb.save(tmp_path / "岗位.xlsx")
    result = import_ledger(
        "postings", tmp_path / "岗位.xlsx", actor=world.user("dongli"), errors_out=tmp_path / "e.xlsx"
    )
    assert result.counts() == {
        "read": 4,
        "accepted": 2,
        "rejected": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert error_rows(tmp_path / "e.xlsx") == [
        (5, "月薪上限（元）", "月薪上限（元）：低于月薪下限"),
        (6, "单位联系电话", "单位联系电话：请填写用工单位的办公电话，不要填写个人手机号"),
    ]
    (positions,) = POSTING_TYPE.metrics
    assert rollup.metric_value(POSTING_TYPE, positions, [pair.pk], 2019) == {"": 42}
    assert set(JobPosting.objects.values_list("side", "region_code", "confirmation")) == {
        ("helper", DONGLI, "none")
    }


def test_the_helper_side_may_not_enter_placements(world: World, pair: Pairing, people: People) -> None:
    from xiezuo.core.scope import ScopeError

    with pytest.raises((ScopeError, RecordInvalid)):
        save_record(PLACEMENT_TYPE, actor=world.user("dongli"), values=placement_values(pair, people.poor[0]))
    assert Placement.objects.count() == 0


# --- matching -----------------------------------------------------------------------------------

ON = dt.date(2019, 6, 1)


class Registry:
    """Members made directly in the registry of the test world's villages."""

    def __init__(self) -> None:
        self.ds = Dataset.objects.create(
            data_year=2019, as_of=dt.date(2019, 12, 31), file_name="match.csv", file_sha256="1" * 64
        )
        self.serial = iter(range(100, 999))
        self.cipher = get_cipher()

    def member(self, region: int, born: dt.date, **extra: Any) -> tuple[Member, str]:
        h = Household.objects.create(
            number=f"M-{next(self.serial)}",
            region_code=region,
            status="poor",
            registered_year=2015,
            size=1,
            first_dataset=self.ds,
            last_dataset=self.ds,
        )
        HouseholdStatus.objects.create(household=h, status="poor", start=dt.date(2015, 1, 1), dataset=self.ds)
        number = id_number(str(region)[:6], born, next(self.serial))
        m = Member.objects.create(
            household=h,
            id_hmac=self.cipher.hmac(number),
            id_cipher=self.cipher.encrypt(number),
            id_masked=mask_id(number),
            name_cipher=self.cipher.encrypt("王小明"),
            name_hmac=self.cipher.hmac("王小明"),
            name_masked=mask_name("王小明"),
            birth_date=born,
            sex="1",
            relation="01",
            region_code=region,
            last_dataset=self.ds,
            **extra,
        )
        return m, number


def township_villages() -> tuple[int, int, int]:
    """Two villages of one township of 承德县 and a village of another township."""
    low = 130821 * 10**6
    codes = list(
        Region.objects.filter(level=5, code__gte=low, code__lt=low + 10**6)
        .order_by("code")
        .values_list("code", flat=True)
    )
    first = codes[0]
    same = next(c for c in codes if c != first and c // 1000 == first // 1000)
    other = next(c for c in codes if c // 1000 != first // 1000)
    return first, same, other


def born(age: int, days: int = 0) -> dt.date:
    """Born ``age`` years before ON, plus ``days`` (one day more: a year younger on ON)."""
    return ON.replace(year=ON.year - age) + dt.timedelta(days=days)


@pytest.fixture
def matching(world: World, pair: Pairing) -> dict[str, Any]:
    a, b, c = township_villages()
    reg = Registry()
    m: dict[str, Any] = {}
    m["a1"], _ = reg.member(a, born(30))
    reg.member(a, born(16, days=1))  # 15 on the day (16 the day after): too young
    m["a16"], _ = reg.member(a, born(16))  # 16 on the day
    m["a59"], _ = reg.member(a, born(60, days=1))  # 59, a day before turning 60
    reg.member(a, born(60))  # 60 on the day: too old
    m["b1"], _ = reg.member(b, born(40))
    m["c1"], _ = reg.member(c, born(45))
    cannot, _ = reg.member(c, born(35))
    MemberDetail.objects.create(member=cannot, labour_skill="4")  # 丧失劳动力
    m["c3"], _ = reg.member(c, born(35))
    MemberDetail.objects.create(
        member=m["c3"], labour_skill="1", health_cipher=get_cipher().encrypt("患有大病")
    )
    reg.member(c, born(35), left_on=dt.date(2018, 5, 1), leave_reason="moved_out")
    _placed, placed_id = reg.member(c, born(33))
    m["c6"], ended_id = reg.member(c, born(31))
    reg.member(village("130881"), born(30))  # 平泉市: another county
    clerk = world.user("chengdexian")
    save_record(
        PLACEMENT_TYPE, actor=clerk, values=placement_values(pair, placed_id, start=dt.date(2019, 3, 1))
    )
    save_record(
        PLACEMENT_TYPE,
        actor=clerk,
        values=placement_values(pair, ended_id, start=dt.date(2019, 1, 5), end=dt.date(2019, 5, 31)),
    )
    m["posting"] = save_record(
        POSTING_TYPE,
        actor=world.user("dongli"),
        values=posting_values(pair, workplace_region=str(a), valid_from=ON),
    )
    m["villages"] = (a, b, c)
    return m


def client_for(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def shown(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-member="(\d+)"', html)]


def test_the_county_clerk_sees_working_age_labourers_of_the_county_nearest_first(
    world: World, matching: dict[str, Any]
) -> None:
    posting = matching["posting"]
    url = reverse("web:labour_match", args=[posting.pk])
    response = client_for(world, "chengdexian").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    expected = [matching[k].pk for k in ("a1", "a16", "a59", "b1", "c1", "c3", "c6")]
    assert shown(html) == expected
    regions = {int(r) for r in re.findall(r'data-region="(\d+)"', html)}
    assert regions <= set(matching["villages"])
    assert all(130821000000 <= r < 130822000000 for r in regions)
    # Minimal fields: masked ID and name, age; skill where known; never health, birth dates or clear IDs.
    a1 = matching["a1"]
    assert a1.id_masked in html and "王**" in html and "技能劳动力" in html
    assert (
        "患有大病" not in html and MemberDetail.objects.get(member=matching["c3"]).health_cipher not in html
    )
    assert a1.birth_date.isoformat() not in html and a1.birth_date.strftime("%Y%m%d") not in html
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="labour.match")
    assert (entry.actor, entry.object_type, entry.object_id, entry.region_code, entry.batch) == (
        world.user("chengdexian"),
        "posting",
        str(posting.pk),
        130821000000,
        {"shown": 7},
    )


@pytest.mark.parametrize(
    "username", ["dongli", "tianjin", "national", "weichang", "viewer", "ningbo", "auditor"]
)
def test_everyone_but_the_county_labour_staff_gets_not_found(
    world: World, matching: dict[str, Any], username: str
) -> None:
    url = reverse("web:labour_match", args=[matching["posting"].pk])
    assert client_for(world, username).get(url).status_code == 404
    assert (
        client_for(world, "chengdexian").get(reverse("web:labour_match", args=[999_999])).status_code == 404
    )
    assert (
        not AuditEntry.objects.filter(action="labour.match").exclude(actor__username="chengdexian").exists()
    )


def test_the_prefecture_coordinator_may_match_for_its_county(world: World, matching: dict[str, Any]) -> None:
    url = reverse("web:labour_match", args=[matching["posting"].pk]) + "?county=130821"
    response = client_for(world, "chengde").get(url)
    assert response.status_code == 200
    assert len(shown(response.content.decode())) == 7


def test_never_more_than_fifty_rows(world: World, pair: Pairing) -> None:
    a, _b, _c = township_villages()
    reg = Registry()
    for i in range(55):
        reg.member(a, born(20 + i % 30))
    posting = save_record(
        POSTING_TYPE,
        actor=world.user("dongli"),
        values=posting_values(pair, workplace_region="120110", valid_from=ON),
    )
    response = client_for(world, "chengdexian").get(reverse("web:labour_match", args=[posting.pk]))
    assert len(shown(response.content.decode())) == 50
    assert AuditEntry.objects.get(action="labour.match").batch == {"shown": 50}


# --- synthetic data -----------------------------------------------------------------------------


def test_synthetic_rows_pass_the_rules_and_plant_recorded_bad_claims(
    world: World, pair: Pairing, people: People
) -> None:
    def run() -> tuple[SynthContext, dict[str, list[dict[str, Any]]]]:
        ctx = SynthContext(rng=random.Random(11), year=2019, pairings=[world.provincial, pair], scale=0.05)
        return ctx, generate(ctx)

    ctx, rows = run()
    _again, rows_again = run()
    assert rows == rows_again
    # The world's registry holds 8 people of working age in 承德县: all placed once, plus 1 planted.
    assert (len(rows["placements"]), len(rows["postings"]), dict(ctx.planted)) == (9, 3, {"placements": 1})
    registered = set(Member.objects.values_list("id_hmac", flat=True))
    cipher = get_cipher()
    named = [r["id_number"] for r in rows["placements"]]
    bad = [p for p in named if cipher.hmac(p) not in registered]
    assert ctx.planted["placements"] == len(bad)
    assert {r["pairing"].pk for r in rows["placements"]} == {pair.pk}
    assert {r["pairing"].pk for r in rows["postings"]} == {pair.pk, world.provincial.pk}
    for r in rows["placements"]:
        assert check_placement(r) == []
        assert rules.working_age_births(r["start"])[0] < dt.date(
            int(r["id_number"][6:10]), int(r["id_number"][10:12]), int(r["id_number"][12:14])
        )
    for r in rows["postings"]:
        assert check_posting(r) == []
    for key, ltype in (("placements", PLACEMENT_TYPE), ("postings", POSTING_TYPE)):
        for values in rows[key]:
            save_record(ltype, actor=SYSTEM, values=values, via="demo", upsert=True)
    assert Placement.objects.count() == len(rows["placements"])
    assert JobPosting.objects.count() == len(rows["postings"])
    assert Placement.objects.filter(flagged=True).count() == len(bad) == 1
    assert set(Placement.objects.values_list("confirmation", flat=True)) <= {
        LedgerRecord.PENDING,
        LedgerRecord.NONE,
    }
