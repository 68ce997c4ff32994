"""The shared ledger machinery (issue #4): save rules, registry checks, scope, locking, confirmation,
import, the pairing roll-up, pages, API and CLI — exercised through two real ledgers:
placements (helped side enters, people checked, quarterly periods) and fiscal funds (helper side
enters, the helped side confirms arrival, yearly periods)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from tests.ledgers_world import People
from tests.world import World
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM, ScopeError
from xiezuo.funds.models import FiscalFund
from xiezuo.labour.models import Placement
from xiezuo.ledgers import periods, services, types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import Attachment, PeriodAction, PersonCheck
from xiezuo.ledgers.rollup import rollup
from xiezuo.pairings.models import Pairing
from xiezuo.synth.foundation import TOWNSHIP_PAIR, full_code

pytestmark = pytest.mark.django_db

PLACEMENTS = "placements"
FUNDS = "fiscal_funds"


def placement(pairing: Pairing, id_number: str, start: dt.date, **extra: Any) -> dict[str, Any]:
    return {
        "pairing": pairing.pk,
        "year": start.year,
        "id_number": id_number,
        "employer": "天津某制造有限公司",
        "workplace_region": "120110",
        "start": start,
        "arrangement": "有组织劳务输出",
        **extra,
    }


def fund(
    pairing: Pairing, number: str, level: str, arrived_fen: int, year: int = 2019, **extra: Any
) -> dict[str, Any]:
    return {
        "pairing": pairing.pk,
        "year": year,
        "transfer_number": number,
        "source_level": level,
        "target_region_code": "130821",
        "allocated_fen": arrived_fen,
        "allocated_on": dt.date(year, 3, 1),
        "arrived_fen": arrived_fen,
        "arrived_on": dt.date(year, 4, 1),
        "receipt_number": f"R-{number}",
        **extra,
    }


def save(key: str, username: str, values: dict[str, Any], world: World, **kw: Any) -> Any:
    return services.save_record(types.get(key), actor=world.user(username), values=values, **kw)


# --- saving and the registry check ----------------------------------------------------------


def test_people_are_checked_against_the_registry_with_reasons(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    p = registry_people
    cases = [
        (p.poor[0], dt.date(2019, 3, 1), True, "match"),
        (p.exited[0], dt.date(2019, 3, 1), True, "match_exited"),
        (p.dead[0], dt.date(2019, 3, 1), False, "dead"),
        (p.outside[0], dt.date(2019, 3, 1), False, "not_verified"),
        (p.unknown[0], dt.date(2019, 3, 1), False, "not_verified"),
        (p.poor[1], dt.date(2013, 5, 1), False, "not_poor_on_date"),
    ]
    for number, start, ok, reason in cases:
        rec = save(PLACEMENTS, "chengdexian", {**placement(pair, number, start), "year": 2019}, world)
        assert rec.outcome == "created"
        check = PersonCheck.objects.get(ledger=PLACEMENTS, record_id=rec.pk)
        assert (check.ok, check.reason, check.on_date) == (ok, reason, start)
        assert rec.flagged is (not ok)
        assert check.id_masked == number[:6] + "*" * 10 + number[-2:]
        # the member registered elsewhere stays linked (never shown); an unknown person has none
        assert (check.member_id is None) == (number == p.unknown[0])
    # every check is logged as access to personal data, with the count
    entries = AuditEntry.objects.filter(action="registry.check", actor__username="chengdexian")
    assert [e.batch["people"] for e in entries] == [1] * 6
    assert Placement.objects.filter(flagged=True).count() == 4


def test_monitored_household_matches_while_monitored(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    rec = save(
        PLACEMENTS, "chengdexian", placement(pair, registry_people.monitored[0], dt.date(2019, 3, 1)), world
    )
    assert PersonCheck.objects.get(record_id=rec.pk, ledger=PLACEMENTS).reason == "match_exited"
    check = services.verify.check_people(
        [
            services.verify.Query(
                PersonCheck.objects.get(record_id=rec.pk).id_hmac,
                dt.date(2021, 6, 1),
                ((130821000000, 130822000000),),
                False,
            )
        ]
    )[0]
    assert (check.ok, check.reason) == (True, "match_monitored")


def test_bad_values_are_refused_with_chinese_reasons(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    values = placement(
        pair, "11010519491231002X", dt.date(2019, 3, 1), arrangement="坐飞机", workplace_region="999999"
    )
    values["id_number"] = "110105194912310021"
    with pytest.raises(services.RecordInvalid) as exc:
        save(PLACEMENTS, "chengdexian", values, world)
    by_key = {k: zh for k, zh, _en in exc.value.errors}
    assert by_key["id_number"] == "身份证号校验位错误，请核对最后一位（也可能是其他某一位输错）"
    assert by_key["arrangement"] == "「坐飞机」不是有效的就业方式"
    assert by_key["workplace_region"] == "「999999」不是有效的行政区划代码或名称"
    with pytest.raises(services.RecordInvalid) as exc:
        save(PLACEMENTS, "chengdexian", placement(pair, registry_people.poor[0], dt.date(2016, 3, 1)), world)
    assert exc.value.errors == [
        ("year", "该结对关系在2016年不在有效期内", "the pairing is not active in 2016")
    ]
    assert Placement.objects.count() == 0


def test_duplicates_are_refused_on_forms_and_updated_by_imports(
    world: World, registry_people: People
) -> None:
    pair = world.pairing("120110", "130821")
    values = placement(pair, registry_people.poor[0], dt.date(2019, 3, 1), monthly_wage_fen=350000)
    first = save(PLACEMENTS, "chengdexian", values, world)
    with pytest.raises(services.RecordInvalid) as exc:
        save(PLACEMENTS, "chengdexian", values, world)
    assert exc.value.errors == [
        ("", f"已存在相同记录（记录号 {first.pk}）", f"a record with the same key exists (#{first.pk})")
    ]
    same = save(PLACEMENTS, "chengdexian", values, world, upsert=True)
    assert (same.pk, same.outcome) == (first.pk, "unchanged")
    changed = save(PLACEMENTS, "chengdexian", {**values, "monthly_wage_fen": 400000}, world, upsert=True)
    assert (changed.pk, changed.outcome, Placement.objects.get().monthly_wage_fen) == (
        first.pk,
        "updated",
        400000,
    )


def test_scope_decides_who_writes_which_side(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    values = placement(pair, registry_people.poor[0], dt.date(2019, 3, 1))
    for username in ("dongli", "viewer", "assessor"):
        with pytest.raises(ScopeError):
            save(PLACEMENTS, username, values, world)
    with pytest.raises(services.RecordInvalid) as refused:  # 围场 cannot even see this pairing
        save(PLACEMENTS, "weichang", values, world)
    assert refused.value.errors == [("pairing", f"结对关系「{pair.pk}」不存在或无权访问", "unknown pairing")]
    # the helped side writes placements, the helper side fiscal funds; not the other way round
    with pytest.raises(ScopeError):
        save(FUNDS, "chengdexian", fund(pair, "TJ-1", "county", 100), world)
    with pytest.raises(services.RecordInvalid) as exc:
        save(PLACEMENTS, "chengdexian", {**values, "region_code": "130881"}, world)
    assert exc.value.errors[0][1] == "行政区划不在该结对关系的受帮扶方范围内"
    assert Placement.objects.count() == FiscalFund.objects.count() == 0
    assert save(FUNDS, "dongli", fund(pair, "TJ-1", "county", 100), world).region_code == full_code("120110")


# --- confirmation, periods, locking ------------------------------------------------------------


def test_the_helped_side_confirms_arrival(world: World) -> None:
    pair = world.pairing("120110", "130821")
    rec = save(FUNDS, "dongli", fund(pair, "TJ-2", "county", 5_000_000_00), world)
    assert rec.confirmation == "pending"
    ltype = types.get(FUNDS)
    with pytest.raises(ScopeError):
        services.confirm_record(ltype, actor=world.user("tianjin"), record=rec, confirmed=True)
    with pytest.raises(services.RecordInvalid):
        services.confirm_record(ltype, actor=world.user("chengdexian"), record=rec, confirmed=False, note=" ")
    services.confirm_record(ltype, actor=world.user("chengdexian"), record=rec, confirmed=True, note="已到账")
    rec.refresh_from_db()
    assert (rec.confirmation, rec.confirmed_by.username, rec.confirm_note) == (
        "confirmed",
        "chengdexian",
        "已到账",
    )
    # a change by the helper side asks for confirmation again
    again = save(
        FUNDS, "dongli", {**fund(pair, "TJ-2", "county", 5_000_000_00), "spent_fen": 100}, world, record=rec
    )
    assert (again.outcome, again.confirmation) == ("updated", "pending")
    att = services.add_attachment(
        ltype,
        actor=world.user("chengdexian"),
        record=rec,
        kind="到账凭证",
        upload=SimpleUploadedFile("凭证.pdf", b"%PDF-1.4 receipt"),
    )
    assert (att.kind, att.title, len(att.sha256)) == ("receipt", "凭证.pdf", 64)
    with pytest.raises(services.RecordInvalid):
        services.add_attachment(
            ltype,
            actor=world.user("chengdexian"),
            record=rec,
            kind="receipt",
            upload=SimpleUploadedFile("x.exe", b"MZ"),
        )
    assert Attachment.objects.count() == 1


def test_approval_steps_lock_the_period_and_unlock_on_request(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    values = placement(pair, registry_people.poor[0], dt.date(2019, 2, 1))
    rec = save(PLACEMENTS, "chengdexian", values, world)
    assert rec.period_no == 1
    period = periods.get_period(PLACEMENTS, pair, "helped", 2019, 1)
    clerk, coordinator, helper = world.user("chengdexian"), world.user("chengde"), world.user("dongli")
    assert not periods.may_advance(coordinator, period)  # the county submits first
    assert not periods.may_advance(helper, period)
    periods.advance_period(period, actor=clerk, note="一季度")
    assert (period.state, period.step, period.locked) == ("submitted", 1, False)
    assert not periods.may_advance(clerk, period)
    periods.advance_period(period, actor=coordinator)
    assert (period.state, period.step, period.locked) == ("approved", 2, True)
    with pytest.raises(services.RecordInvalid) as exc:
        save(PLACEMENTS, "chengdexian", placement(pair, registry_people.poor[1], dt.date(2019, 3, 1)), world)
    assert exc.value.errors == [("", "该期间已审核锁定", "the period is approved and locked")]
    with pytest.raises(services.RecordInvalid):
        services.delete_record(types.get(PLACEMENTS), actor=clerk, record=rec)
    with pytest.raises(services.RecordInvalid):
        services.add_attachment(
            types.get(PLACEMENTS),
            actor=clerk,
            record=rec,
            kind="other",
            upload=SimpleUploadedFile("a.pdf", b"%PDF"),
        )
    scan = services.add_period_attachment(
        period, actor=coordinator, kind="stamped_scan", upload=SimpleUploadedFile("盖章.pdf", b"%PDF-1.4")
    )
    assert (scan.period_id, scan.kind, scan.record_id) == (period.pk, "stamped_scan", None)
    with pytest.raises(ScopeError):
        services.add_period_attachment(
            period, actor=helper, kind="stamped_scan", upload=SimpleUploadedFile("x.pdf", b"%PDF")
        )
    assert not periods.may_grant_unlock(coordinator, period)  # nobody has asked yet
    # another quarter stays open
    assert (
        save(
            PLACEMENTS, "chengdexian", placement(pair, registry_people.poor[1], dt.date(2019, 5, 1)), world
        ).period_no
        == 2
    )
    assert not periods.may_grant_unlock(clerk, period)
    periods.request_unlock(period, actor=clerk, reason="补录一名务工人员")
    periods.grant_unlock(period, actor=coordinator, note="同意")
    assert (period.state, period.step, period.locked, period.unlock_requested) == ("open", 0, False, False)
    assert (
        save(
            PLACEMENTS, "chengdexian", placement(pair, registry_people.poor[2], dt.date(2019, 3, 1)), world
        ).outcome
        == "created"
    )
    assert list(PeriodAction.objects.filter(period=period).values_list("action", "role")) == [
        ("submit", "county_clerk"),
        ("approve", "helped_coordinator"),
        ("unlock_request", "county_clerk"),
        ("unlock", "helped_coordinator"),
    ]
    assert AuditEntry.objects.filter(object_type="period", action__startswith="period.").count() == 4


def test_a_municipality_without_a_prefecture_office_is_approved_by_its_province(world: World) -> None:
    pair = world.pairing("120110", "130821")
    period = periods.get_period(FUNDS, pair, "helper", 2019)
    periods.advance_period(period, actor=world.user("dongli"))
    periods.advance_period(period, actor=world.user("tianjin"))  # reviews (city level) as the province
    periods.advance_period(period, actor=world.user("national"))  # four eyes: another official approves
    assert period.locked
    with pytest.raises(services.RecordInvalid):
        save(FUNDS, "dongli", fund(pair, "TJ-9", "county", 1), world)


# --- import -------------------------------------------------------------------------------------


def funds_sheet(path: Path, pairing: Pairing) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["2019年东西部扶贫协作财政援助资金到位情况表"])
    ws.append(["填报单位：东丽区", None, None, None, None, None, "单位：万元"])
    ws.append(
        [
            "序号",
            "结对关系",
            "归属年度",
            "资金批次号",
            "资金来源层级",
            "受援地区",
            "拨付金额（万元）",
            "拨付日期",
            "到位金额（万元）",
            "到位日期",
            "到账凭证号",
            "备注",
        ]
    )
    ws.append(
        [
            1,
            pairing.pk,
            2019,
            "DL-2019-01",
            "区级",
            "130821",
            "1,200.5",
            "2019.3.1",
            "1,200.5",
            "2019.4.2",
            "R1",
            None,
        ]
    )
    ws.append(
        [
            2,
            pairing.pk,
            2019,
            "DL-2019-02",
            "市级财政",
            "130821",
            300,
            "2019-06-01",
            300,
            "2019年6月30日",
            "R2",
            None,
        ]
    )
    ws.append(
        [
            3,
            pairing.pk,
            2019,
            "DL-2019-03",
            "乡级",
            "130821",
            10,
            "2019-07-01",
            10,
            "2019-07-01",
            "R3",
            "层级错",
        ]
    )
    ws.append(
        [
            4,
            pairing.pk,
            2019,
            "DL-2019-01",
            "区级",
            "130821",
            "1,200.5",
            "2019.3.1",
            "1,200.5",
            "2019.4.2",
            "R1",
            "重复",
        ]
    )
    ws.append([5, 999999, 2019, "DL-2019-05", "省级", "130821", 1, "2019-07-01", 1, "2019-07-01", "R5", None])
    ws.append(["合计", None, None, None, None, None, 1511.5, None, 1511.5, None, None, None])
    wb.save(path)
    return path


def test_import_counts_add_up_reports_reasons_and_reimports_unchanged(world: World, tmp_path: Path) -> None:
    pair = world.pairing("120110", "130821")
    sheet = funds_sheet(tmp_path / "资金.xlsx", pair)
    errors = tmp_path / "errors.xlsx"
    result = import_ledger(FUNDS, sheet, actor=world.user("dongli"), errors_out=errors)
    assert result.counts() == {
        "read": 5,
        "accepted": 2,
        "rejected": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.notes == [
        "资金.xlsx!Sheet：「拨付金额（万元）」按万元读取（来自表头）",
        "资金.xlsx!Sheet：「到位金额（万元）」按万元读取（来自表头）",
    ]
    got = {f.transfer_number: (f.arrived_fen, f.source_level, f.arrived_on) for f in FiscalFund.objects.all()}
    assert got == {
        "DL-2019-01": (12_005_000_00, "county", dt.date(2019, 4, 2)),
        "DL-2019-02": (3_000_000_00, "prefecture", dt.date(2019, 6, 30)),
    }
    ws = load_workbook(errors).active
    header = [c.value for c in ws[1]]
    rows = {
        r[header.index("原行号")]: r[header.index("错误原因")]
        for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert rows[6].startswith("资金来源层级：「乡级」不是有效的资金来源层级")
    assert rows[7] == "与第 4 行重复"
    assert len(rows) == 3
    assert rows[8] == "结对关系：结对关系「999999」不存在或无权访问"
    again = import_ledger(FUNDS, sheet, actor=world.user("dongli"))
    assert again.counts() == {
        "read": 5,
        "accepted": 2,
        "rejected": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
    }
    dry = import_ledger(FUNDS, sheet, actor=world.user("tianjin"), dry_run=True)
    assert (dry.accepted, FiscalFund.objects.count()) == (2, 2)


def test_import_rows_outside_the_users_scope_are_rejected(world: World, tmp_path: Path) -> None:
    sheet = funds_sheet(tmp_path / "f.xlsx", world.pairing("120110", "130821"))
    result = import_ledger(FUNDS, sheet, actor=world.user("ningbo"))
    assert (result.accepted, result.rejected, FiscalFund.objects.count()) == (0, 5, 0)


def test_cli_import_and_template(world: World, tmp_path: Path) -> None:
    sheet = funds_sheet(tmp_path / "f.xlsx", world.pairing("120110", "130821"))
    out = StringIO()
    call_command("import_ledger", FUNDS, str(sheet), "--json", "--user", "dongli", stdout=out)
    assert json.loads(out.getvalue()) == {
        "read": 5,
        "accepted": 2,
        "rejected": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    call_command("template_ledger", PLACEMENTS, "--out", str(tmp_path / "t.xlsx"), stdout=StringIO())
    headers = [c.value for c in load_workbook(tmp_path / "t.xlsx").active[1]]
    assert headers[:4] == ["结对关系", "归属年度", "行政区划代码", "身份证号"]


# --- the pairing roll-up (three levels: province → county → township pairs) ----------------------


def test_rollup_sums_sub_pairings_split_by_source_level_against_targets(
    world: World, registry_people: People
) -> None:
    provincial = world.provincial
    dongli = world.pairing("120110", "130821")
    xiqing = world.pairing("120111", "130881")
    town = Pairing.objects.get(sides__side="helper", sides__region_code=full_code(TOWNSHIP_PAIR[0]))
    assert town.parent_id == dongli.pk and dongli.parent_id == provincial.pk
    system: Any = SYSTEM
    put = lambda key, values: services.save_record(types.get(key), actor=system, values=values, via="demo")  # noqa: E731
    put(FUNDS, {**fund(provincial, "P-1", "province", 50_000_000_00), "target_region_code": "1308"})
    put(FUNDS, fund(dongli, "D-1", "county", 8_000_000_00))
    put(FUNDS, fund(dongli, "D-2", "prefecture", 2_000_000_00))
    put(FUNDS, {**fund(town, "T-1", "county", 500_000_00), "target_region_code": TOWNSHIP_PAIR[1]})
    put(FUNDS, {**fund(xiqing, "X-1", "county", 7_000_000_00), "target_region_code": "130881"})
    put(
        FUNDS,
        {**fund(dongli, "D-2018", "county", 1_000_000_00, year=2018), "arrived_on": dt.date(2018, 5, 1)},
    )
    put(
        "agreement_targets",
        {
            "pairing": provincial.pk,
            "year": 2019,
            "target_item": "fiscal_funds",
            "target_fen": 60_000_000_00,
            "signed_on": dt.date(2019, 2, 1),
        },
    )
    put(
        "agreement_targets",
        {
            "pairing": dongli.pk,
            "year": 2019,
            "target_item": "fiscal_funds",
            "target_fen": 10_000_000_00,
            "signed_on": dt.date(2019, 2, 1),
        },
    )
    for number in registry_people.poor[:3]:
        put(PLACEMENTS, placement(dongli, number, dt.date(2019, 3, 1)))
    put(PLACEMENTS, placement(dongli, registry_people.poor[0], dt.date(2019, 9, 1)))  # same person again
    put(PLACEMENTS, placement(dongli, registry_people.unknown[0], dt.date(2019, 3, 1)))  # fails the check

    r = rollup(provincial, 2019)
    line = next(x for x in r.lines if x.ledger.key == FUNDS and x.metric.key == "arrived")
    assert line.total == 50_000_000_00 + 8_000_000_00 + 2_000_000_00 + 500_000_00 + 7_000_000_00
    assert line.own == 50_000_000_00
    assert [(c.pk, v) for c, v in line.children] == sorted(
        [(dongli.pk, 10_500_000_00), (xiqing.pk, 7_000_000_00)],
        key=lambda cv: Pairing.objects.get(pk=cv[0]).name,
    )
    assert line.split == {"county": 15_500_000_00, "prefecture": 2_000_000_00, "province": 50_000_000_00}
    assert line.target == 70_000_000_00
    people = next(x for x in r.lines if x.ledger.key == PLACEMENTS and x.metric.target == "placements")
    assert (people.total, people.own) == (3, 0)
    county = rollup(dongli, 2019)
    assert (
        next(x for x in county.lines if x.ledger.key == FUNDS and x.metric.key == "arrived").total
        == 10_500_000_00
    )
    assert (
        next(x for x in county.lines if x.ledger.key == FUNDS and x.metric.key == "arrived").target
        == 10_000_000_00
    )


# --- pages and API ------------------------------------------------------------------------------


def test_pages_list_detail_form_and_rollup(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    rec = save(
        PLACEMENTS, "chengdexian", placement(pair, registry_people.unknown[0], dt.date(2019, 3, 1)), world
    )
    clerk = Client()
    clerk.force_login(world.user("chengdexian"))
    page = clerk.get(f"/ledgers/{PLACEMENTS}/?year=2019").content.decode()
    assert f'data-record="{rec.pk}"' in page and "未通过核验" in page and 'data-total="1"' in page
    detail = clerk.get(f"/ledgers/{PLACEMENTS}/{rec.pk}/").content.decode()
    assert registry_people.unknown[0][:6] + "**********" in detail
    helper = Client()
    helper.force_login(world.user("dongli"))
    detail = helper.get(f"/ledgers/{PLACEMENTS}/{rec.pk}/").content.decode()
    assert "未通过核验" in detail and registry_people.unknown[0][:6] + "**********" not in detail
    response = clerk.post(
        f"/ledgers/{PLACEMENTS}/new/",
        {
            "pairing": pair.pk,
            "year": 2019,
            "id_number": registry_people.poor[3],
            "employer": "天津某公司",
            "workplace_region": "120110",
            "start": "2019-04-01",
            "arrangement": "organised",
            "monthly_wage_fen": "3500.50",
        },
    )
    assert response.status_code == 302
    new = Placement.objects.exclude(pk=rec.pk).get()
    assert (new.monthly_wage_fen, new.flagged) == (350050, False)
    bad = clerk.post(
        f"/ledgers/{PLACEMENTS}/new/",
        {
            "pairing": pair.pk,
            "year": 2019,
            "id_number": "123",
            "employer": "x",
            "workplace_region": "120110",
            "start": "2019-04-01",
            "arrangement": "organised",
        },
    )
    assert bad.status_code == 200 and "身份证号位数不对" in bad.content.decode()
    roll = clerk.get(f"/pairings/{pair.pk}/rollup/2019/").content.decode()
    assert 'data-metric="placements.帮助建档立卡贫困人口就业"' in roll or "placements." in roll
    assert helper.get(f"/ledgers/periods/?pairing={pair.pk}&year=2019").status_code == 200


def test_api_create_list_and_errors(world: World, registry_people: People) -> None:
    from xiezuo.accounts.tokens import create_token

    pair = world.pairing("120110", "130821")
    clerk = world.user("chengdexian")
    _, token = create_token(actor=clerk, user=clerk, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    c = Client()
    body = {
        "pairing": pair.pk,
        "year": 2019,
        "id_number": registry_people.poor[0],
        "employer": "天津某公司",
        "workplace_region": "120110",
        "start": "2019-03-01",
        "arrangement": "job_fair",
        "monthly_wage_fen": 300000,
    }
    r = c.post(
        f"/api/v1/ledgers/{PLACEMENTS}/records",
        json.dumps(body),
        content_type="application/json",
        headers=auth,
    )
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["monthly_wage_fen"], out["arrangement"], out["employer"], out["flagged"]) == (
        300000,
        "job_fair",
        "天津某公司",
        False,
    )
    assert out["people"][0]["reason"] == "match" and out["people"][0]["id_masked"].endswith(
        registry_people.poor[0][-2:]
    )
    r = c.post(
        f"/api/v1/ledgers/{PLACEMENTS}/records",
        json.dumps({**body, "arrangement": "nope"}),
        content_type="application/json",
        headers=auth,
    )
    assert r.status_code == 400
    assert (
        r.json()["errors"]
        == [
            {"field": "", "message": f"a record with the same key exists (#{out['id']})"},
            {"field": "arrangement", "message": "'nope' is not a valid arrangement"},
        ]
        or {"field": "arrangement", "message": "'nope' is not a valid arrangement"} in r.json()["errors"]
    )
    listing = c.get(f"/api/v1/ledgers/{PLACEMENTS}/records?year=2019", headers=auth).json()
    assert [i["id"] for i in listing["items"]] == [out["id"]]
    dongli = world.user("dongli")
    _, token2 = create_token(actor=dongli, user=dongli, name="t")
    seen = c.get(
        f"/api/v1/ledgers/{PLACEMENTS}/records/{out['id']}", headers={"Authorization": f"Bearer {token2}"}
    ).json()
    assert (seen["people"][0]["id_masked"], seen["people"][0]["reason"]) == (None, "match")


def test_ledgers_both_sides_keep_go_to_the_writers_side_with_their_own_periods(world: World) -> None:
    """Visits are kept by both sides: each side's record lands on its own side and period."""
    pair = world.pairing("120110", "130821")
    visit = {
        "pairing": pair.pk,
        "year": 2019,
        "leader_level": "county_top",
        "purpose": "对接",
        "delegation_size": 5,
    }
    east = save(
        "visits",
        "dongli",
        {
            **visit,
            "direction": "east_to_west",
            "from_region": "120110",
            "to_region": "130821",
            "visited_on": dt.date(2019, 4, 10),
        },
        world,
    )
    west = save(
        "visits",
        "chengdexian",
        {
            **visit,
            "direction": "west_to_east",
            "from_region": "130821",
            "to_region": "120110",
            "visited_on": dt.date(2019, 6, 10),
        },
        world,
    )
    assert (east.side, east.region_code, west.side, west.region_code) == (
        "helper",
        full_code("120110"),
        "helped",
        full_code("130821"),
    )
    helped_period = periods.get_period("visits", pair, "helped", 2019)
    periods.advance_period(helped_period, actor=world.user("chengdexian"))
    periods.advance_period(helped_period, actor=world.user("chengde"))
    periods.advance_period(helped_period, actor=world.user("national"))
    assert helped_period.locked
    with pytest.raises(services.RecordInvalid) as exc:
        save(
            "visits",
            "chengdexian",
            {
                **visit,
                "direction": "west_to_east",
                "from_region": "130821",
                "to_region": "120110",
                "visited_on": dt.date(2019, 7, 1),
            },
            world,
        )
    assert exc.value.errors == [("", "该期间已审核锁定", "the period is approved and locked")]
    # the helper side's period is its own and still open
    assert (
        save(
            "visits",
            "dongli",
            {
                **visit,
                "direction": "east_to_west",
                "from_region": "120110",
                "to_region": "130821",
                "visited_on": dt.date(2019, 7, 1),
            },
            world,
        ).side
        == "helper"
    )


def test_unknown_employers_are_registered_at_the_workplace_when_the_writer_may(
    world: World, registry_people: People
) -> None:
    from xiezuo.pairings.models import Organisation

    pair = world.pairing("120110", "130821")
    values = placement(pair, registry_people.poor[0], dt.date(2019, 3, 1), employer="天津新雇主有限公司")
    save(PLACEMENTS, "national", values, world)
    assert Organisation.objects.get(name="天津新雇主有限公司").region_code == full_code("120110")
    # a county clerk may not register organisations in Tianjin: the employer goes to the clerk's county
    values = placement(pair, registry_people.poor[1], dt.date(2019, 3, 1), employer="天津另一雇主有限公司")
    save(PLACEMENTS, "chengdexian", values, world)
    assert Organisation.objects.get(name="天津另一雇主有限公司").region_code == full_code("130821")


def test_synth_ledgers_writes_import_ready_sheets_same_seed_same_rows(
    world: World, registry_people: People, tmp_path: Path
) -> None:
    pair = world.pairing("120110", "130821")
    args = ["--year", "2019", "--pairing", str(pair.pk), "--scale", "0.1", "--seed", "3"]
    call_command("synth_ledgers", *args, "--out", str(tmp_path / "a"), stdout=StringIO())
    call_command("synth_ledgers", *args, "--out", str(tmp_path / "b"), stdout=StringIO())
    a = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert a == b and a["pairings"] == [pair.pk]
    assert set(a["rows"]) == {t.key for t in types.all_types()}  # every ledger has rows
    assert (a["rows"]["placements"], a["planted_bad_claims"]["placements"]) == (11, 3)
    for key, n in a["rows"].items():
        rows_a = list(load_workbook(tmp_path / "a" / f"{key}.xlsx").active.iter_rows(values_only=True))
        rows_b = list(load_workbook(tmp_path / "b" / f"{key}.xlsx").active.iter_rows(values_only=True))
        assert rows_a == rows_b and len(rows_a) == n + 1, key
    # the placements sheet imports: every row is read, and exactly the planted claims fail the check
    result = import_ledger(PLACEMENTS, tmp_path / "a" / "placements.xlsx", actor=world.user("chengdexian"))
    assert result.counts() == {
        "read": 11,
        "accepted": 11,
        "rejected": 0,
        "created": 11,
        "updated": 0,
        "unchanged": 0,
    }
    assert Placement.objects.filter(flagged=True).count() == 3
    reasons = set(PersonCheck.objects.filter(ledger=PLACEMENTS, ok=False).values_list("reason", flat=True))
    assert reasons == {"not_verified"}
