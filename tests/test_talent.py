"""The talent ledgers (人才支援/人才交流): secondments, training sessions, participants (issue #4)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from openpyxl import Workbook, load_workbook

from tests import ledgers_world
from tests.ledgers_world import People
from tests.world import World
from xiezuo.core.crypto import mask_id
from xiezuo.core.scope import SYSTEM, ScopeError
from xiezuo.core.tabular.spec import write_template
from xiezuo.engagement import ledgers as engagement
from xiezuo.ledgers import rollup, types
from xiezuo.ledgers.importing import import_ledger
from xiezuo.ledgers.models import LedgerRecord, PersonCheck
from xiezuo.ledgers.services import RecordInvalid, confirm_record, save_record
from xiezuo.synth.ledgers import SynthContext, id_number, write_files
from xiezuo.talent import ledgers as talent
from xiezuo.talent.models import Secondment, TrainingParticipant, TrainingSession
from xiezuo.talent.synth import generate

pytestmark = pytest.mark.django_db

DONGLI, CHENGDEXIAN = 120110000000, 130821000000
TEACHER = id_number("120110", dt.date(1982, 3, 4), 123)
CADRE = id_number("120110", dt.date(1975, 7, 8), 457)


@pytest.fixture
def people(db: Any) -> People:
    """Registry people of the test world (tests/ledgers_world.py): poor, exited, dead, outside …"""
    return ledgers_world.make_people()


def _secondment(world: World, **values: Any) -> Secondment:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "id_number": TEACHER,
        "person_type": "professional",
        "professional_field": "education",
        "direction": "east_to_west",
        "home_org": "东丽区第一中学",
        "host_org": "承德县第一中学",
        "post": "支教教师",
        "start_on": dt.date(2019, 3, 1),
        "end_on": dt.date(2020, 2, 29),
        **values,
    }
    record: Secondment = save_record(talent.SECONDMENTS_TYPE, actor=world.user("dongli"), values=row)
    return record


def _session(world: World, **values: Any) -> TrainingSession:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "session_number": "130821-2019-001",
        "kind": "labour_skills",
        "title": "2019年承德县贫困劳动力家政服务技能培训班",
        "organiser": "承德县人力资源和社会保障局",
        "start_on": dt.date(2019, 5, 6),
        "end_on": dt.date(2019, 5, 10),
        "place": "承德县",
        "participants": 30,
        **values,
    }
    record: TrainingSession = save_record(talent.SESSIONS_TYPE, actor=world.user("chengdexian"), values=row)
    return record


def _participant(world: World, person: str, **values: Any) -> TrainingParticipant:
    row = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "session_number": "130821-2019-001",
        "kind": "labour_skills",
        "id_number": person,
        "trained_on": dt.date(2019, 5, 6),
        **values,
    }
    record: TrainingParticipant = save_record(
        talent.PARTICIPANTS_TYPE, actor=world.user("chengdexian"), values=row
    )
    return record


def _errors(fn: Any, *args: Any, **kwargs: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(RecordInvalid) as info:
        fn(*args, **kwargs)
    return info.value.errors


def _check(ledger: str, record: LedgerRecord) -> tuple[bool, bool | None, str, str]:
    c = PersonCheck.objects.get(ledger=ledger, record_id=record.pk)
    return c.verify, c.ok, c.reason, c.id_masked


# --- secondments --------------------------------------------------------------------------------


def test_a_secondee_is_kept_by_hash_and_not_checked(world: World) -> None:
    record = _secondment(world)
    assert _check("secondments", record) == (False, None, "not_checked", mask_id(TEACHER))
    assert (record.flagged, record.side, record.region_code, record.confirmation) == (
        False,
        "helper",
        DONGLI,
        "pending",
    )
    assert (record.home_org.name, record.host_org.name, record.home_org.kind) == (
        "东丽区第一中学",
        "承德县第一中学",
        "government",
    )
    assert not hasattr(record, "id_number")


def test_secondment_rules(world: World) -> None:
    assert _errors(_secondment, world, professional_field=None, end_on=dt.date(2019, 2, 1)) == [
        (
            "professional_field",
            "专业技术人才请填写专业领域（教育、医疗卫生、农业、科技、其他）",
            "a professional needs a professional field",
        ),
        ("end_on", "结束日期早于开始日期", "the end is before the start"),
    ]
    assert _errors(_secondment, world, start_on=dt.date(2020, 3, 1), end_on=None) == [
        ("start_on", "开始日期晚于归属年度（2019年），该年度未在岗", "starts after the year 2019"),
    ]
    assert _errors(_secondment, world, start_on=dt.date(2017, 3, 1), end_on=dt.date(2018, 2, 28)) == [
        ("end_on", "结束日期早于归属年度（2019年），该年度未在岗", "ended before the year 2019"),
    ]
    assert _errors(_secondment, world, host_org=" 东丽区第一中学") == [
        ("host_org", "挂职单位与派出单位相同", "the host is the home organisation"),
    ]
    wrong = TEACHER[:-1] + ("0" if TEACHER[-1] != "0" else "1")
    assert [e[0] for e in _errors(_secondment, world, id_number=wrong)] == ["id_number"]
    cadre = _secondment(world, id_number=CADRE, person_type="cadre", professional_field=None, post="副县长")
    assert (cadre.person_type, cadre.professional_field, cadre.end_on) == ("cadre", "", dt.date(2020, 2, 29))
    # a two-year secondment is reported again the next year
    assert (
        _secondment(world, id_number=CADRE, person_type="cadre", professional_field=None, year=2020).year
        == 2020
    )
    _secondment(world)
    assert _errors(_secondment, world, post="教研组长")[0][1].startswith(
        "已存在相同记录"
    )  # same person, pair, year


def test_the_helped_side_confirms_a_secondment(world: World) -> None:
    record = _secondment(world)
    with pytest.raises(ScopeError):
        confirm_record(talent.SECONDMENTS_TYPE, actor=world.user("dongli"), record=record, confirmed=True)
    confirm_record(talent.SECONDMENTS_TYPE, actor=world.user("chengdexian"), record=record, confirmed=True)
    record.refresh_from_db()
    assert (record.confirmation, record.confirmed_by) == ("confirmed", world.user("chengdexian"))


def _raw(model: Any, world: World, **fields: Any) -> None:
    base = {
        "pairing": world.pairing("120110", "130821"),
        "year": 2019,
        "region_code": CHENGDEXIAN,
        "side": "helped",
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(key=str(random.random()), **base, **fields)


def test_database_constraints(world: World) -> None:
    home = _secondment(world).home_org
    _raw(
        Secondment,
        world,
        person_type="cadre",
        direction="east_to_west",
        home_org=home,
        host_org=home,
        start_on=dt.date(2019, 3, 1),
        end_on=dt.date(2019, 2, 1),
    )
    _raw(
        Secondment,
        world,
        person_type="volunteer",
        direction="east_to_west",
        home_org=home,
        host_org=home,
        start_on=dt.date(2019, 3, 1),
    )
    session = {"session_number": "X", "kind": "cadres", "title": "班"}
    _raw(
        TrainingSession,
        world,
        **session,
        start_on=dt.date(2019, 3, 1),
        end_on=dt.date(2019, 2, 1),
        participants=3,
    )
    _raw(
        TrainingSession,
        world,
        **session,
        start_on=dt.date(2019, 3, 1),
        end_on=dt.date(2019, 3, 2),
        participants=-1,
    )


# --- training sessions and participants ---------------------------------------------------------


def test_session_rules(world: World) -> None:
    assert _errors(_session, world, start_on=dt.date(2018, 12, 28), end_on=dt.date(2018, 12, 20)) == [
        ("end_on", "结业日期早于开班日期", "the session ends before it starts"),
        ("start_on", "开班日期不在归属年度（2019年）内", "the session does not start in 2019"),
    ]
    session = _session(world)
    assert (session.side, session.region_code, session.organiser.name if session.organiser else None) == (
        "helped",
        CHENGDEXIAN,
        "承德县人力资源和社会保障局",
    )
    with pytest.raises(ScopeError):
        save_record(
            talent.SESSIONS_TYPE,
            actor=world.user("dongli"),
            values={
                "pairing": world.pairing("120110", "130821"),
                "year": 2019,
                "session_number": "S2",
                "kind": "cadres",
                "title": "班",
                "start_on": dt.date(2019, 3, 1),
                "end_on": dt.date(2019, 3, 2),
                "participants": 3,
            },
        )


def test_participant_rules(world: World, people: People) -> None:
    person = people.poor[0]
    assert _errors(_participant, world, person) == [
        (
            "session_number",
            "培训班编号「130821-2019-001」在本结对关系2019年度的培训班中不存在，请先录入培训班",
            "no training session 130821-2019-001 of this pairing in 2019",
        ),
    ]
    _session(world)
    assert _errors(_participant, world, person, kind="village_leaders", trained_on=dt.date(2019, 5, 11)) == [
        (
            "kind",
            "培训类别与培训班「130821-2019-001」不一致（该班为贫困劳动力技能培训）",
            "the session 130821-2019-001 is of kind labour_skills",
        ),
        (
            "trained_on",
            "培训日期不在培训班「130821-2019-001」的起止日期内（2019-05-06至2019-05-10）",
            "the date is outside the session 130821-2019-001",
        ),
    ]
    assert _errors(_participant, world, person, year=2020)[0][0] == "session_number"


def test_participants_are_checked_against_the_registry_on_the_training_date(
    world: World, people: People
) -> None:
    _session(world)
    cases = [
        (people.poor[0], True, "match"),
        (people.exited[0], True, "match_exited"),
        (people.dead[0], False, "dead"),
        (people.outside[0], False, "not_verified"),
        (people.unknown[0], False, "not_verified"),
        (people.monitored[0], True, "match_exited"),  # exited 2019-01-01, monitored only from 2021
    ]
    for person, ok, reason in cases:
        record = _participant(world, person)
        assert _check("training_participants", record) == (True, ok, reason, mask_id(person))
        record.refresh_from_db()
        assert record.flagged is (not ok)
    assert (
        PersonCheck.objects.filter(ledger="training_participants", on_date=dt.date(2019, 5, 6)).count() == 6
    )


# --- import -------------------------------------------------------------------------------------


def _sheet(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:F1")
    book.save(path)
    return path


def _report(path: Path) -> list[tuple[int, str]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    at, why = header.index("原行号"), header.index("错误原因")
    return [(int(r[at]), str(r[why])) for r in rows[1:]]  # type: ignore[arg-type]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_import_messy_session_and_roster_sheets(world: World, people: People, tmp_path: Path) -> None:
    pk = world.pairing("120110", "130821").pk
    sessions = _sheet(
        tmp_path / "sessions.xlsx",
        [
            ["承德县2019年东西部扶贫协作培训班台账"],
            [
                "结对关系",
                "年度",
                "培训班编号",
                "培训类型",
                "培训名称",
                "开始日期",
                "结束日期",
                "培训人数",
                "备注",
            ],
            [
                pk,
                2019,
                "130821-2019-001",
                "技能培训",
                "家政服务技能培训班",
                "2019-05-06",
                "2019-05-10",
                30,
                None,
            ],
            [
                pk,
                2019,
                "130821-2019-002",
                "致富带头人",
                "创业致富带头人培训班",
                "2019年6月3日",
                "2019年6月7日",
                "25",
                None,
            ],
            [
                pk,
                2019,
                "130821-2019-003",
                "干部培训",
                "党政干部专题培训班",
                "2019-07-01",
                "2019-06-28",
                40,
                None,
            ],
            ["合计", None, None, None, None, None, None, 95, None],
        ],
    )
    errors = tmp_path / "session_errors.xlsx"
    result = import_ledger("training_sessions", sessions, actor=world.user("chengdexian"), errors_out=errors)
    assert result.counts() == {
        "read": 3,
        "accepted": 2,
        "rejected": 1,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    assert _report(errors) == [(5, "结业日期：结业日期早于开班日期")]

    roster = _sheet(
        tmp_path / "roster.xlsx",
        [
            ["2019年贫困劳动力技能培训学员花名册"],
            ["序号", "姓名", "身份证号码", "年度", "培训编号", "培训类别", "开班日期"],
            [1, "张三", people.poor[0], 2019, "130821-2019-001", "贫困劳动力技能培训", "2019-05-06"],
            [
                2,
                "李四",
                people.poor[1].translate(FULL_WIDTH),
                "2019年",
                "130821-2019-001",
                "技能培训",
                "2019/5/6",
            ],
            [
                3,
                "王五",
                f" {people.unknown[0]} ",
                2019,
                "130821-2019-001",
                "labour_skills",
                dt.date(2019, 5, 7),
            ],
            [4, "赵六", people.poor[2], 2019, "130821-2019-009", "技能培训", "2019-05-06"],
            [5, "钱七", people.poor[3], 2019, "130821-2019-002", "技能培训", "2019-05-06"],
            [6, "孙八", people.poor[4], 2019, "130821-2019-001", "技能培训", "2019-05-06"],
            [7, "孙八", people.poor[4], 2019, "130821-2019-001", "技能培训", "2019-05-06"],
        ],
    )
    errors = tmp_path / "roster_errors.xlsx"
    county = world.pairing("120110", "130821")
    result = import_ledger(
        "training_participants", roster, actor=world.user("chengdexian"), pairing=county, errors_out=errors
    )
    assert result.counts() == {
        "read": 7,
        "accepted": 4,
        "rejected": 3,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
    }
    report = _report(errors)
    assert [n for n, _ in report] == [6, 7, 9]
    assert (
        report[0][1]
        == "培训班编号：培训班编号「130821-2019-009」在本结对关系2019年度的培训班中不存在，请先录入培训班"
    )
    assert report[1][1] == (
        "培训类别：培训类别与培训班「130821-2019-002」不一致（该班为致富带头人培训）；"
        "培训日期：培训日期不在培训班「130821-2019-002」的起止日期内（2019-06-03至2019-06-07）"
    )
    assert report[2][1] == "与第 8 行重复"
    reasons = sorted(
        PersonCheck.objects.filter(ledger="training_participants").values_list("reason", flat=True)
    )
    assert reasons == ["match", "match", "match", "not_verified"]

    again = import_ledger("training_participants", roster, actor=world.user("chengdexian"), pairing=county)
    assert again.counts() == {
        "read": 7,
        "accepted": 4,
        "rejected": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 4,
    }


def test_the_roster_template_has_the_common_columns_then_the_roster_columns(tmp_path: Path) -> None:
    path = write_template(types.get("training_participants").full_spec, tmp_path / "roster.xlsx")
    sheet = load_workbook(path).worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "结对关系", "归属年度", "行政区划代码", "培训班编号", "培训类别", "身份证号", "培训日期",
    ]  # fmt: skip


# --- roll-up ------------------------------------------------------------------------------------


def _target(world: World, item: str, count: int) -> None:
    save_record(
        engagement.AGREEMENTS_TYPE,
        actor=world.user("dongli"),
        values={
            "pairing": world.pairing("120110", "130821"),
            "year": 2019,
            "target_item": item,
            "target_count": count,
            "signed_on": dt.date(2019, 2, 1),
        },
    )


def test_rollup_counts_secondees_and_people_trained(world: World, people: People) -> None:
    for item, count in (("cadres", 2), ("professionals", 6), ("trainings", 100)):
        _target(world, item, count)
    _secondment(world)
    _secondment(world, id_number=CADRE, person_type="cadre", professional_field=None)
    _secondment(
        world,
        id_number=id_number("130821", dt.date(1985, 1, 1), 333),
        direction="west_to_east",
        person_type="cadre",
        professional_field=None,
        home_org="承德县农业农村局",
        host_org="东丽区农业农村委员会",
    )
    _session(world)
    _session(world, session_number="130821-2019-002", kind="cadres", participants=45)
    for person in (*people.poor[:3], people.unknown[0]):
        _participant(world, person)

    up = rollup.rollup(world.provincial, 2019)
    lines = {line.metric.key: line for line in up.lines if line.ledger.area == "talent"}
    assert (lines["cadres"].total, lines["cadres"].split, lines["cadres"].target) == (
        2,
        {"east_to_west": 1, "west_to_east": 1},
        2,
    )
    assert (lines["professionals"].total, lines["professionals"].target) == (1, 6)
    assert (lines["sessions"].total, lines["sessions"].split) == (2, {"cadres": 1, "labour_skills": 1})
    assert (lines["trained"].total, lines["trained"].split, lines["trained"].target) == (
        75,
        {"cadres": 45, "labour_skills": 30},
        100,
    )
    assert (lines["poor_trained"].total, lines["poor_trained"].target) == (3, None)


# --- synthetic data -----------------------------------------------------------------------------


def test_synthetic_talent_is_reproducible_and_saves(world: World, people: People, tmp_path: Path) -> None:
    county = world.pairing("120110", "130821")
    pairings = [world.provincial, county]
    rows = generate(SynthContext(rng=random.Random(11), year=2019, pairings=pairings))
    ctx = SynthContext(rng=random.Random(11), year=2019, pairings=pairings)
    assert generate(ctx) == rows
    counts = {k: len(v) for k, v in rows.items()}
    assert counts == {"secondments": 13, "training_sessions": 28, "training_participants": 134}
    assert dict(ctx.planted) == {"training_participants": 16}
    for key, values in rows.items():
        for row in values:
            save_record(types.get(key), actor=SYSTEM, values=row, via="demo", upsert=True)
    assert Secondment.objects.count() == counts["secondments"]
    assert TrainingSession.objects.count() == counts["training_sessions"]
    assert TrainingParticipant.objects.count() == counts["training_participants"]
    assert not Secondment.objects.filter(flagged=True).exists()
    reasons = PersonCheck.objects.filter(ledger="training_participants").values_list("reason", flat=True)
    assert Counter(reasons) == {"match": 74, "match_exited": 44, "not_verified": 16}  # the planted ones
    assert TrainingParticipant.objects.filter(flagged=True).count() == 16
    assert sum(r["participants"] for r in rows["training_sessions"]) == 746
    assert Counter(r["kind"] for r in rows["training_sessions"]) == {
        "labour_skills": 15,
        "professionals": 5,
        "village_leaders": 4,
        "cadres": 4,
    }
    assert Counter((r["person_type"], r["direction"]) for r in rows["secondments"]) == {
        ("professional", "east_to_west"): 7,
        ("cadre", "east_to_west"): 4,
        ("professional", "west_to_east"): 2,
    }
    # the same rows written as import sheets import back as they are
    for path in write_files(rows, tmp_path):
        result = import_ledger(path.stem, path, actor=SYSTEM)
        assert (result.read, result.unchanged) == (len(rows[path.stem]), len(rows[path.stem]))
