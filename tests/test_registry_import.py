"""The registry import over messy real-world sheets (issue: "lands every good row, rejects every bad
one with a clear reason, loses none, and re-running it changes nothing"), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db import transaction

from tests.world import World
from xiezuo.core.crypto import get_cipher
from xiezuo.core.models import AuditEntry
from xiezuo.registry import importing
from xiezuo.registry.idnumbers import MESSAGES_ZH
from xiezuo.registry.importing import ImportRefused, import_registry
from xiezuo.registry.models import (
    Dataset,
    Household,
    HouseholdCount,
    HouseholdIncome,
    HouseholdStatus,
    Member,
    Monitoring,
    StagedRow,
)

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "registry"

# Sheet row → (column, reason) of every bad row of messy.xlsx; every other data row must land.
MESSY_REJECTED = {
    13: ("证件号码", "身份证号被 Excel 存成了数字"),
    14: ("证件号码", "校验位错误"),
    15: ("证件号码", "出生日期晚于"),
    17: ("行政区划代码", "「130821999999」不是有效的村或乡镇代码"),
    18: ("脱贫年度", "必须填写脱贫年度"),
    19: ("证件号码", "同一证件号码出现在本文件的其他户中（户编号 H009，第 20 行）"),
    20: ("证件号码", "同一证件号码出现在本文件的其他户中（户编号 H008，第 19 行）"),
    21: ("姓名", "不能为空"),
    22: ("贫困户属性", "「普通户」不是有效的贫困户属性"),
    23: ("人均纯收入", "「-5」不能为负数"),
}
# What the first import of messy.xlsx (or of its .xls twin) into an empty registry reports.
MESSY_FIRST_IMPORT = {"read": 18, "accepted": 8, "rejected": 10, "created": 8, "updated": 0, "unchanged": 0}


def state() -> dict[str, Any]:
    return {
        "households": sorted(
            Household.objects.values_list(
                "number",
                "region_code",
                "attribute",
                "main_cause",
                "status",
                "exit_year",
                "monitored",
                "size",
                "income_per_capita_fen",
            )
        ),
        "members": sorted(
            Member.objects.values_list("id_hmac", "household__number", "relation", "birth_date", "sex")
        ),
        "statuses": sorted(
            HouseholdStatus.objects.values_list("household__number", "status", "start", "end")
        ),
        "monitoring": sorted(Monitoring.objects.values_list("household__number", "kind", "identified_on")),
        "incomes": sorted(
            HouseholdIncome.objects.values_list("household__number", "year", "net_per_capita_fen")
        ),
        "datasets": Dataset.objects.count(),
        "staged": StagedRow.objects.count(),
        "counts": sorted(
            HouseholdCount.objects.values_list("county", "status", "main_cause", "monitored", "n")
        ),
    }


def test_messy_sheet_lands_every_good_row_and_rejects_every_bad_one(world: World, tmp_path: Path) -> None:
    errors = tmp_path / "errors.xlsx"
    result = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"), errors_out=errors)
    assert result.counts() == MESSY_FIRST_IMPORT
    # The data year and as-of date come from the sheet's 数据截止日期 row.
    assert (result.data_year, result.as_of) == (2019, dt.date(2019, 12, 31))
    assert result.notes == ["messy.xlsx!建档立卡花名册：「人均纯收入」按元读取（来自单位行）"]
    # Every rejected row is in the report with its row, column and reason, bad cells red.
    ws = openpyxl.load_workbook(errors).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    at = {h: i for i, h in enumerate(header)}
    got = {r[at["原行号"]]: (r[at["错误列"]], r[at["错误原因"]]) for r in rows[1:]}
    assert set(got) == set(MESSY_REJECTED)
    for row, (column, reason) in MESSY_REJECTED.items():
        assert got[row][0] == column and reason in got[row][1], (row, got[row])
    reds = [c.coordinate for r in ws.iter_rows(min_row=2) for c in r if c.fill.fgColor.rgb.endswith("FFC7CE")]
    assert len(reds) == len(MESSY_REJECTED)  # one bad cell per rejected row
    # What landed: households, members with masked IDs, an old county code mapped to the current one.
    assert sorted(Household.objects.values_list("number", flat=True)) == [
        "H001",
        "H002",
        "H003",
        "H005",
        "H013",
    ]
    h1 = Household.objects.get(number="H001")
    assert (h1.size, h1.status, h1.exit_year, h1.income_per_capita_fen, h1.attribute) == (
        3,
        "exited",
        2018,
        365000,
        "1",
    )
    assert Household.objects.get(number="H005").region_code == 130881100022  # 130823… (平泉县, before 2017)
    assert list(HouseholdStatus.objects.filter(household=h1).values_list("status", "start", "end")) == [
        ("poor", dt.date(2014, 1, 1), dt.date(2018, 12, 1)),
        ("exited", dt.date(2018, 12, 1), None),
    ]
    h2 = Household.objects.get(number="H002")
    assert h2.monitored and list(h2.monitorings.values_list("identified_on", flat=True)) == [
        dt.date(2019, 3, 5)
    ]
    old = Member.objects.get(household__number="H003")  # a 15-digit ID typed as a number, converted
    assert old.id_masked == "130821**********" + get_cipher().decrypt(old.id_cipher)[-2:]
    assert len(get_cipher().decrypt(old.id_cipher)) == 18 and old.birth_date == dt.date(1958, 6, 6)
    with_x = Member.objects.get(household__number="H001", relation="02")
    assert get_cipher().decrypt(with_x.id_cipher).endswith("X")
    assert StagedRow.objects.count() == 0
    entry = AuditEntry.objects.get(object_type="registry_dataset")
    assert entry.batch["accepted"] == 8 and entry.actor_name == "chengde"
    assert "130821" not in str(
        AuditEntry.objects.filter(object_type="household").values_list("batch", flat=True)
    )


def test_an_old_xls_workbook_lands_exactly_as_its_xlsx_twin(world: World, tmp_path: Path) -> None:
    # messy.xls holds messy.xlsx's cells and merged ranges in the BIFF8 format of older Excel.
    with transaction.atomic():
        twin = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
        expected = state()
        transaction.set_rollback(True)
    errors = tmp_path / "errors.csv"
    result = import_registry(FIXTURES / "messy.xls", actor=world.user("chengde"), errors_out=errors)
    assert result.counts() == twin.counts() == MESSY_FIRST_IMPORT
    assert (result.data_year, result.as_of) == (2019, dt.date(2019, 12, 31))
    assert result.notes == ["messy.xls!建档立卡花名册：「人均纯收入」按元读取（来自单位行）"]
    with errors.open(encoding="utf-8-sig", newline="") as f:
        got = {int(r["原行号"]): r["错误列"] for r in csv.DictReader(f)}
    assert got == {row: column for row, (column, _) in MESSY_REJECTED.items()}
    assert state() == expected


def test_reimporting_changes_nothing(world: World) -> None:
    import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
    before = state()
    again = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
    assert again.counts() == {
        "read": 18,
        "accepted": 8,
        "rejected": 10,
        "created": 0,
        "updated": 0,
        "unchanged": 8,
    }
    assert state() == before


def test_a_killed_import_run_again_ends_as_a_clean_run(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with transaction.atomic():
        import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
        clean = state()
        transaction.set_rollback(True)
    monkeypatch.setattr(importing, "MERGE_HOUSEHOLDS", 1)
    real = importing._merge_chunk
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> list[int]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "_merge_chunk", dying)
    with pytest.raises(KeyboardInterrupt):
        import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
    assert Household.objects.count() == 2  # two short transactions had been committed
    monkeypatch.setattr(importing, "_merge_chunk", real)
    rerun = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
    assert (rerun.created, rerun.unchanged) == (3, 5)  # H001 and H002 (5 people) had landed
    assert state() == clean


def test_a_bulk_initial_load_is_one_chunk_and_lands_as_a_chunked_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction.atomic():
        chunked = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
        clean = state()
        transaction.set_rollback(True)
    # Any file counts as big here: indexes dropped and built after, the merge in one chunk.
    monkeypatch.setattr(importing, "DEFER_MIN_HOUSEHOLDS", 0)
    monkeypatch.setattr(importing, "MERGE_HOUSEHOLDS", 1)
    real, deferred = importing._merge_chunk, importing.defer_indexes
    calls = {"chunks": 0, "deferred": 0}

    def counting(*args: Any, **kwargs: Any) -> list[int]:
        calls["chunks"] += 1
        return real(*args, **kwargs)

    def defer() -> None:
        calls["deferred"] += 1
        deferred()

    monkeypatch.setattr(importing, "_merge_chunk", counting)
    monkeypatch.setattr(importing, "defer_indexes", defer)
    bulk = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"))
    assert calls == {"chunks": 1, "deferred": 1}
    assert bulk.counts() == chunked.counts()
    assert (bulk.households_created, bulk.households_updated) == (5, 0)
    assert state() == clean


def test_dry_run_counts_but_writes_nothing(world: World) -> None:
    before = state()
    result = import_registry(FIXTURES / "messy.xlsx", actor=world.user("chengde"), dry_run=True)
    assert result.counts() == {
        "read": 18,
        "accepted": 8,
        "rejected": 10,
        "created": 8,
        "updated": 0,
        "unchanged": 0,
    }
    assert state() == before


def test_places_by_township_and_village_names_in_the_clerks_county(world: World) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_registry(FIXTURES / "names_gbk.csv", actor=world.user("chengdexian"))
    assert "请用 --data-year 和 --as-of" in refused.value.zh
    result = import_registry(
        FIXTURES / "names_gbk.csv",
        actor=world.user("chengdexian"),
        data_year=2019,
        as_of=dt.date(2019, 12, 31),
    )
    assert result.counts() == {
        "read": 5,
        "accepted": 3,
        "rejected": 2,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert dict(Household.objects.values_list("number", "region_code")) == {
        "N001": 130821100013,  # 下板城镇 新兴社区
        "N002": 130821102201,  # 甲山镇 武场村
    }


def test_zip_of_csvs_and_parquet(world: World) -> None:
    kw: dict[str, Any] = {"actor": world.user("chengde"), "data_year": 2019, "as_of": dt.date(2019, 12, 31)}
    assert import_registry(FIXTURES / "bundle.zip", **kw).counts() == {
        "read": 3,
        "accepted": 2,
        "rejected": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert import_registry(FIXTURES / "data.parquet", **kw).counts() == {
        "read": 2,
        "accepted": 2,
        "rejected": 0,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }


def test_out_of_scope_rows_are_rejected_and_helpers_may_not_import(world: World) -> None:
    result = import_registry(FIXTURES / "messy.xlsx", actor=world.user("weichang"))
    assert (result.accepted, result.created) == (0, 0)
    assert Household.objects.count() == 0
    with pytest.raises(ImportRefused):
        import_registry(FIXTURES / "messy.xlsx", actor=world.user("tianjin"))


def test_one_person_one_household_within_a_data_year(world: World, tmp_path: Path) -> None:
    kw: dict[str, Any] = {
        "actor": world.user("chengdexian"),
        "data_year": 2019,
        "as_of": dt.date(2019, 12, 31),
    }
    import_registry(FIXTURES / "names_gbk.csv", **kw)
    rows = list(csv.reader(open(FIXTURES / "names_gbk.csv", encoding="gb18030")))
    moved = tmp_path / "other.csv"
    with moved.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(rows[0])
        w.writerow(["N099", *rows[1][1:]])  # 名称一 again, in another household
    result = import_registry(moved, **kw)
    assert (result.accepted, result.rejected) == (0, 1)
    # Next year the same person in another household is a move, not an error.
    result = import_registry(
        moved, actor=world.user("chengdexian"), data_year=2020, as_of=dt.date(2020, 12, 31)
    )
    assert (result.accepted, result.updated) == (1, 1)
    assert Member.objects.get(household__number="N099").relation == "01"


def test_a_truncated_id_column_is_reported(world: World, tmp_path: Path) -> None:
    path = tmp_path / "truncated.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "户编号",
                "行政区划代码",
                "姓名",
                "证件号码",
                "与户主关系",
                "贫困户属性",
                "主要致贫原因",
                "识别年度",
                "贫困状态",
            ]
        )
        for i in range(12):
            w.writerow(
                [
                    f"T{i:03d}",
                    "130821100201",
                    f"截断{i}",
                    f"1308211970010{i % 10}1000",
                    "户主",
                    "1",
                    "1",
                    "2014",
                    "贫困",
                ]
            )
    result = import_registry(
        path, actor=world.user("chengdexian"), data_year=2019, as_of=dt.date(2019, 12, 31)
    )
    assert result.read == 12 and result.accepted + result.rejected == 12
    assert MESSAGES_ZH["truncated_column"] in result.notes


def test_the_same_person_twice_in_one_household_is_rejected_once(world: World, tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "户编号",
                "行政区划代码",
                "姓名",
                "证件号码",
                "与户主关系",
                "贫困户属性",
                "主要致贫原因",
                "识别年度",
                "贫困状态",
            ]
        )
        w.writerow(["D001", "130821100201", "重复一", "11010519491231002X", "户主", "1", "1", "2014", "贫困"])
        w.writerow(["D001", "130821100201", "重复一", "11010519491231002X", "户主", "1", "1", "2014", "贫困"])
    errors = tmp_path / "errors.csv"
    kw: dict[str, Any] = {
        "actor": world.user("chengdexian"),
        "data_year": 2019,
        "as_of": dt.date(2019, 12, 31),
    }
    result = import_registry(path, errors_out=errors, **kw)
    assert (result.read, result.accepted, result.rejected, result.created) == (2, 1, 1, 1)
    report = errors.read_text(encoding="utf-8-sig")
    assert "同一证件号码在本户中重复出现（第 2 行）" in report and "重复一" in report
    again = import_registry(path, **kw)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_column_masks_match_the_masking_helpers() -> None:
    import polars as pl

    from xiezuo.core.crypto import mask_id, mask_name
    from xiezuo.registry.importing import _masks

    ids = ["513431199001011234", "51343190010112", "1234", "12345678", "123456789", "11010519491231002X"]
    names = ["张三丰", "李四", "王", "欧阳娜娜", " 张三 ", "样例·热合曼", "ab"]
    n = max(len(ids), len(names))
    ids, names = (ids * 2)[:n], (names * 2)[:n]
    got_ids, got_names = _masks(pl.Series(ids), pl.Series(names))
    assert got_ids.to_list() == [mask_id(x) for x in ids]
    assert got_names.to_list() == [mask_name(x) for x in names]


def test_counts_from_the_aggregate_match_counting_households(world: World) -> None:
    from xiezuo.registry.selectors import (
        HouseholdFilters,
        filter_households,
        household_counts,
        household_counts_for,
        households_for,
    )

    user = world.user("chengde")
    import_registry(FIXTURES / "messy.xlsx", actor=user)
    assert Household.objects.exists()

    def agree() -> None:
        county = Household.objects.values_list("region_code", flat=True).first() // 10**6
        for f in (
            HouseholdFilters(),
            HouseholdFilters(region=(county * 10**6, (county + 1) * 10**6)),
            HouseholdFilters(region=(county // 100 * 10**8, (county // 100 + 1) * 10**8), status="poor"),
            HouseholdFilters(main_cause="1", monitored=True),
            HouseholdFilters(monitored=False),
            HouseholdFilters(region=(130821100000, 130821101000)),  # a township: counted directly
        ):
            direct = household_counts(filter_households(households_for(user), f))
            assert household_counts_for(user, f) == direct, f
            assert household_counts_for(user, f)[0] == sum(direct[1].values())

    agree()
    # A household changed one at a time through the ORM keeps the aggregate too.
    h = Household.objects.order_by("pk").first()
    assert h is not None
    h.status, h.monitored = ("exited" if h.status == "poor" else "poor"), not h.monitored
    h.save()
    agree()
    h.members.all().delete()
    h.statuses.all().delete()
    h.delete()
    agree()


def test_error_report_of_a_plain_csv_picks_rows_by_number_as_the_full_reread_does(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.make_sheets import bad_checksum, make_id

    path = tmp_path / "plain.csv"
    header = ["户编号", "行政区划代码", "姓名", "证件号码", "与户主关系", "贫困户属性", "主要致贫原因"]
    header += ["识别年度", "贫困状态", "备注"]
    v = "130821100201"
    moved = make_id("19800505", 5, "130821")
    rows = [
        ["E001", v, "行二", make_id("19700101", 1, "130821"), "户主", "1", "1", "2014", "贫困", ""],  # 2 ok
        [
            "E001",
            v,
            "行三",
            bad_checksum(make_id("19710101", 2, "130821")),
            "配偶",
            "1",
            "1",
            "2014",
            "贫困",
            "",
        ],
        ["合计", "", "", "", "", "", "", "", "", ""],  # row 4: skipped, still counted
        ["E002", v, "行五", moved, "户主", "1", "1", "2014", "贫困", "第一行\n第二行"],  # 5: dup of 7
        [
            "E003",
            "999999999999",
            "行六",
            make_id("19820101", 6, "130821"),
            "户主",
            "1",
            "1",
            "2014",
            "贫困",
            "",
        ],
        ["E004", v, "行七", moved, "户主", "1", "1", "2014", "贫困", ""],  # 7: same person, other household
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    kw: dict[str, Any] = {
        "actor": world.user("chengdexian"),
        "data_year": 2019,
        "as_of": dt.date(2019, 12, 31),
    }

    def report(name: str) -> list[dict[str, str]]:
        errors = tmp_path / name
        with transaction.atomic():
            result = import_registry(path, errors_out=errors, dry_run=True, **kw)
            transaction.set_rollback(True)
        assert (result.read, result.accepted, result.rejected) == (5, 1, 4)
        with errors.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    fast = report("fast.csv")
    assert [(r["原行号"], r["姓名"], r["错误列"]) for r in fast] == [
        ("3", "行三", "证件号码"),
        ("5", "行五", "证件号码"),
        ("6", "行六", "行政区划代码"),
        ("7", "行七", "证件号码"),
    ]
    assert fast[1]["备注"] == "第一行\n第二行"  # a quoted line break: rows are records, not lines
    calls = {"n": 0}

    def not_plain(*args: Any) -> None:
        calls["n"] += 1
        return None

    monkeypatch.setattr(importing, "plain_rows", not_plain)
    assert report("reread.csv") == fast and calls["n"] == 1
