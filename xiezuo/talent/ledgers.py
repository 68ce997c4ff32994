"""The talent ledger types (人才支援 / 人才交流): secondments, training sessions, participants.

- ``secondments``: entered by the helper side, confirmed by the helped side. The framework has
  one confirming side per ledger: the helped side is the host of an east→west secondment (the
  usual case, and the one agreements set targets for), and the sending side of a west→east one,
  which confirms that its cadre went. Cadres and professionals are kept by hash, not checked.
- ``training_sessions`` and ``training_participants``: entered by the helped side. Every
  participant is checked against the registry on the training date (the result says whether a
  participant of a poor labourers' skills session was registered poor); only matches count as
  verified poor labourers trained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from xiezuo.core import codelists
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType, Metric, PersonField, register
from xiezuo.talent.columns import SECONDMENTS, TRAINING_PARTICIPANTS, TRAINING_SESSIONS
from xiezuo.talent.models import Secondment, TrainingParticipant, TrainingSession

Error = tuple[str, str, str]


def _name(value: Any) -> str:
    return "".join(str(getattr(value, "name", value) or "").split())


def check_secondment(values: Mapping[str, Any]) -> list[Error]:
    """A professional's field; dates in order; the secondment overlaps its year; two organisations."""
    errors: list[Error] = []
    if values.get("person_type") == "professional" and not values.get("professional_field"):
        errors.append(
            (
                "professional_field",
                "专业技术人才请填写专业领域（教育、医疗卫生、农业、科技、其他）",
                "a professional needs a professional field",
            )
        )
    start, end, year = values.get("start_on"), values.get("end_on"), values.get("year")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(("end_on", "结束日期早于开始日期", "the end is before the start"))
    elif year:
        year = int(year)
        if isinstance(start, dt.date) and start.year > year:
            errors.append(
                (
                    "start_on",
                    f"开始日期晚于归属年度（{year}年），该年度未在岗",
                    f"starts after the year {year}",
                )
            )
        if isinstance(end, dt.date) and end.year < year:
            errors.append(
                ("end_on", f"结束日期早于归属年度（{year}年），该年度未在岗", f"ended before the year {year}")
            )
    home, host = _name(values.get("home_org")), _name(values.get("host_org"))
    if home and home == host:
        errors.append(("host_org", "挂职单位与派出单位相同", "the host is the home organisation"))
    return errors


def check_session(values: Mapping[str, Any]) -> list[Error]:
    errors: list[Error] = []
    start, end, year = values.get("start_on"), values.get("end_on"), values.get("year")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(("end_on", "结业日期早于开班日期", "the session ends before it starts"))
    if isinstance(start, dt.date) and year and start.year != int(year):
        errors.append(
            ("start_on", f"开班日期不在归属年度（{year}年）内", f"the session does not start in {year}")
        )
    return errors


def check_participant(values: Mapping[str, Any]) -> list[Error]:
    """The session exists in the pairing's year, with the same kind, and the date lies in it."""
    from xiezuo.pairings.models import Pairing

    number, pairing, year = values.get("session_number"), values.get("pairing"), values.get("year")
    if not number or not isinstance(pairing, Pairing) or not year:
        return []
    session = TrainingSession.objects.filter(pairing=pairing, year=int(year), session_number=number).first()
    if session is None:
        return [
            (
                "session_number",
                f"培训班编号「{number}」在本结对关系{year}年度的培训班中不存在，请先录入培训班",
                f"no training session {number} of this pairing in {year}",
            )
        ]
    errors: list[Error] = []
    kind = values.get("kind")
    if kind and kind != session.kind:
        label = codelists.label("training_kind", session.kind)
        errors.append(
            (
                "kind",
                f"培训类别与培训班「{number}」不一致（该班为{label}）",
                f"the session {number} is of kind {session.kind}",
            )
        )
    day = values.get("trained_on")
    if isinstance(day, dt.date) and not session.start_on <= day <= session.end_on:
        errors.append(
            (
                "trained_on",
                f"培训日期不在培训班「{number}」的起止日期内（{session.start_on}至{session.end_on}）",
                f"the date is outside the session {number}",
            )
        )
    return errors


SECONDMENTS_TYPE = register(
    LedgerType(
        key="secondments",
        model=Secondment,
        spec=SECONDMENTS,
        area="talent",
        zh="挂职干部和专业技术人才",
        en="secondments",
        side=HELPER,
        natural_key=("pairing", "year", "id_number"),
        people=(PersonField("id_number", verify=False, date_column="start_on"),),
        orgs={"home_org": "government", "host_org": "government"},
        check=check_secondment,
        confirm_side=HELPED,
        date_column="start_on",
        metrics=(
            Metric(
                "cadres",
                "选派党政干部",
                "cadres seconded",
                unit="人",
                where={"person_type": "cadre"},
                split="direction",
                target="cadres",
            ),
            Metric(
                "professionals",
                "选派专业技术人才",
                "professionals seconded",
                unit="人",
                where={"person_type": "professional"},
                split="direction",
                target="professionals",
            ),
        ),
        list_columns=(
            "pairing",
            "year",
            "person_type",
            "professional_field",
            "direction",
            "host_org",
            "post",
            "start_on",
            "end_on",
        ),
        filters=("person_type", "professional_field", "direction"),
        order=10,
    )
)

SESSIONS_TYPE = register(
    LedgerType(
        key="training_sessions",
        model=TrainingSession,
        spec=TRAINING_SESSIONS,
        area="talent",
        zh="培训班",
        en="training sessions",
        side=HELPED,
        natural_key=("pairing", "year", "session_number"),
        orgs={"organiser": "government"},
        check=check_session,
        date_column="start_on",
        metrics=(
            Metric("sessions", "培训班", "training sessions", unit="期", split="kind"),
            Metric(
                "trained",
                "培训人次",
                "people trained",
                kind="sum",
                field="participants",
                unit="人次",
                split="kind",
                target="trainings",
            ),
        ),
        list_columns=(
            "pairing",
            "year",
            "session_number",
            "kind",
            "title",
            "start_on",
            "end_on",
            "participants",
        ),
        filters=("kind",),
        order=20,
    )
)

PARTICIPANTS_TYPE = register(
    LedgerType(
        key="training_participants",
        model=TrainingParticipant,
        spec=TRAINING_PARTICIPANTS,
        area="talent",
        zh="培训学员",
        en="training participants",
        side=HELPED,
        natural_key=("pairing", "year", "session_number", "id_number"),
        people=(PersonField("id_number", verify=True, date_column="trained_on"),),
        check=check_participant,
        date_column="trained_on",
        metrics=(
            Metric(
                "poor_trained",
                "培训建档立卡贫困劳动力",
                "verified poor labourers trained",
                kind="people",
                unit="人",
                where={"kind": "labour_skills"},
            ),
        ),
        list_columns=("pairing", "year", "session_number", "kind", "id_number", "trained_on"),
        filters=("kind",),
        order=30,
    )
)
