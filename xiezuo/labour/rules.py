"""Pure rules of the labour ledgers: where a job is, row checks, working age, region-tree distance.

No database here: the pairing's sides come in as half-open ranges of 12-digit codes (D5), so
every rule is a table-driven test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

Ranges = tuple[tuple[int, int], ...]
Error = tuple[str, str, str]

TO_PARTNER, NEAR_HOME, IN_PROVINCE, OTHER = "to_partner", "near_home", "in_province", "other"
WORKING_AGE = (16, 59)
WAGE_CEILING_FEN = 100_000 * 100  # a monthly wage above 100,000 yuan is a unit or annual-income slip
MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")


def home_range(code: int) -> tuple[int, int]:
    """The county of a 12-digit code (or the prefecture or province when the code stops above).

    >>> home_range(130821100201)
    (130821000000, 130822000000)
    >>> home_range(130800000000)
    (130800000000, 130900000000)
    """
    for width in (6, 4, 2):
        step = 10 ** (12 - width)
        if (code // step) % 100:
            low = code // step * step
            return low, low + step
    return 0, 10**12


def within(code: int, ranges: Ranges) -> bool:
    return any(low <= code < high for low, high in ranges)


def destination(workplace: int, *, home: int, partner: Ranges) -> str:
    """Where the job is (code list ``labour_destination``), from the workplace region.

    ``home`` is the record's region (the labourer's county or village); ``partner`` the helper
    side of the pairing and of the pairings above it (天津 for 东丽区→承德县).

    >>> tianjin = ((120000000000, 130000000000),)
    >>> places = (120110000000, 130821100000, 130100000000, 440300000000)
    >>> [destination(w, home=130821000000, partner=tianjin) for w in places]
    ['to_partner', 'near_home', 'in_province', 'other']
    """
    if within(workplace, partner):
        return TO_PARTNER
    low, high = home_range(home)
    if low <= workplace < high:
        return NEAR_HOME
    if workplace // 10**10 == home // 10**10:
        return IN_PROVINCE
    return OTHER


def _year_bounds(year: Any) -> tuple[dt.date, dt.date] | None:
    if not isinstance(year, int):
        return None
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def placement_errors(
    values: Mapping[str, Any], *, partner: Ranges, helped: Ranges, today: dt.date | None = None
) -> list[Error]:
    """Cross-field checks of a placement row, messages a county clerk understands.

    ``helped`` is the pairing's helped side (where assistance workshops are), ``partner`` as for
    :func:`destination`.
    """
    errors: list[Error] = []
    start, end, year = values.get("start"), values.get("end"), values.get("year")
    today = today or dt.date.today()
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(("end", "早于就业开始日期", "the end is before the start"))
    if isinstance(start, dt.date) and start > today:
        errors.append(("start", "晚于今天，请在上岗后填报", "the start is in the future"))
    bounds = _year_bounds(year)
    if bounds is not None:
        first, last = bounds
        if isinstance(start, dt.date) and start > last:
            errors.append(
                (
                    "start",
                    f"晚于归属年度（{year}年），请核对归属年度",
                    "the start is after the year it counts for",
                )
            )
        if isinstance(end, dt.date) and end < first:
            errors.append(
                (
                    "end",
                    f"早于归属年度（{year}年），该年度不在岗",
                    "the job ended before the year it counts for",
                )
            )
    wage = values.get("monthly_wage_fen")
    if isinstance(wage, int) and wage > WAGE_CEILING_FEN:
        errors.append(
            (
                "monthly_wage_fen",
                "超过10万元，请核对是否误填了年收入或金额单位",
                "a monthly wage above 100,000 yuan: annual income or wrong unit?",
            )
        )
    workplace, arrangement = values.get("workplace_region"), values.get("arrangement")
    home = values.get("region_code")
    if isinstance(workplace, int) and isinstance(home, int):
        if arrangement == "workshop" and not within(workplace, helped):
            errors.append(
                (
                    "workplace_region",
                    "帮扶车间应在受帮扶地区",
                    "an assistance workshop lies in the helped area",
                )
            )
        if arrangement == "welfare_post" and destination(workplace, home=home, partner=partner) != NEAR_HOME:
            errors.append(
                ("workplace_region", "公益岗位应在本县", "a public-welfare post lies in the home county")
            )
    return errors


def is_mobile(text: str) -> bool:
    """A mainland mobile number (a person's phone, not an office line).

    >>> is_mobile("138 1234 5678"), is_mobile("+86-13812345678"), is_mobile("022-84376000")
    (True, True, False)
    """
    return bool(MOBILE.match(re.sub(r"[\s\-()（）]", "", text)))


def posting_errors(values: Mapping[str, Any]) -> list[Error]:
    """Cross-field checks of a job posting row."""
    errors: list[Error] = []
    start, end, year = values.get("valid_from"), values.get("valid_to"), values.get("year")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(("valid_to", "早于有效期起", "valid to is before valid from"))
    bounds = _year_bounds(year)
    if bounds is not None:
        first, last = bounds
        if isinstance(start, dt.date) and start > last:
            errors.append(
                ("valid_from", f"晚于归属年度（{year}年），请核对归属年度", "valid from is after the year")
            )
        if isinstance(end, dt.date) and end < first:
            errors.append(
                ("valid_to", f"早于归属年度（{year}年），请核对归属年度", "valid to is before the year")
            )
    low, high = values.get("wage_min_fen"), values.get("wage_max_fen")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.append(("wage_max_fen", "低于月薪下限", "the wage maximum is below the minimum"))
    positions = values.get("positions")
    if isinstance(positions, int) and positions < 1:
        errors.append(("positions", "至少为1人", "at least one position"))
    contact = values.get("contact")
    if isinstance(contact, str) and is_mobile(contact):
        errors.append(
            (
                "contact",
                "请填写用工单位的办公电话，不要填写个人手机号",
                "the contact is the employer's office line, not a personal mobile number",
            )
        )
    return errors


def anniversary(on: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for a 29 February in a common year).

    >>> anniversary(dt.date(2020, 2, 29), 1), anniversary(dt.date(2019, 6, 1), 16)
    (datetime.date(2019, 2, 28), datetime.date(2003, 6, 1))
    """
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return dt.date(on.year - years, 2, 28)


def working_age_births(on: dt.date, ages: tuple[int, int] = WORKING_AGE) -> tuple[dt.date, dt.date]:
    """Birth dates of people aged ``ages[0]``–``ages[1]`` on ``on``: born after the first date and
    on or before the second.

    >>> working_age_births(dt.date(2019, 3, 1))
    (datetime.date(1959, 3, 1), datetime.date(2003, 3, 1))
    """
    youngest, oldest = ages
    return anniversary(on, oldest + 1), anniversary(on, youngest)


def distance(a: int, b: int) -> int:
    """Region-tree distance of two 12-digit codes: 0 same village … 4 same province, 5 otherwise.

    >>> village = 130821100201
    >>> others = (130821100999, 130821200000, 130881000000, 130100000000, 120110000000)
    >>> [distance(village, c) for c in (village, *others)]
    [0, 1, 2, 3, 4, 5]
    """
    for d, width in enumerate((12, 9, 6, 4, 2)):
        step = 10 ** (12 - width)
        if a // step == b // step:
            return d
    return 5
