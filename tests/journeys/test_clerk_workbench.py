"""The clerk's workbench (issue 17): a county clerk of 承德县 adds ledger records by form and edits
one field; the auditor reads the log. Through the UI only, in zh-Hans; the database, the export
and the API are then read to check what the person saw.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from openpyxl import load_workbook

from tests.journeys.conftest import Journey, Live, Login
from xiezuo.synth.ledgers import id_number

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

AUDIT_YAML = Path(__file__).resolve().parents[2] / "xiezuo" / "core" / "codes" / "audit.yaml"


def _wan(fen: int) -> str:
    """Fen as 万元 text with two decimals, written here independently of the site's code."""
    return f"{(Decimal(fen) / 1_000_000).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def _shown(value: Any, number_format: str) -> str:
    """What Excel shows for a money cell formatted ``#,##0.00``."""
    assert number_format == "#,##0.00", number_format
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def _county_pairing(live: Live) -> int:
    pk: int = live.query(
        "from xiezuo.pairings.models import Pairing\n"
        "out = Pairing.objects.get(level='county-county', sides__side='helped', "
        "sides__region_code=130821000000).pk"
    )
    return pk


def _list_cells(page: Page, record_id: int) -> dict[str, str]:
    headers = [h.strip() for h in page.locator("table[data-records] thead th").all_inner_texts()]
    cells = [c.strip() for c in page.locator(f'tr[data-record="{record_id}"] td').all_inner_texts()]
    return dict(zip(headers, cells, strict=True))


def _save(page: Page) -> int:
    with page.expect_navigation():
        page.locator("form[data-ledger-form] button[type=submit]").click()
    found = re.search(r"/ledgers/\w+/(\d+)/$", page.url)
    errors = page.locator("[data-error-for], [data-form-error]").all_inner_texts()
    assert found is not None, f"not saved, still on {page.url}: {errors}"
    return int(found.group(1))


def _switch_to_english(page: Page) -> None:
    with page.expect_navigation():
        page.locator('form.xz-lang button[value="en"]').click()
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_clerk_adds_a_project_edits_one_field_and_its_figures_agree_everywhere(
    journey: Journey, login: Login, live: Live, language: str
) -> None:
    page = login(journey.page, "chengdexian")
    if language == "en":
        _switch_to_english(page)
    number = f"JN-2019-{language}"
    pairing = _county_pairing(live)
    page.goto("/ledgers/projects/")
    with page.expect_navigation():
        page.locator('a[href="/ledgers/projects/new/"]').click()
    form = page.locator("form[data-ledger-form]")
    form.locator("select[name=pairing]").select_option(str(pairing))
    form.locator("input[name=year]").fill("2019")
    form.locator("input[name=project_number]").fill(number)
    form.locator("input[name=name]").fill("下板城镇食用菌大棚")
    form.locator("select[name=project_type]").select_option(index=1)
    form.locator("select[name=stage]").select_option("started")
    form.locator("input[name=budget_fen]").fill("290")
    form.locator("input[name=east_west_fen]").fill("80")
    form.locator("input[name=other_fen]").fill("210")
    form.locator("input[name=banked_on]").fill("2019-02-01")
    form.locator("input[name=approved_on]").fill("2019-03-01")
    form.locator("input[name=started_on]").fill("2019-04-10")
    form.locator("input[name=benefit_households]").fill("35")
    record_id = _save(page)

    # edit ONE field: the form carries every stored value, dates as ISO dates
    with page.expect_navigation():
        page.locator(f'a[href="/ledgers/projects/{record_id}/edit/"]').click()
    form = page.locator("form[data-ledger-form]")
    assert form.locator("input[name=started_on]").input_value() == "2019-04-10"
    assert form.locator("input[name=budget_fen]").input_value() == "290"
    form.locator("input[name=name]").fill("下板城镇食用菌大棚（二期）")
    assert _save(page) == record_id
    stored = live.query(
        "from xiezuo.projects.models import Project\n"
        f"p = Project.objects.get(pk={record_id})\n"
        "out = [p.name, p.budget_fen, p.east_west_fen, p.other_fen, str(p.banked_on), str(p.approved_on),"
        " str(p.started_on), p.completed_on, p.benefit_households, p.stage]"
    )
    assert stored == [
        "下板城镇食用菌大棚（二期）",
        290_000_000,
        80_000_000,
        210_000_000,
        "2019-02-01",
        "2019-03-01",
        "2019-04-10",
        None,
        35,
        "started",
    ]

    # the list page's 万元 figures = the export's = the API's
    page.goto("/ledgers/projects/?year=2019")
    shown = _list_cells(page, record_id)
    assert (shown["项目总投资（万元）"], shown["东西部协作资金（万元）"]) == ("290.00", "80.00")
    with page.expect_download() as download:
        page.locator('a[href^="/ledgers/projects/export.xlsx"]').click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("项目编号")].value == number)
    for column in ("项目总投资（万元）", "东西部协作资金（万元）"):
        cell = row[header.index(column)]
        assert _shown(cell.value, cell.number_format) == shown[column], column
    token = live.token("chengdexian")
    api = page.request.get(
        f"/api/v1/ledgers/projects/records/{record_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status == 200
    data = api.json()
    assert (_wan(data["budget_fen"]), _wan(data["east_west_fen"])) == ("290.00", "80.00")


def test_a_clerk_edits_one_field_of_a_placement_and_keeps_dates_id_and_wage(
    journey: Journey, login: Login, live: Live
) -> None:
    page = login(journey.page, "chengdexian")
    pairing = _county_pairing(live)
    number = id_number("130821", dt.date(1986, 6, 1), 417)
    page.goto("/ledgers/placements/new/")
    form = page.locator("form[data-ledger-form]")
    form.locator("select[name=pairing]").select_option(str(pairing))
    form.locator("input[name=year]").fill("2019")
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=employer]").fill("天津某制造有限公司")
    form.locator("input[name=workplace_region]").fill("120110")
    form.locator("input[name=start]").fill("2019-08-11")
    form.locator("input[name=end]").fill("2019-12-20")
    form.locator("input[name=monthly_wage_fen]").fill("3500.50")
    form.locator("select[name=arrangement]").select_option(index=1)
    record_id = _save(page)
    before = live.query(
        "from xiezuo.ledgers.models import PersonCheck\n"
        f"out = list(PersonCheck.objects.filter(ledger='placements', record_id={record_id})"
        ".values_list('id_hmac', 'id_masked'))"
    )
    assert len(before) == 1 and before[0][1] == number[:6] + "*" * 10 + number[-2:]

    page.goto(f"/ledgers/placements/{record_id}/edit/")
    form = page.locator("form[data-ledger-form]")
    assert (
        form.locator("input[name=start]").input_value(),
        form.locator("input[name=end]").input_value(),
    ) == (
        "2019-08-11",
        "2019-12-20",
    )
    id_input = form.locator("input[name=id_number]")
    assert (id_input.input_value(), id_input.get_attribute("placeholder")) == ("", before[0][1])
    assert number not in page.content()
    form.locator("input[name=job]").fill("装配工")
    assert _save(page) == record_id
    after = live.query(
        "from xiezuo.labour.models import Placement\n"
        "from xiezuo.ledgers.models import PersonCheck\n"
        f"p = Placement.objects.get(pk={record_id})\n"
        "out = [p.job, str(p.start), str(p.end), p.monthly_wage_fen, p.workplace_region, "
        f"list(PersonCheck.objects.filter(ledger='placements', record_id={record_id})"
        ".values_list('id_hmac', 'id_masked'))]"
    )
    assert after == ["装配工", "2019-08-11", "2019-12-20", 350_050, 120110000000, before]


def test_the_auditor_reads_the_audit_log_in_chinese(journey: Journey, login: Login) -> None:
    labels = yaml.safe_load(AUDIT_YAML.read_text(encoding="utf-8"))["audit_action"]["codes"]
    zh = {code: label for code, label, *_ in labels}
    page = login(journey.page, "auditor")
    page.goto("/audit/")
    actions = page.locator("table.xz-audit tbody tr td .xz-action")
    assert actions.count() > 1
    shown = [(a.get_attribute("data-action"), a.inner_text().strip()) for a in actions.all()]
    assert [(code, text) for code, text in shown if zh.get(code or "") != text] == []
    assert shown[0] == ("login", "登录")
    assert page.locator("table.xz-audit tbody tr").first.locator("td").nth(6).inner_text().strip() == "网页"
    # the English UI shows the English labels
    _switch_to_english(page)
    page.goto("/audit/")
    first = page.locator("table.xz-audit tbody tr td .xz-action").first
    assert (first.get_attribute("data-action"), first.inner_text().strip()) == ("login", "sign in")
