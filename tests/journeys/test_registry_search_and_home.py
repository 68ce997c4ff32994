"""The clerk finds a household and sees its help; the clerk's home shows what waits (issue 17,
items 5 and 6). In zh-Hans, through the UI only for the steps under test; the household, its
members and the ledger records that name them are set up in the live site's database first, and
what the pages show is checked against what that database holds.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest

from tests.journeys.conftest import Journey, Live, Login
from xiezuo.synth.ledgers import id_number

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NUMBER = "JH-130821-0007"
HEAD = id_number("130821", dt.date(1971, 7, 7), 707)
SPOUSE = id_number("130821", dt.date(1973, 3, 3), 708)

SETUP = f"""
import datetime as dt
from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.regions.models import Region
from xiezuo.registry.models import Dataset, Household, HouseholdStatus, Member
from xiezuo.ledgers.services import save_record
from xiezuo.pairings.models import Pairing
from xiezuo.talent import ledgers as talent
from xiezuo.labour.ledgers import PLACEMENT_TYPE
from django.contrib.auth.models import User

out = None
if not Household.objects.filter(number="{NUMBER}").exists():
    cipher = get_cipher()
    village = (Region.objects.filter(level=5, code__gte=130821000000, code__lt=130822000000)
               .order_by("code")[0].code)
    ds = Dataset.objects.create(data_year=2019, as_of=dt.date(2019, 12, 31), file_name="journey",
                                file_sha256="j" * 64)
    h = Household.objects.create(number="{NUMBER}", region_code=village, status="poor", attribute="1",
        main_cause="1", registered_year=2015, size=2, first_dataset=ds, last_dataset=ds)
    HouseholdStatus.objects.create(household=h, status="poor", start=dt.date(2014, 1, 1), dataset=ds)
    for number, name, relation, born in (("{HEAD}", "周建国", "01", dt.date(1971, 7, 7)),
                                         ("{SPOUSE}", "吴秀兰", "02", dt.date(1973, 3, 3))):
        Member.objects.create(household=h, id_hmac=cipher.hmac(number), id_cipher=cipher.encrypt(number),
            id_masked=mask_id(number), name_cipher=cipher.encrypt(name), name_hmac=cipher.hmac(name),
            name_masked=mask_name(name), birth_date=born, sex="1", relation=relation,
            region_code=village, last_dataset=ds)
    pair = Pairing.objects.get(level="county-county", sides__side="helped", sides__region_code=130821000000)
    clerk, dongli = User.objects.get(username="chengdexian"), User.objects.get(username="dongli")
    save_record(talent.SESSIONS_TYPE, actor=clerk, values={{"pairing": pair, "year": 2019,
        "session_number": "JH-2019-001", "kind": "labour_skills", "title": "家政服务技能培训班",
        "organiser": "承德县人力资源和社会保障局", "start_on": dt.date(2019, 5, 6),
        "end_on": dt.date(2019, 5, 10), "place": "承德县", "participants": 30}})
    save_record(talent.PARTICIPANTS_TYPE, actor=clerk, values={{"pairing": pair, "year": 2019,
        "session_number": "JH-2019-001", "kind": "labour_skills", "id_number": "{SPOUSE}",
        "trained_on": dt.date(2019, 5, 6)}})
    save_record(PLACEMENT_TYPE, actor=clerk, values={{"pairing": pair, "year": 2019, "id_number": "{HEAD}",
        "employer": "天津东丽测试电子有限公司", "workplace_region": "120110", "start": dt.date(2019, 3, 1),
        "end": None, "job": "电子装配工", "monthly_wage_fen": 420000, "arrangement": "organised"}})
    # A secondment the helper side entered: the clerk's side confirms it.
    save_record(talent.SECONDMENTS_TYPE, actor=dongli, values={{"pairing": pair, "year": 2019,
        "id_number": "{id_number("120110", dt.date(1980, 1, 1), 709)}", "person_type": "professional",
        "professional_field": "education", "direction": "east_to_west", "home_org": "东丽区第一中学",
        "host_org": "承德县第一中学", "post": "支教教师", "start_on": dt.date(2019, 3, 1),
        "end_on": dt.date(2020, 2, 29)}})
    # An agreement target in the pair's last year (2020), for the home page's progress chart.
    from xiezuo.engagement import ledgers as engagement
    save_record(engagement.AGREEMENTS_TYPE, actor=dongli, values={{"pairing": pair, "year": 2020,
        "target_item": "placements", "target_count": 40, "signed_on": dt.date(2020, 2, 15),
        "document_number": "JH-2020-1"}})
"""

# The help the household's members received, read from the live database independently of the
# page's code: every check row linked to the household, its ledger and record, and the year.
HELP = f"""
from django.apps import apps
from xiezuo.ledgers import types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.registry.models import Household
h = Household.objects.get(number="{NUMBER}")
out = sorted(
    [c.ledger, c.record_id, types.get(c.ledger).model.objects.get(pk=c.record_id).year]
    for c in PersonCheck.objects.filter(household=h)
)
"""

# Records waiting for 承德县's confirmation, by ledger: pending records of the ledgers whose
# helped side confirms, in pairings whose helped side lies in 承德县.
WAITING = """
from xiezuo.ledgers import types
out = {}
for t in types.all_types():
    if t.confirm_side != "helped":
        continue
    n = (t.model.objects.filter(confirmation="pending", pairing__sides__side="helped",
         pairing__sides__region_code__gte=130821000000, pairing__sides__region_code__lt=130822000000)
         .distinct().count())
    if n:
        out[t.key] = n
"""


def _search(page: Page, **fields: str) -> list[str]:
    page.goto("/registry/")
    form = page.locator("form.xz-filter")
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    return [
        t.strip() for t in page.locator("table[data-households] tbody tr td:first-child").all_inner_texts()
    ]


def test_a_clerk_finds_a_household_by_number_name_and_id_and_sees_the_help_it_received(
    journey: Journey, login: Login, live: Live
) -> None:
    live.query(SETUP)
    page = login(journey.page, "chengdexian")
    assert _search(page, number="JH-130821") == [NUMBER]
    assert page.locator("[data-total]").get_attribute("data-total") == "1"
    assert page.locator("[data-people]").get_attribute("data-people") == "2"
    assert page.locator("[data-people]").inner_text().strip() == "2 人"
    assert _search(page, name="吴秀兰") == [NUMBER]
    assert _search(page, id_number=HEAD.lower()) == [NUMBER]
    # One wrong character: a Chinese message, nothing listed.
    wrong = HEAD[:17] + ("1" if HEAD[17] != "1" else "2")
    assert _search(page, id_number=wrong) == []
    assert "身份证号校验位错误" in page.locator("form.xz-filter .invalid-feedback").inner_text()

    _search(page, number=NUMBER)
    with page.expect_navigation():
        page.locator("table[data-households] a", has_text=NUMBER).click()
    assert NUMBER in page.locator("h1").inner_text()
    assert page.locator("[data-head-warning]").count() == 0
    shown = [
        (
            row.get_attribute("data-help-record") or "",
            [c.strip() for c in row.locator("td").all_inner_texts()],
        )
        for row in page.locator("table[data-help] tbody tr").all()
    ]
    expected = live.query(HELP)
    assert len(expected) == 2
    assert sorted([*key.split(":"), int(cells[1])] for key, cells in shown) == sorted(
        [ledger, str(record), year] for ledger, record, year in expected
    )
    labels = {key.split(":")[0]: cells[0] for key, cells in shown}
    assert labels == {"training_participants": "培训学员", "placements": "转移就业"}
    assert {cells[2] for _key, cells in shown} == {"周**", "吴**"}
    # Each record is linked and opens.
    key = next(k for k, _cells in shown if k.startswith("placements:"))
    with page.expect_navigation():
        page.locator(f'tr[data-help-record="{key}"] a').click()
    assert re.search(rf"/ledgers/placements/{key.split(':')[1]}/$", page.url)


def test_the_clerks_home_shows_the_confirmations_the_database_holds(
    journey: Journey, login: Login, live: Live
) -> None:
    live.query(SETUP)
    waiting = live.query(WAITING)
    assert waiting.get("secondments", 0) >= 1
    page = login(journey.page, "chengdexian")
    page.goto("/")
    shown = {
        item.get_attribute("data-to-confirm"): int(item.get_attribute("data-count") or "0")
        for item in page.locator("[data-waiting] [data-to-confirm]").all()
    }
    assert shown == waiting
    # The progress chart is drawn (ECharts from the local static files, under the strict CSP:
    # the journey fails on any console error) beside a table of its figures.
    page.wait_for_selector("[data-progress-chart][data-chart-ready]")
    table = page.locator("[data-progress] table[data-progress-table] tbody tr").first
    assert table.locator("td").first.inner_text().strip() == "帮助建档立卡贫困人口就业"
    assert table.locator("td").nth(2).inner_text().strip() == "40 人"
    first = page.locator("[data-waiting] [data-to-confirm='secondments']")
    assert f"{waiting['secondments']} 条对方记录待您确认" in first.inner_text()
    with page.expect_navigation():
        first.locator("a").click()
    assert page.url.endswith("/ledgers/secondments/?confirmation=pending")
    assert page.locator("table[data-records] tbody tr[data-record]").count() == waiting["secondments"]
