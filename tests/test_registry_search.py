"""Registry search and 一户一档 (issue 17 items 4 and 6): the household list found by 户编号 (prefix),
by an exact name and by an ID number (keyed hashes, never clear text), always within the user's
scope; people and household counts; the masked export; the 户主 warning on the page and in the
import result; the help a household's members received from the ledgers.

Households are made in each test in the test world's villages of 承德县 (130821) and 平泉市 (130881).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests.test_registry_pages import client_for, dataset, listed, total, villages
from tests.world import World
from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.core.models import AuditEntry
from xiezuo.labour.ledgers import PLACEMENT_TYPE
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.services import save_record
from xiezuo.registry.help import help_received
from xiezuo.registry.importing import import_registry
from xiezuo.registry.models import Dataset, Household, HouseholdStatus, Member
from xiezuo.synth.ledgers import id_number
from xiezuo.talent import ledgers as talent
from xiezuo.talent.models import TrainingParticipant, TrainingSession
from xiezuo.web import views_registry

pytestmark = pytest.mark.django_db

# (number, county, [(name, relation, birth, serial)]): 张三 lives in two households of 承德县.
HOUSEHOLDS: list[tuple[str, str, list[tuple[str, str, dt.date, int]]]] = [
    (
        "130821-0001",
        "130821",
        [("张三", "01", dt.date(1970, 1, 1), 11), ("李四", "02", dt.date(1972, 2, 2), 12)],
    ),
    ("130821-0002", "130821", [("张三", "01", dt.date(1960, 3, 3), 21)]),
    ("130821-1001", "130821", [("王五", "03", dt.date(1990, 4, 4), 31)]),  # no head
    ("130881-0001", "130881", [("赵六", "01", dt.date(1965, 5, 5), 41)]),
]


def ident(county: str, birth: dt.date, serial: int) -> str:
    return id_number(county, birth, serial)


@pytest.fixture
def homes(world: World) -> dict[str, Household]:
    ds = dataset()
    cipher = get_cipher()
    out = {}
    for i, (number, county, people) in enumerate(HOUSEHOLDS):
        village = villages(county)[i % 3]
        h = Household.objects.create(
            number=number,
            region_code=village,
            status="poor",
            attribute="1",
            main_cause="1",
            registered_year=2015,
            size=len(people),
            first_dataset=ds,
            last_dataset=ds,
        )
        HouseholdStatus.objects.create(household=h, status="poor", start=dt.date(2014, 1, 1), dataset=ds)
        for name, relation, birth, serial in people:
            number_ = ident(county, birth, serial)
            Member.objects.create(
                household=h,
                id_hmac=cipher.hmac(number_),
                id_cipher=cipher.encrypt(number_),
                id_masked=mask_id(number_),
                name_cipher=cipher.encrypt(name),
                name_hmac=cipher.hmac(name),
                name_masked=mask_name(name),
                birth_date=birth,
                sex="1",
                relation=relation,
                region_code=village,
                last_dataset=ds,
            )
        out[number] = h
    return out


def search(client: Client, **params: str) -> str:
    response = client.get(reverse("web:households"), params)
    assert response.status_code == 200
    return response.content.decode()


def numbers(html: str, homes: dict[str, Household]) -> set[str]:
    by_pk = {h.pk: n for n, h in homes.items()}
    return {by_pk[pk] for pk in listed(html)}


def people(html: str) -> int:
    found = re.search(r'data-people="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


def test_search_by_household_number_prefix(world: World, homes: dict[str, Household]) -> None:
    clerk = client_for(world, "chengdexian")
    html = search(clerk, number="130821-000")
    assert numbers(html, homes) == {"130821-0001", "130821-0002"}
    assert (total(html), people(html)) == (2, 3)
    html = search(clerk, number="130821-0002")
    assert numbers(html, homes) == {"130821-0002"} and (total(html), people(html)) == (1, 1)
    # 平泉市 is out of the clerk's scope: its number finds nothing, as a missing one would.
    html = search(clerk, number="130881")
    assert numbers(html, homes) == set() and (total(html), people(html)) == (0, 0)
    html = search(client_for(world, "chengde"), number="130881")
    assert numbers(html, homes) == {"130881-0001"} and (total(html), people(html)) == (1, 1)


def test_a_household_number_with_other_characters_is_a_form_error(
    world: World, homes: dict[str, Household]
) -> None:
    html = search(client_for(world, "chengdexian"), number="1308%")
    assert listed(html) == [] and total(html) == 0
    assert "户编号只能由字母、数字、“-”和“_”组成" in html


def test_search_by_exact_name_through_its_keyed_hash(world: World, homes: dict[str, Household]) -> None:
    clerk = client_for(world, "chengdexian")
    html = search(clerk, name="张三")
    assert numbers(html, homes) == {"130821-0001", "130821-0002"}
    assert (total(html), people(html)) == (2, 3)
    # Cleaned as the import cleans names: the padding space between the characters goes.
    assert numbers(search(clerk, name="张 三"), homes) == {"130821-0001", "130821-0002"}
    assert numbers(search(clerk, name="张"), homes) == set()
    assert numbers(search(clerk, name="赵六"), homes) == set()  # out of scope
    assert numbers(search(client_for(world, "chengde"), name="赵六"), homes) == {"130881-0001"}


def test_search_by_id_number_normalised_and_matched_by_its_keyed_hash(
    world: World, homes: dict[str, Household]
) -> None:
    clerk = client_for(world, "chengdexian")
    li = ident("130821", dt.date(1972, 2, 2), 12)
    html = search(clerk, id_number=li)
    assert numbers(html, homes) == {"130821-0001"} and (total(html), people(html)) == (1, 2)
    # Full-width digits and the old 15-digit form are the same person.
    full_width = li.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert numbers(search(clerk, id_number=full_width), homes) == {"130821-0001"}
    assert numbers(search(clerk, id_number=li[:6] + li[8:17]), homes) == {"130821-0001"}
    # Combined with the number prefix: both must hold.
    assert numbers(search(clerk, id_number=li, number="130821-0002"), homes) == set()


def test_an_id_number_out_of_scope_finds_nothing(world: World, homes: dict[str, Household]) -> None:
    zhao = ident("130881", dt.date(1965, 5, 5), 41)
    html = search(client_for(world, "chengdexian"), id_number=zhao)
    assert listed(html) == [] and (total(html), people(html)) == (0, 0)
    assert "其他地区" not in html  # nothing tells that the person exists elsewhere
    html = search(client_for(world, "chengde"), id_number=zhao)
    assert numbers(html, homes) == {"130881-0001"}


def test_an_invalid_id_number_is_a_clear_chinese_error(world: World, homes: dict[str, Household]) -> None:
    li = ident("130821", dt.date(1972, 2, 2), 12)
    wrong = li[:17] + ("0" if li[17] != "0" else "1")
    html = search(client_for(world, "chengdexian"), id_number=wrong)
    assert listed(html) == [] and total(html) == 0
    assert "身份证号校验位错误，请核对最后一位" in html


def test_the_search_result_exports_masked_for_the_registry_keepers(
    world: World, homes: dict[str, Household]
) -> None:
    url = reverse("web:households_export")
    response = client_for(world, "chengdexian").get(url, {"name": "张三"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    zhang_1 = ident("130821", dt.date(1970, 1, 1), 11)
    li = ident("130821", dt.date(1972, 2, 2), 12)
    zhang_2 = ident("130821", dt.date(1960, 3, 3), 21)
    head = [
        "户编号",
        "行政区划代码",
        "姓名",
        "证件号码",
        "与户主关系",
        "贫困状态",
        "贫困户属性",
        "主要致贫原因",
        "脱贫年度",
    ]
    assert rows[0] == head
    code = {n: str(h.region_code) for n, h in homes.items()}
    assert sorted(rows[1:]) == sorted(
        [
            [
                "130821-0001",
                code["130821-0001"],
                "张*",
                mask_id(zhang_1),
                "户主",
                "贫困",
                "一般贫困户",
                "因病",
                None,
            ],
            [
                "130821-0001",
                code["130821-0001"],
                "李*",
                mask_id(li),
                "配偶",
                "贫困",
                "一般贫困户",
                "因病",
                None,
            ],
            [
                "130821-0002",
                code["130821-0002"],
                "张*",
                mask_id(zhang_2),
                "户主",
                "贫困",
                "一般贫困户",
                "因病",
                None,
            ],
        ]
    )
    entry = AuditEntry.objects.get(action="export", object_type="registry")
    assert entry.batch == {"rows": 3, "searched": True}
    assert "张三" not in str(entry.batch) and zhang_1 not in str(entry.changes)
    # A viewer sees the list but may not export; the link is not offered either.
    viewer = client_for(world, "viewer")
    assert viewer.get(url, {"name": "张三"}).status_code == 404
    assert "data-export" not in search(viewer, name="张三")
    assert "data-export" in search(client_for(world, "chengdexian"), name="张三")


def test_the_household_page_flags_a_missing_or_second_head(world: World, homes: dict[str, Household]) -> None:
    clerk = client_for(world, "chengdexian")

    def warning(h: Household) -> str | None:
        html = clerk.get(reverse("web:household", args=[h.pk])).content.decode()
        found = re.search(r'data-head-warning="(\w+)"', html)
        return found.group(1) if found else None

    assert warning(homes["130821-0001"]) is None
    assert warning(homes["130821-1001"]) == "none"
    Member.objects.filter(household=homes["130821-0001"]).update(relation="01")
    assert warning(homes["130821-0001"]) == "several"
    # A head who left the household is not its head any more.
    Member.objects.filter(household=homes["130821-0002"]).update(
        left_on=dt.date(2019, 1, 1), leave_reason="death"
    )
    assert warning(homes["130821-0002"]) == "none"


def test_the_import_result_counts_households_without_or_with_several_heads(
    world: World, tmp_path: Path
) -> None:
    sheet = tmp_path / "heads.csv"
    rows = [
        "户编号,乡镇,村,姓名,身份证号码,与户主关系,贫困户属性,主要致贫原因,识别年度,贫困状态,脱贫年度,人均纯收入（元）",
        "K001,下板城镇,新兴社区,名称一,{},户主,一般贫困户,因病,2014,贫困,,4000",
        "K001,下板城镇,新兴社区,名称二,{},配偶,一般贫困户,因病,2014,贫困,,4000",
        "K002,下板城镇,新兴社区,名称三,{},配偶,一般贫困户,因病,2014,贫困,,4000",
        "K002,下板城镇,新兴社区,名称四,{},之子,一般贫困户,因病,2014,贫困,,4000",
        "K003,下板城镇,新兴社区,名称五,{},户主,一般贫困户,因病,2014,贫困,,4000",
        "K003,下板城镇,新兴社区,名称六,{},户主,一般贫困户,因病,2014,贫困,,4000",
        "K004,下板城镇,新兴社区,名称七,{},户主,一般贫困户,因病,2014,贫困,,4000",
    ]
    ids = iter(ident("130821", dt.date(1970 + i, 6, 6), 100 + i) for i in range(10))
    text = "\n".join(row.format(next(ids)) if "{}" in row else row for row in rows) + "\n"
    sheet.write_text(text, encoding="utf-8")
    kw: dict[str, Any] = {
        "actor": world.user("chengdexian"),
        "data_year": 2019,
        "as_of": dt.date(2019, 12, 31),
    }
    result = import_registry(sheet, **kw)
    assert (result.accepted, result.rejected) == (7, 0)
    assert result.details()["households"] == {
        "created": 4,
        "updated": 0,
        "without_head": 1,
        "several_heads": 1,
    }
    assert result.notes[-2:] == [
        "1 户没有户主（与户主关系为“户主”的在册成员），请核对后重新导入",
        "1 户有两个或以上户主，请核对“与户主关系”后重新导入",
    ]
    assert Dataset.objects.get(pk=result.dataset_id).counts["accepted"] == 7
    # A dry run writes nothing and counts nothing of heads.
    dry = import_registry(sheet, dry_run=True, **kw)
    assert dry.details()["households"]["without_head"] == 0


# --- 一户一档: the help the members received -------------------------------------------------


def _participant(world: World, person: str, year: int, on: dt.date, *, session: str) -> int:
    pairing = world.pairing("120110", "130821")
    if not TrainingSession.objects.filter(session_number=session, pairing=pairing, year=year).exists():
        course = {
            "pairing": pairing,
            "year": year,
            "session_number": session,
            "kind": "labour_skills",
            "title": "家政服务技能培训班",
            "organiser": "承德县人力资源和社会保障局",
            "start_on": on,
            "end_on": on,
            "place": "承德县",
            "participants": 30,
        }
        save_record(talent.SESSIONS_TYPE, actor=world.user("chengdexian"), values=course)
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": year,
        "session_number": session,
        "kind": "labour_skills",
        "id_number": person,
        "trained_on": on,
    }
    return int(save_record(talent.PARTICIPANTS_TYPE, actor=world.user("chengdexian"), values=row).pk)


def _placement(world: World, person: str) -> int:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "id_number": person,
        "employer": "天津东丽测试电子有限公司",
        "workplace_region": "120110",
        "start": dt.date(2019, 3, 1),
        "end": None,
        "job": "电子装配工",
        "monthly_wage_fen": 420_000,
        "arrangement": "organised",
    }
    return int(save_record(PLACEMENT_TYPE, actor=world.user("chengdexian"), values=row).pk)


def help_cells(html: str) -> list[str]:
    return re.findall(r'data-help-record="([\w:]+)"', html)


def test_the_household_page_lists_the_help_its_members_received(
    world: World, homes: dict[str, Household]
) -> None:
    zhang = ident("130821", dt.date(1970, 1, 1), 11)
    li = ident("130821", dt.date(1972, 2, 2), 12)
    first = _participant(world, zhang, 2019, dt.date(2019, 5, 6), session="130821-2019-001")
    second = _participant(world, li, 2020, dt.date(2020, 6, 1), session="130821-2020-001")
    job = _placement(world, zhang)
    other = _participant(
        world, ident("130821", dt.date(1960, 3, 3), 21), 2019, dt.date(2019, 5, 6), session="130821-2019-001"
    )
    h = homes["130821-0001"]
    html = client_for(world, "chengdexian").get(reverse("web:household", args=[h.pk])).content.decode()
    # Talent before labour (the ledgers' order), newest year first; the other household's record
    # is not this household's help.
    assert help_cells(html) == [
        f"training_participants:{second}",
        f"training_participants:{first}",
        f"placements:{job}",
    ]
    assert reverse("web:ledger_record", args=["placements", job]) in html
    assert reverse("web:ledger_record", args=["training_participants", first]) in html
    assert f"training_participants:{other}" not in html
    rows = help_received(world.user("chengdexian"), h)
    assert [(r.ledger, r.record_id, r.year, r.on_date) for r in rows] == [
        ("training_participants", second, 2020, dt.date(2020, 6, 1)),
        ("training_participants", first, 2019, dt.date(2019, 5, 6)),
        ("placements", job, 2019, dt.date(2019, 3, 1)),
    ]
    assert [r.ok for r in rows] == [True, True, True]
    assert {r.member_id for r in rows} == set(h.members.values_list("pk", flat=True))


def test_help_records_out_of_the_users_ledger_scope_are_left_out(
    world: World, homes: dict[str, Household]
) -> None:
    zhang = ident("130821", dt.date(1970, 1, 1), 11)
    seen = _participant(world, zhang, 2019, dt.date(2019, 5, 6), session="130821-2019-001")
    h = homes["130821-0001"]
    # A check row of a record of the 西青区 → 平泉市 pairing that names 张三 (e.g. a roster kept
    # there): the 承德县 clerk sees neither the record nor a count of it.
    hidden = _participant(world, zhang, 2019, dt.date(2019, 5, 6), session="130821-2019-002")
    TrainingParticipant.objects.filter(pk=hidden).update(pairing=world.pairing("120111", "130881"))
    assert PersonCheck.objects.filter(household=h).count() == 2
    rows = help_received(world.user("chengdexian"), h)
    assert [r.record_id for r in rows] == [seen]
    assert {r.record_id for r in help_received(world.user("national"), h)} == {seen, hidden}


def test_help_received_reads_one_query_per_ledger_kind_whatever_the_records(
    world: World, homes: dict[str, Household]
) -> None:
    zhang = ident("130821", dt.date(1970, 1, 1), 11)
    li = ident("130821", dt.date(1972, 2, 2), 12)
    h = homes["130821-0001"]
    user = world.user("chengdexian")
    _participant(world, zhang, 2019, dt.date(2019, 5, 6), session="130821-2019-001")
    help_received(user, h)  # warm the scope's caches
    with CaptureQueriesContext(connection) as one:
        assert len(help_received(user, h)) == 1
    for i in range(3):
        _participant(world, li, 2019, dt.date(2019, 5, 7 + i), session=f"130821-2019-01{i}")
    with CaptureQueriesContext(connection) as four:
        assert len(help_received(user, h)) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_a_result_too_large_to_export_is_refused_with_a_message(
    world: World, homes: dict[str, Household], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views_registry, "EXPORT_MAX_PEOPLE", 2)
    client = client_for(world, "chengdexian")
    response = client.get(reverse("web:households_export"), {"number": "130821"}, follow=True)
    assert response.redirect_chain == [(reverse("web:households") + "?number=130821", 302)]
    assert "查询结果有 4 人，超过一次可导出的 2 人" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export", object_type="registry").exists()
    assert client.get(reverse("web:households_export"), {"number": "130821-0001"}).status_code == 200


def test_people_are_counted_up_to_a_county_sized_result(
    world: World, homes: dict[str, Household], monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = client_for(world, "chengdexian")
    assert people(search(clerk)) == 4
    monkeypatch.setattr(views_registry, "PEOPLE_COUNTED_UP_TO", 2)
    html = search(clerk)
    assert total(html) == 3 and "data-people" not in html
    assert people(search(clerk, number="130821-000")) == 3
