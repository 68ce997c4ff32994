"""Record-level rules of the industrial cooperation ledgers (pure: no database).

Each function takes a row's parsed values (as ``save_record`` hands them to a ledger's check:
column keys, with ``year`` an int and dates as dates) and returns the errors as
``(column key, message zh, message en)``. Where a record lies (inside the pairing's area) is
checked in :mod:`xiezuo.industry.ledgers`, which needs the pairing.

>>> investment_errors({"year": 2019, "invested_fen": 100, "landed_on": None})
[('landed_on', '已有当年实际投资的，请填写落地日期', 'an enterprise that invested must have a landing date')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

Error = tuple[str, str, str]

MAX_MONTHLY_WAGE_FEN = 20_000 * 100
"""A monthly wage above this is almost always a yearly income typed in the wrong column."""


def _date(values: Mapping[str, Any], key: str) -> dt.date | None:
    value = values.get(key)
    return value if isinstance(value, dt.date) else None


def _year(values: Mapping[str, Any]) -> int | None:
    year = values.get("year")
    return int(year) if year else None


def investment_errors(values: Mapping[str, Any]) -> list[Error]:
    """An enterprise's investment: landed when it invested, not after its year, not empty."""
    errors: list[Error] = []
    year = _year(values)
    invested, agreed = values.get("invested_fen"), values.get("agreed_fen")
    landed = _date(values, "landed_on")
    if invested and landed is None:
        errors.append(
            (
                "landed_on",
                "已有当年实际投资的，请填写落地日期",
                "an enterprise that invested must have a landing date",
            )
        )
    if landed is not None and year is not None and landed.year > year:
        errors.append(
            (
                "landed_on",
                f"落地日期晚于归属年度（{year}年），不能计入该年度",
                f"landed after the record's year {year}",
            )
        )
    if invested == 0 and not agreed:
        errors.append(
            (
                "invested_fen",
                "当年实际投资为0且没有协议投资额，该企业不算引导落地，请核实",
                "no investment in the year and no agreed amount",
            )
        )
    return errors


def park_errors(values: Mapping[str, Any]) -> list[Error]:
    """A co-built park: established by the end of its year."""
    year = _year(values)
    established = _date(values, "established_on")
    if established is not None and year is not None and established.year > year:
        return [
            (
                "established_on",
                f"挂牌日期晚于归属年度（{year}年），园区该年度尚未共建",
                f"established after the record's year {year}",
            )
        ]
    return []


def is_village(code: int) -> bool:
    """A 12-digit village code ends in a non-zero 3-digit village number.

    >>> is_village(130821100201), is_village(130821100000)
    (True, False)
    """
    return code >= 10**11 and code % 1000 != 0


def workshop_errors(values: Mapping[str, Any]) -> list[Error]:
    """A workshop: in a village, with jobs, operating during its year (opened before its end,
    not closed before its start), closed after it opened."""
    errors: list[Error] = []
    year = _year(values)
    village = values.get("village_code")
    if isinstance(village, int) and not is_village(village):
        errors.append(
            (
                "village_code",
                "所在村请填写到行政村（12位区划代码或村名）",
                "the place must be a village (12-digit code)",
            )
        )
    if values.get("jobs") == 0:
        errors.append(("jobs", "吸纳就业岗位应大于0", "a workshop offers at least one job"))
    opened, closed = _date(values, "opened_on"), _date(values, "closed_on")
    if opened is not None and year is not None and opened.year > year:
        errors.append(
            (
                "opened_on",
                f"开办日期晚于归属年度（{year}年），该车间不能计入该年度",
                f"opened after the year {year}",
            )
        )
    if closed is not None and year is not None and closed.year < year:
        errors.append(
            (
                "closed_on",
                f"停办日期早于归属年度（{year}年），该车间该年度未运营",
                f"closed before the year {year}",
            )
        )
    if opened is not None and closed is not None and closed < opened:
        errors.append(("closed_on", "停办日期早于开办日期", "closed before it opened"))
    return errors


def beneficiary_errors(values: Mapping[str, Any]) -> list[Error]:
    """A person employed or paid a dividend: employed by the end of the year, a dividend paid in
    the year, an amount above zero and a monthly wage that is not a yearly income."""
    errors: list[Error] = []
    year = _year(values)
    benefit = values.get("benefit")
    on = _date(values, "started_on")
    amount = values.get("amount_fen")
    if on is not None and year is not None:
        if benefit == "employed" and on.year > year:
            errors.append(
                ("started_on", f"就业日期晚于归属年度（{year}年）", f"employed after the year {year}")
            )
        if benefit == "dividend" and on.year != year:
            errors.append(
                (
                    "started_on",
                    f"分红发放日期应在归属年度（{year}年）内",
                    f"the dividend must be paid in {year}",
                )
            )
    if amount == 0:
        errors.append(("amount_fen", "月工资或分红金额应大于0", "the wage or dividend must be above zero"))
    if benefit == "employed" and isinstance(amount, int) and amount > MAX_MONTHLY_WAGE_FEN:
        errors.append(
            (
                "amount_fen",
                f"月工资超过{MAX_MONTHLY_WAGE_FEN // 100}元，请核实是否误填了年收入",
                "monthly wage too high; a yearly income?",
            )
        )
    return errors
