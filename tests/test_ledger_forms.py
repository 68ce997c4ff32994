"""Forms that keep what they hold (issue 17 item 3): the edit form of a ledger record, in zh-Hans,
posted back as the browser would post it with one field changed, leaves every other field as it was.

The form is read from the page's HTML and posted with the values the page carries (what a browser
sends), so a date the browser cannot show (``2019/08/11`` in a date input) is lost here too.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

from django.test import Client

from tests.ledgers_world import People
from tests.world import World
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.funds.models import FiscalFund
from xiezuo.labour.models import Placement
from xiezuo.ledgers import periods, services, types
from xiezuo.ledgers.models import PersonCheck


class FormValues(HTMLParser):
    """The name → value pairs a browser submits for the first form marked ``data-ledger-form``."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.inputs: dict[str, dict[str, str]] = {}
        self._in_form = False
        self._select: str | None = None
        self.disabled_fieldset = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "data-ledger-form" in a:
            self._in_form = True
        if not self._in_form:
            return
        if tag == "fieldset" and "disabled" in a:
            self.disabled_fieldset = True
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a
            if a.get("type") == "date" and a.get("value") and not _iso(a["value"]):
                value = ""  # a date input shows (and submits) nothing for a non-ISO value
            else:
                value = a.get("value", "")
            self.values[a["name"]] = value
        if tag == "select":
            self._select = a.get("name")
            self.values.setdefault(self._select or "", "")
        if tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "form":
            self._in_form = False


def _iso(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def read_form(html: str) -> FormValues:
    parser = FormValues()
    parser.feed(html)
    return parser


def test_editing_one_field_keeps_dates_id_number_and_amounts(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    number = registry_people.poor[0]
    record = services.save_record(
        types.get("placements"),
        actor=clerk,
        values={
            "pairing": pair.pk,
            "year": 2019,
            "id_number": number,
            "employer": "天津某制造有限公司",
            "workplace_region": "120110",
            "start": dt.date(2019, 8, 11),
            "end": dt.date(2019, 12, 20),
            "monthly_wage_fen": 350_050,
            "arrangement": "有组织劳务输出",
        },
        via="web",
    )
    before_check = PersonCheck.objects.get(ledger="placements", record_id=record.pk)
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(clerk)
    page = web.get(f"/ledgers/placements/{record.pk}/edit/").content.decode()
    assert "2019/08/11" not in page
    form = read_form(page)
    assert (form.values["start"], form.values["end"]) == ("2019-08-11", "2019-12-20")
    # the ID number: the masked one shown, the field left empty
    assert (
        form.inputs["id_number"]["placeholder"]
        == before_check.id_masked
        == number[:6] + "*" * 10 + number[-2:]
    )
    assert form.values["id_number"] == ""
    assert number not in page
    # regions: short codes picked from named options, the stored region's name beside the field
    assert (form.values["workplace_region"], form.values["region_code"]) == ("120110", "130821")
    assert form.inputs["workplace_region"]["list"] == "xz-regions"
    assert '<option value="130821">承德县</option>' in page
    assert '<option value="120110">东丽区</option>' in page
    assert "当前：东丽区" in page and "当前：承德县" in page
    # the clerk may unmask registered people of 承德县: once, through the audited registry view
    member = PersonCheck.objects.get(ledger="placements", record_id=record.pk).member_id
    assert member is not None
    assert f'hx-post="/registry/members/{member}/unmask/"' in page
    revealed = web.post(f"/registry/members/{member}/unmask/").content.decode()
    assert number in revealed
    assert AuditEntry.objects.filter(action="unmask", actor=clerk).count() == 1
    form.values["employer"] = "天津另一家制造有限公司"
    response = web.post(f"/ledgers/placements/{record.pk}/edit/", form.values)
    assert response.status_code == 302, response.content.decode()[-3000:]
    after = Placement.objects.get(pk=record.pk)
    assert after.employer.name == "天津另一家制造有限公司"
    assert (after.start, after.end, after.monthly_wage_fen, after.workplace_region, after.arrangement) == (
        dt.date(2019, 8, 11),
        dt.date(2019, 12, 20),
        350_050,
        120110000000,
        record.arrangement,
    )
    check = PersonCheck.objects.get(ledger="placements", record_id=record.pk)
    assert (check.id_hmac, check.id_masked, check.ok) == (before_check.id_hmac, before_check.id_masked, True)
    # a typed number replaces the stored one
    form.values["id_number"] = registry_people.poor[1]
    assert web.post(f"/ledgers/placements/{record.pk}/edit/", form.values).status_code == 302
    check = PersonCheck.objects.get(ledger="placements", record_id=record.pk)
    assert check.id_masked == registry_people.poor[1][:6] + "*" * 10 + registry_people.poor[1][-2:]


def test_optional_dates_and_whole_wan_amounts_survive_a_save(world: World) -> None:
    pair = world.pairing("120110", "130821")
    helper = world.user("dongli")
    record = services.save_record(
        types.get("fiscal_funds"),
        actor=helper,
        values={
            "pairing": pair.pk,
            "year": 2019,
            "transfer_number": "F-1",
            "source_level": "county",
            "target_region_code": "130821",
            "agreed_fen": 290_000_000,
            "agreed_on": dt.date(2019, 1, 15),
            "allocated_fen": 290_000_000,
            "allocated_on": dt.date(2019, 3, 1),
            "arrived_fen": 80_000_000,
            "arrived_on": dt.date(2019, 4, 1),
            "receipt_number": "R-1",
        },
        via="web",
    )
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(helper)
    form = read_form(web.get(f"/ledgers/fiscal_funds/{record.pk}/edit/").content.decode())
    assert (form.values["agreed_fen"], form.values["arrived_fen"]) == ("290", "80")
    form.values["receipt_number"] = "R-1b"
    assert web.post(f"/ledgers/fiscal_funds/{record.pk}/edit/", form.values).status_code == 302
    after = FiscalFund.objects.get(pk=record.pk)
    assert (after.receipt_number, after.agreed_on, after.agreed_fen, after.arrived_fen, after.arrived_on) == (
        "R-1b",
        dt.date(2019, 1, 15),
        290_000_000,
        80_000_000,
        dt.date(2019, 4, 1),
    )


def test_a_locked_records_form_says_so_and_changes_nothing(world: World) -> None:
    pair = world.pairing("120110", "130821")
    helper = world.user("dongli")
    system: Any = SYSTEM
    record = services.save_record(
        types.get("fiscal_funds"),
        actor=helper,
        values={
            "pairing": pair.pk,
            "year": 2019,
            "transfer_number": "F-9",
            "source_level": "county",
            "target_region_code": "130821",
            "allocated_fen": 10_000_000,
            "allocated_on": dt.date(2019, 3, 1),
        },
        via="web",
    )
    period = periods.get_period("fiscal_funds", pair, "helper", 2019)
    while not period.locked:
        periods.advance_period(period, actor=system, note="test", via="demo")
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(helper)
    page = web.get(f"/ledgers/fiscal_funds/{record.pk}/edit/").content.decode()
    assert "该记录所属期间已审核锁定" in page
    form = read_form(page)
    assert form.disabled_fieldset and 'type="submit"' not in page.split("data-ledger-form", 1)[1]
    form.values["allocated_fen"] = "99"
    assert web.post(f"/ledgers/fiscal_funds/{record.pk}/edit/", form.values).status_code == 400
    assert FiscalFund.objects.get(pk=record.pk).allocated_fen == 10_000_000
