"""Importing the monitoring sheet (监测对象帮扶措施, issue #3): help measures with dates and the
removal of risks for households of the registry, over a messy sheet, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import doctest
import json
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command

from tests.ledgers_world import People
from tests.world import World
from xiezuo.core.models import AuditEntry
from xiezuo.registry import monitoring_import
from xiezuo.registry.importing import ImportRefused
from xiezuo.registry.models import HelpMeasure, Household, Monitoring
from xiezuo.registry.monitoring_columns import MONITORING
from xiezuo.registry.monitoring_import import import_monitoring, split_risks

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "户编码",  # alias of 户编号
    "监测对象类型",
    "识别监测时间",  # alias of 纳入监测日期
    "主要风险",  # alias of 风险类型
    "帮扶措施",  # alias of 帮扶措施类别
    "措施开始日期",
    "措施结束日期",
    "风险消除方式",
    "风险消除日期",
    "备注",
]

# Sheet row → cells from 户编码 to 风险消除日期 (序号 and 备注 are added).
ROWS: dict[int, list[Any]] = {
    # good: a new monitoring of T-POOR-0 (label alias 边缘户, dates as clerks write them) …
    4: ["T-POOR-0", "边缘户", "2021.3.5", "因病、因残", "产业帮扶", "2021年4月1日", "2021.12.31", None, None],
    # … and a second measure of it (monitoring fields repeated, written differently)
    5: ["T-POOR-0", "边缘易致贫户", "2021年3月5日", "因病，因残", "就业", "2021.5.1", "", "", ""],
    6: ["T-POOR-0", "marginal", "2021-03-05", "因病、因残", "产业", "2021.4.1", "2022.1.31", None, None],
    # good: T-MON's existing monitoring gets its risks and its removal
    7: [
        "T-MON",
        "脱贫不稳定户",
        "2021-03-01",
        "务工就业不稳",
        "公益性岗位",
        "2021.6.1",
        "2022.6.30",
        "帮扶消除",
        "2022年7月15日",
    ],
    8: ["T-POOR-1", "突发严重困难户", "2022.2.10", "因灾", "住房安全", "2022.3.1", None, "自然消除", None],
    9: ["T-POOR-1", "突发严重困难户", "2022.2.10", "因灾", "住房安全", "2022.3.1", None, None, "2022.9.1"],
    10: ["T-POOR-2", "边缘户", "2022.1.1", "缺劳动力", "健康", "2022.3.1", "2022.2.1", None, None],
    11: ["T-POOR-2", "边缘户", "2022.1.1", "缺劳动力", "金融", "2021.12.1", None, None, None],
    12: ["T-POOR-3", "边缘户", "2022.1.1", "因学", "义务教育", "2022.3.1", None, "帮扶消除", "2021.6.1"],
    13: ["T-POOR-3", "边缘户", "2022.1.1", "因学", "其他教育", "2099年1月1日", None, None, None],
    14: ["NOPE-1", "边缘户", "2022.1.1", "因病", "产业", "2022.3.1", None, None, None],
    15: ["T-OUT", "边缘户", "2022.1.1", "因病", "产业", "2022.3.1", None, None, None],
    16: ["T-POOR-4", "边缘户", "2022.4.1", "因病、天灾", "产业", "2022.5.1", None, None, None],
    17: ["T-POOR-4", "边缘户", "2022.4.1", "因病", "捐款", "2022.5.1", None, None, None],
    # row 18: 合计
    19: ["T-EXIT", None, None, None, "就业", "2022.1.1", None, None, None],
    # good: no type and date → T-MON's only monitoring
    20: ["T-MON", None, None, None, "产业", "2021.4.1", None, None, None],
    # good: real date cells, risks separated by ";"
    21: [
        "T-POOR-2",
        "边缘户",
        dt.datetime(2022, 1, 1),
        "因病;缺劳力",
        "健康帮扶",
        dt.date(2022, 3, 1),
        dt.date(2022, 8, 31),
        None,
        None,
    ],
    22: ["T-POOR-0", "边缘户", "2021.3.5", "因学", "金融", "2021.7.1", None, None, None],
}
ACCEPTED = {4, 5, 7, 20, 21}

# Sheet row → 错误原因 of every rejected row.
REJECTED = {
    6: "与第 4 行重复",
    8: "风险消除日期：填写了风险消除方式，请同时填写风险消除日期",
    9: "风险消除方式：填写了风险消除日期，请同时填写风险消除方式",
    10: "措施结束日期：早于措施开始日期",
    11: "措施开始日期：早于纳入监测日期",
    12: "风险消除日期：早于纳入监测日期",
    13: "措施开始日期：不能晚于今天",
    14: "户编码：户编号不存在或不在您的管辖范围内",
    15: "户编码：户编号不存在或不在您的管辖范围内",
    16: "主要风险：「天灾」不是有效的风险类型，可填：因病、因残、因学、因灾、因意外事故、因产业项目失败、"
    "因务工就业不稳、缺劳力、住房出现安全问题、饮水安全问题、其他（多个用“、”分隔）",
    17: "帮扶措施：「捐款」不是有效的帮扶措施类别，可填：",  # then the labels and codes
    19: "识别监测时间：该户没有对应的监测记录，请填写监测对象类型和纳入监测日期",
    22: "主要风险：与第 4 行的风险类型不一致",
}
ERROR_COLUMN = {6: "", 14: "户编码", 16: "主要风险", 17: "帮扶措施", 19: "识别监测时间", 22: "主要风险"}


def write_sheet(path: Path, rows: dict[int, list[Any]], *, total_at: int | None = 18) -> Path:
    """A sheet as an office keeps it: a merged title, a 填报单位 row, the header on row 3, a 合计
    row and a footer; data rows on the sheet rows given."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "监测户帮扶"
    sheet.append(["承德县防返贫监测对象帮扶措施台账"])
    sheet.merge_cells("A1:K1")
    sheet.append(["填报单位：承德县乡村振兴局", None, None, None, None, None, None, "单位：户"])
    sheet.append(HEADER)
    last = max(rows)
    for number in range(4, last + 1):
        if number in rows:
            sheet.append([number - 3, *rows[number], None])
        elif number == total_at:
            sheet.append(["合计", None, None, None, None, None, None, None, None, None, None])
        else:
            sheet.append([])
    sheet.append([])
    sheet.append(["填报人：张三", None, None, None, None, "填报日期：2023年1月5日"])
    workbook.save(path)
    return path


def errors_by_row(path: Path) -> dict[int, tuple[str, str]]:
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    at = {name: head.index(name) for name in ("原行号", "错误列", "错误原因")}
    assert head[: len(HEADER)] == HEADER  # the original columns come first
    return {int(r[at["原行号"]]): (r[at["错误列"]] or "", r[at["错误原因"]]) for r in rows[1:]}  # type: ignore[arg-type]


def state() -> dict[str, Any]:
    return {
        "monitorings": sorted(
            Monitoring.objects.values_list(
                "household__number", "kind", "identified_on", "removed_on", "removal"
            )
        ),
        "risks": sorted(
            (n, tuple(r)) for n, r in Monitoring.objects.values_list("household__number", "risks")
        ),
        "measures": sorted(
            HelpMeasure.objects.values_list(
                "monitoring__household__number", "monitoring__kind", "channel", "started_on", "ended_on"
            )
        ),
        "monitored": sorted(Household.objects.filter(monitored=True).values_list("number", flat=True)),
    }


@pytest.fixture
def people(registry_people: People) -> People:
    # T-MON's monitoring is open, so the household is monitored (as the registry import leaves it).
    household = Household.objects.get(number="T-MON")
    household.monitored = True
    household.save()
    return registry_people


def test_messy_sheet_lands_good_rows_and_rejects_each_rule(
    world: World, people: People, tmp_path: Path
) -> None:
    sheet = write_sheet(tmp_path / "监测.xlsx", ROWS)
    errors = tmp_path / "errors.xlsx"
    result = import_monitoring(sheet, actor=world.user("chengdexian"), errors_out=errors)

    assert result.counts() == {
        "read": len(ROWS),
        "accepted": len(ACCEPTED),
        "rejected": len(REJECTED),
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    assert result.read == result.accepted + result.rejected
    assert (result.monitorings_created, result.monitorings_updated) == (2, 1)
    assert result.errors_file == str(errors)

    found = errors_by_row(errors)
    assert set(found) == set(REJECTED)
    for number, reason in REJECTED.items():
        column, text = found[number]
        if number == 17:
            assert text.startswith(reason) and "产业、就业" in text, text
        else:
            assert text == reason, (number, text)
        if number in ERROR_COLUMN:
            assert column == ERROR_COLUMN[number], (number, column)
        else:
            assert column == reason.split("：")[0], (number, column)

    assert state() == {
        "monitorings": [
            ("T-MON", "unstable", dt.date(2021, 3, 1), dt.date(2022, 7, 15), "by_help"),
            ("T-POOR-0", "marginal", dt.date(2021, 3, 5), None, ""),
            ("T-POOR-2", "marginal", dt.date(2022, 1, 1), None, ""),
        ],
        "risks": [
            ("T-MON", ("unstable_work",)),
            ("T-POOR-0", ("illness", "disability")),
            ("T-POOR-2", ("illness", "labour_shortage")),
        ],
        "measures": [
            ("T-MON", "unstable", "industry", dt.date(2021, 4, 1), None),
            ("T-MON", "unstable", "public_job", dt.date(2021, 6, 1), dt.date(2022, 6, 30)),
            ("T-POOR-0", "marginal", "employment", dt.date(2021, 5, 1), None),
            ("T-POOR-0", "marginal", "industry", dt.date(2021, 4, 1), dt.date(2021, 12, 31)),
            ("T-POOR-2", "marginal", "health", dt.date(2022, 3, 1), dt.date(2022, 8, 31)),
        ],
        # T-MON's only monitoring was removed; T-POOR-0 and T-POOR-2 are now monitored.
        "monitored": ["T-POOR-0", "T-POOR-2"],
    }
    # T-OUT (平泉市) is outside 承德县 and untouched.
    assert not Monitoring.objects.filter(household__number="T-OUT").exists()

    entry = AuditEntry.objects.get(object_type="registry_monitoring", action="import")
    assert entry.actor is not None and entry.actor.username == "chengdexian"
    assert entry.object_repr == "监测.xlsx"
    assert {k: entry.batch[k] for k in result.counts()} == result.counts()
    assert entry.batch["monitorings_created"] == 2


def test_reimport_changes_nothing(world: World, people: People, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "监测.xlsx", ROWS)
    clerk = world.user("chengdexian")
    import_monitoring(sheet, actor=clerk)
    before = state()
    again = import_monitoring(sheet, actor=clerk)
    assert again.counts() == {
        "read": len(ROWS),
        "accepted": len(ACCEPTED),
        "rejected": len(REJECTED),
        "created": 0,
        "updated": 0,
        "unchanged": len(ACCEPTED),
    }
    assert (again.monitorings_created, again.monitorings_updated, again.households_flagged) == (0, 0, 0)
    assert state() == before
    assert AuditEntry.objects.filter(object_type="registry_monitoring").count() == 2


def test_removal_clears_monitored_and_end_dates_update(world: World, people: People, tmp_path: Path) -> None:
    clerk = world.user("chengdexian")
    import_monitoring(write_sheet(tmp_path / "a.xlsx", {4: ROWS[4], 5: ROWS[5]}, total_at=None), actor=clerk)
    assert Household.objects.get(number="T-POOR-0").monitored is True

    later = {
        4: [
            "T-POOR-0",
            "边缘户",
            "2021.3.5",
            "因病、因残",
            "产业",
            "2021.4.1",
            "2021.12.31",
            "帮扶消除",
            "2022.3.1",
        ],
        5: ["T-POOR-0", "边缘户", "2021.3.5", None, "就业", "2021.5.1", "2021.11.30", None, None],
    }
    result = import_monitoring(write_sheet(tmp_path / "b.xlsx", later, total_at=None), actor=clerk)
    assert result.counts() == {
        "read": 2,
        "accepted": 2,
        "rejected": 0,
        "created": 0,
        "updated": 2,
        "unchanged": 0,
    }
    assert result.households_flagged == 1
    mon = Monitoring.objects.get(household__number="T-POOR-0")
    assert (mon.removal, mon.removed_on, mon.risks) == (
        "by_help",
        dt.date(2022, 3, 1),
        ["illness", "disability"],
    )
    assert dict(mon.measures.values_list("channel", "ended_on")) == {
        "industry": dt.date(2021, 12, 31),
        "employment": dt.date(2021, 11, 30),
    }
    assert Household.objects.get(number="T-POOR-0").monitored is False

    # A new monitoring of the same household, still open, makes it monitored again.
    anew = {
        4: [
            "T-POOR-0",
            "突发严重困难户",
            "2022.10.8",
            "因意外事故",
            "社会帮扶",
            "2022.10.20",
            None,
            None,
            None,
        ]
    }
    result = import_monitoring(write_sheet(tmp_path / "c.xlsx", anew, total_at=None), actor=clerk)
    assert (result.created, result.monitorings_created, result.households_flagged) == (1, 1, 1)
    assert Household.objects.get(number="T-POOR-0").monitored is True


def test_without_type_and_date_a_household_with_several_monitorings_is_ambiguous(
    world: World, people: People, tmp_path: Path
) -> None:
    Monitoring.objects.create(
        household=Household.objects.get(number="T-MON"), kind="sudden", identified_on=dt.date(2022, 5, 1)
    )
    rows = {
        4: ["T-MON", None, None, None, "产业", "2022.6.1", None, None, None],
        5: ["T-MON", "突发严重困难户", None, None, "就业", "2022.6.1", None, None, None],
    }
    errors = tmp_path / "errors.csv"
    result = import_monitoring(
        write_sheet(tmp_path / "a.xlsx", rows, total_at=None),
        actor=world.user("chengdexian"),
        errors_out=errors,
    )
    assert (result.accepted, result.rejected, result.created) == (1, 1, 1)
    found = errors_by_csv(errors)
    assert found == {4: "识别监测时间：该户有多条监测记录，请填写监测对象类型和纳入监测日期以区分"}
    measure = HelpMeasure.objects.get(monitoring__household__number="T-MON", channel="employment")
    assert measure.monitoring.kind == "sudden"


def errors_by_csv(path: Path) -> dict[int, str]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {int(r["原行号"]): r["错误原因"] for r in csv.DictReader(fh)}


def test_dry_run_writes_nothing(world: World, people: People, tmp_path: Path) -> None:
    before = state()
    result = import_monitoring(
        write_sheet(tmp_path / "a.xlsx", ROWS), actor=world.user("chengdexian"), dry_run=True
    )
    assert result.dry_run
    assert (result.read, result.accepted, result.rejected, result.created) == (
        len(ROWS),
        len(ACCEPTED),
        len(REJECTED),
        5,
    )
    assert state() == before
    assert not AuditEntry.objects.filter(object_type="registry_monitoring").exists()


def test_scope_and_refusals(world: World, people: People, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "a.xlsx", {4: ROWS[4], 5: ROWS[15]}, total_at=None)
    # A helper-side coordinator may not change the registry at all.
    with pytest.raises(ImportRefused) as refused:
        import_monitoring(sheet, actor=world.user("dongli"))
    assert refused.value.zh == "您没有导入防返贫监测数据的权限"
    # 承德市's coordinator reaches 平泉市 (T-OUT) too; 围场县's clerk reaches neither.
    result = import_monitoring(sheet, actor=world.user("chengde"), dry_run=True)
    assert (result.accepted, result.rejected) == (2, 0)
    result = import_monitoring(sheet, actor=world.user("weichang"), dry_run=True)
    assert (result.accepted, result.rejected) == (0, 2)
    # A sheet without the header is refused, nothing read.
    empty = tmp_path / "empty.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "金额"])  # type: ignore[union-attr]
    workbook.save(empty)
    with pytest.raises(ImportRefused) as refused:
        import_monitoring(empty, actor=world.user("chengdexian"))
    assert refused.value.zh.startswith("没有读到数据：")


def test_risks_split_on_every_separator(db: Any) -> None:
    assert split_risks("因病、因残，因学,因灾;缺劳动力；饮水不安全") == (
        ["illness", "disability", "schooling", "disaster", "labour_shortage", "drinking_water"],
        [],
    )
    assert split_risks("因意外事故、因意外、别的") == (["accident"], ["别的"])
    assert split_risks(None) == ([], [])
    assert doctest.testmod(monitoring_import).failed == 0


def test_cli_import_and_template(world: World, people: People, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "a.xlsx", ROWS)
    out = StringIO()
    call_command("import_monitoring", str(sheet), "--json", "--user", "chengdexian", "--dry-run", stdout=out)
    assert json.loads(out.getvalue()) == {
        "read": len(ROWS),
        "accepted": len(ACCEPTED),
        "rejected": len(REJECTED),
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    out = StringIO()
    errors = tmp_path / "errors.xlsx"
    call_command(
        "import_monitoring", str(sheet), "--user", "chengdexian", "--errors", str(errors), stdout=out
    )
    assert "读取 18 行：接受 5，拒绝 13" in out.getvalue()
    assert set(errors_by_row(errors)) == set(REJECTED)

    template = tmp_path / "t.xlsx"
    call_command("template_monitoring", "--out", str(template), stdout=StringIO())
    book = openpyxl.load_workbook(template)
    head = [c.value for c in book.worksheets[0][1]]
    assert head == [c.header for c in MONITORING.columns]
    # An empty template reads back as a sheet without data rows.
    with pytest.raises(ImportRefused):
        import_monitoring(template, actor=world.user("chengdexian"))
