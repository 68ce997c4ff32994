"""Pure rules of the registry (no Django imports): row checks and status intervals.

Messages are Chinese first (a county clerk reads them), with English beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# Exits are decided at the year-end check (年底验收): a household counts as exited from 1 December.
EXIT_MONTH_DAY = (12, 1)


@dataclass(frozen=True)
class Problem:
    column: str  # the Chinese header of the column at fault ("" for the row as a whole)
    code: str
    zh: str
    en: str


def check_row(values: dict[str, Any], *, data_year: int) -> list[Problem]:
    """Checks of one parsed registry row across its fields.

    >>> [p.code for p in check_row({"status": "exited", "registered_year": 2015}, data_year=2019)]
    ['exit_year_missing']
    >>> check_row({"status": "poor", "registered_year": 2015}, data_year=2019)
    []
    """
    out: list[Problem] = []
    status = values.get("status")
    registered = values.get("registered_year")
    exit_year = values.get("exit_year")
    if status in ("exited", "pre_exit") and exit_year is None:
        out.append(
            Problem(
                "脱贫年度",
                "exit_year_missing",
                "贫困状态为已脱贫或预脱贫时必须填写脱贫年度",
                "an exited household needs its exit year",
            )
        )
    if registered is not None and registered > data_year:
        out.append(
            Problem(
                "识别年度",
                "registered_after_data_year",
                f"识别年度晚于数据年度 {data_year}",
                f"registered after the data year {data_year}",
            )
        )
    if registered is not None and registered < 2013:
        out.append(
            Problem(
                "识别年度",
                "registered_too_early",
                "建档立卡始于 2014 年（试点 2013 年），识别年度不能更早",
                "the registry starts in 2013/2014",
            )
        )
    if exit_year is not None and registered is not None and exit_year < registered:
        out.append(
            Problem(
                "脱贫年度",
                "exit_before_registration",
                "脱贫年度早于识别年度",
                "exit year before the registration year",
            )
        )
    if exit_year is not None and exit_year > data_year + 1:
        out.append(
            Problem(
                "脱贫年度",
                "exit_in_future",
                f"脱贫年度晚于数据年度 {data_year}",
                f"exit year after the data year {data_year}",
            )
        )
    if values.get("leave_reason") and not values.get("left_on"):
        out.append(
            Problem(
                "减少日期",
                "left_on_missing",
                "填写了成员减少原因，还需填写减少日期",
                "a leave reason needs its date",
            )
        )
    return out


@dataclass(frozen=True)
class Interval:
    status: str
    start: dt.date
    end: dt.date | None  # exclusive


def status_intervals(
    *, registered_year: int, status: str, exit_year: int | None, as_of: dt.date
) -> list[Interval]:
    """The status history implied by one row: poor from 1 January of the registration year, then
    exited (or exit pending) from 1 December of the exit year; 返贫 from the as-of date.

    >>> status_intervals(registered_year=2014, status="exited", exit_year=2018, as_of=dt.date(2019, 12, 31))
    [Interval(status='poor', start=datetime.date(2014, 1, 1), end=datetime.date(2018, 12, 1)), \
Interval(status='exited', start=datetime.date(2018, 12, 1), end=None)]
    >>> status_intervals(registered_year=2016, status="poor", exit_year=None, as_of=dt.date(2019, 12, 31))
    [Interval(status='poor', start=datetime.date(2016, 1, 1), end=None)]
    """
    start = dt.date(registered_year, 1, 1)
    if status == "poor" or exit_year is None:
        return [Interval("poor", start, None)]
    turn = dt.date(exit_year, *EXIT_MONTH_DAY)
    if turn <= start:
        turn = start
    if status == "returned":
        back = max(as_of, turn)
        return [
            Interval("poor", start, turn),
            Interval("exited", turn, back),
            Interval("returned", back, None),
        ]
    return (
        [Interval("poor", start, turn), Interval(status, turn, None)]
        if turn > start
        else [Interval(status, start, None)]
    )


def next_intervals(current: list[Interval], new_status: str, *, as_of: dt.date) -> list[Interval]:
    """Close the open interval and open ``new_status`` at ``as_of`` when the status changed.

    >>> cur = [Interval("poor", dt.date(2014, 1, 1), None)]
    >>> next_intervals(cur, "poor", as_of=dt.date(2019, 12, 31)) == cur
    True
    >>> [i.status for i in next_intervals(cur, "exited", as_of=dt.date(2019, 12, 31))]
    ['poor', 'exited']
    """
    if current and current[-1].end is None and current[-1].status == new_status:
        return current
    out = list(current)
    if out and out[-1].end is None:
        last = out[-1]
        out[-1] = Interval(last.status, last.start, max(as_of, last.start))
    out.append(Interval(new_status, as_of, None))
    return out
