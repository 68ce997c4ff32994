"""The projects ledgers: assistance projects and their beneficiaries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from xiezuo.ledgers.types import HELPED, LedgerType, Metric, PersonField, register
from xiezuo.projects.columns import BENEFICIARIES, PROJECTS
from xiezuo.projects.models import Beneficiary, Project
from xiezuo.projects.rules import project_errors

Error = tuple[str, str, str]


def check_project(values: Mapping[str, Any]) -> list[Error]:
    return project_errors(values)


def check_beneficiary(values: Mapping[str, Any]) -> list[Error]:
    """The project is in the projects ledger of the same pairing, and the start date given (if
    any) is that project's."""
    number = (values.get("project_number") or "").strip()
    pairing = values.get("pairing")
    if not number or pairing is None:
        return []
    project = Project.objects.filter(pairing=pairing, project_number=number).only("started_on").first()
    if project is None:
        return [
            (
                "project_number",
                f"项目编号「{number}」未在本结对关系的帮扶项目台账中登记，请先登记项目",
                "no project with this number in the pairing's projects ledger",
            )
        ]
    started = values.get("started_on")
    if isinstance(started, dt.date) and project.started_on is not None and started != project.started_on:
        return [
            (
                "started_on",
                f"项目开工日期与项目台账不一致（项目台账为 {project.started_on:%Y-%m-%d}）",
                "the start date differs from the project's",
            )
        ]
    return []


PROJECTS_LEDGER = register(
    LedgerType(
        key="projects",
        model=Project,
        spec=PROJECTS,
        area="projects",
        zh="帮扶项目",
        en="assistance projects",
        side=HELPED,
        natural_key=("pairing", "project_number"),
        check=check_project,
        metrics=(
            Metric("projects", "实施项目", "projects", unit="个", split="project_type", target="projects"),
            Metric("budget", "项目总投资", "project budgets", kind="sum", field="budget_fen", unit="money"),
            Metric(
                "east_west",
                "项目中东西部协作资金",
                "east-west funds in projects",
                kind="sum",
                field="east_west_fen",
                unit="money",
            ),
        ),
        list_columns=(
            "project_number",
            "name",
            "project_type",
            "stage",
            "budget_fen",
            "east_west_fen",
            "started_on",
        ),
        filters=("project_type", "stage", "benefit_mechanism"),
        order=10,
    )
)

BENEFICIARIES_LEDGER = register(
    LedgerType(
        key="project_beneficiaries",
        model=Beneficiary,
        spec=BENEFICIARIES,
        area="projects",
        zh="项目受益对象",
        en="project beneficiaries",
        side=HELPED,
        natural_key=("pairing", "project_number", "id_number"),
        people=(PersonField("id_number", verify=True, date_column="started_on"),),
        check=check_beneficiary,
        metrics=(
            Metric(
                "beneficiaries",
                "项目受益贫困人口（已核验）",
                "verified project beneficiaries",
                kind="people",
                unit="人",
            ),
        ),
        list_columns=("project_number", "id_number", "started_on", "benefit_fen"),
        order=20,
    )
)
