"""Approval flows as data (``flows.yaml``): who takes which step of a ledger's reporting period.

A step names a level (province, prefecture, county) and a role. A user may take it with an active
grant of that role whose region contains the side's region and lies at that level or above (a
provincial coordinator may review for a municipality that has no prefecture office). National
coordinators may take any step. The last step approves (and locks); it also grants unlocks.

Four eyes (issue #21) is on for every flow unless its side says ``four_eyes: false``: no user takes
two steps of one round of a period, nobody who entered records of the period takes a step after
the first, and the one who asked for an unlock does not grant it (``xiezuo.ledgers.periods``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from xiezuo.accounts import roles
from xiezuo.core.scope import SystemActor, active_grants
from xiezuo.regions.models import subtree_range

FILE = Path(__file__).resolve().parent / "flows.yaml"
LEVELS = {"province": 1, "prefecture": 2, "county": 3}
PERIODS_PER_YEAR = {"year": 1, "quarter": 4, "month": 12}


@dataclass(frozen=True)
class Step:
    level: str
    role: str
    action: str
    zh: str
    en: str


@dataclass(frozen=True)
class Flow:
    ledger: str
    side: str
    period: str
    deadline: str
    steps: tuple[Step, ...]
    four_eyes: bool = True

    def period_no(self, date: dt.date | None) -> int:
        """0 for yearly periods; the quarter (1–4) or month (1–12) of ``date`` otherwise."""
        if self.period == "year" or date is None:
            return 0
        return (date.month - 1) // 3 + 1 if self.period == "quarter" else date.month

    def deadline_of(self, year: int, period_no: int) -> dt.date:
        """The filing deadline: month-day of the next year for years; N days after a quarter or month."""
        if self.period == "year" or period_no == 0:
            month, day = (int(x) for x in self.deadline.split("-"))
            return dt.date(year + 1, month, day)
        if self.period == "quarter":
            end_month = period_no * 3
        else:
            end_month = period_no
        first_after = dt.date(year + (end_month == 12), end_month % 12 + 1, 1)
        return first_after + dt.timedelta(days=int(self.deadline) - 1)

    def label(self, year: int, period_no: int) -> str:
        if period_no == 0:
            return f"{year}年度"
        return f"{year}年第{period_no}季度" if self.period == "quarter" else f"{year}年{period_no}月"


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))
    return data


def flow_for(ledger: str, side: str) -> Flow:
    data = _data()
    entry = (data.get(ledger) or data["default"])[side]
    return Flow(
        ledger=ledger,
        side=side,
        period=entry["period"],
        deadline=str(entry["deadline"]),
        steps=tuple(Step(**s) for s in entry["steps"]),
        four_eyes=bool(entry.get("four_eyes", True)),
    )


def may_take(user: Any, step: Step, side_regions: list[tuple[int, int]]) -> bool:
    """Whether ``user`` may take ``step`` for a side whose regions are (code, level) pairs."""
    if isinstance(user, SystemActor):
        return True
    for grant in active_grants(user):
        if grant.role == roles.NATIONAL and grant.region is None:
            return True
        if grant.role != step.role or grant.region is None:
            continue
        if grant.region.level > LEVELS[step.level]:
            continue
        low, high = subtree_range(grant.region.code, grant.region.level)
        if any(low <= code < high for code, _level in side_regions):
            return True
    return False
