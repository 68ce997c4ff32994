"""Pure rules of the projects ledgers: the stages in order, and the checks of one project row.

A project moves through the stages as offices name them (DESIGN.md §2): 储备 → 入库 → 批复 →
开工 → 完工 → 验收 → 县级报账 → 资产确权移交. Each stage after 储备 has a date column; dates
must be in that order, the current stage must have its date, and no later stage may have one.

>>> [e[0] for e in stage_errors({"stage": "started", "approved_on": dt.date(2019, 5, 1),
...     "started_on": dt.date(2019, 4, 1)})]
['started_on']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

Error = tuple[str, str, str]

STAGES: tuple[tuple[str, str | None, str], ...] = (
    ("reserve", None, "储备"),
    ("banked", "banked_on", "入库"),
    ("approved", "approved_on", "批复"),
    ("started", "started_on", "开工"),
    ("completed", "completed_on", "完工"),
    ("accepted", "accepted_on", "验收"),
    ("reimbursed", "reimbursed_on", "县级报账"),
    ("handed_over", "handed_over_on", "资产确权移交"),
)
"""(stage code, its date column, Chinese name), in order."""

STAGE_DATES: tuple[str, ...] = tuple(d for _c, d, _zh in STAGES if d)
_INDEX = {code: i for i, (code, _d, _zh) in enumerate(STAGES)}


def _date(values: Mapping[str, Any], key: str) -> dt.date | None:
    v = values.get(key)
    return v if isinstance(v, dt.date) else None


def stage_errors(values: Mapping[str, Any]) -> list[Error]:
    """Stage dates in order; the current stage has its date and no later stage has one."""
    errors: list[Error] = []
    last: tuple[str, dt.date] | None = None
    for _code, column, zh in STAGES:
        if column is None:
            continue
        d = _date(values, column)
        if d is None:
            continue
        if last is not None and d < last[1]:
            errors.append(
                (
                    column,
                    f"{zh}日期（{d:%Y-%m-%d}）早于{last[0]}日期（{last[1]:%Y-%m-%d}），请核对",
                    f"{column} is before the date of an earlier stage",
                )
            )
        else:
            last = (zh, d)
    stage = values.get("stage")
    if stage in _INDEX:
        current = _INDEX[stage]
        code, column, zh = STAGES[current]
        if column is not None and _date(values, column) is None:
            errors.append(
                (
                    column,
                    f"项目处于「{zh}」阶段，请填写{zh}日期",
                    f"the project is at stage {code}: its date is required",
                )
            )
        for later_code, later_column, later_zh in STAGES[current + 1 :]:
            if later_column is not None and _date(values, later_column) is not None:
                errors.append(
                    (
                        "stage",
                        f"已填写{later_zh}日期，项目阶段不应为「{zh}」，请更新项目阶段",
                        f"a date of the later stage {later_code} is given: the stage is not {code}",
                    )
                )
                break
    return errors


def project_errors(values: Mapping[str, Any]) -> list[Error]:
    """Every cross-field rule of a project row (stages, notices, fund sources)."""
    errors = stage_errors(values)
    plan, done = _date(values, "plan_notice_on"), _date(values, "completion_notice_on")
    started, completed = _date(values, "started_on"), _date(values, "completed_on")
    if plan and started and plan > started:
        errors.append(
            (
                "plan_notice_on",
                "计划公示应在项目开工前进行：计划公示日期晚于开工日期",
                "the plan notice is after the start",
            )
        )
    if done and completed is None:
        errors.append(
            (
                "completion_notice_on",
                "已填写完成公示日期，请填写完工日期",
                "a completion notice needs a completion date",
            )
        )
    elif done and completed and done < completed:
        errors.append(
            (
                "completion_notice_on",
                "完成公示日期早于完工日期，请核对",
                "the completion notice is before the completion",
            )
        )
    budget, east_west, other = values.get("budget_fen"), values.get("east_west_fen"), values.get("other_fen")
    if isinstance(budget, int) and isinstance(east_west, int):
        if east_west > budget:
            errors.append(
                ("east_west_fen", "东西部协作资金超过项目总投资", "east-west funds exceed the budget")
            )
        elif isinstance(other, int) and east_west + other != budget:
            errors.append(
                (
                    "other_fen",
                    "东西部协作资金与其他资金之和应等于项目总投资，请核对",
                    "east-west funds plus other funds must equal the budget",
                )
            )
    return errors
