"""Figures as people read them: the one path from a stored number to what a page, a spreadsheet
export or the API shows (ADR 0014).

Money is stored in fen (D4). A page, a sheet or an API field declares the unit it shows money in
(元, 万元 or 亿元); :func:`money` renders fen in that unit with fixed decimals and thousands
separators, :func:`money_cell` gives the exact amount for a spreadsheet cell together with the
number format that makes Excel show the same text. Counts and ratios go the same way.

>>> money(290_000_000, "万元")
'290.00'
>>> money(29_000_000_000, "万元")
'29,000.00'
>>> money(123_456, "元")
'1,234.56'
>>> money(None, "万元")
''
>>> count(12345)
'12,345'
>>> ratio(0.8567)
'85.7%'
>>> money_cell(290_000_000, "万元")
(Decimal('290'), '#,##0.00')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from xiezuo.core.tabular.values import MONEY_UNITS

__all__ = [
    "COUNT_FORMAT",
    "MONEY_FORMAT",
    "MONEY_PLACES",
    "MONEY_UNITS",
    "count",
    "count_cell",
    "declared_unit",
    "money",
    "money_amount",
    "money_cell",
    "ratio",
    "unit_label",
]

MONEY_PLACES = 2
"""Decimals shown for money in every unit (元 to the fen, 万元 and 亿元 as Chinese reports do)."""
MONEY_FORMAT = "#,##0.00"
"""The spreadsheet number format that shows a money cell as :func:`money` writes it."""
COUNT_FORMAT = "#,##0"
RATIO_PLACES = 1

_EN_UNITS = {"元": "yuan", "万元": "10k yuan", "亿元": "100m yuan"}


def money_amount(fen: int, unit: str) -> Decimal:
    """Fen as an exact amount in ``unit`` (no rounding: a sheet keeps every fen).

    >>> money_amount(12_345_678, "万元")
    Decimal('12.345678')
    """
    return Decimal(int(fen)) / 100 / MONEY_UNITS[unit]


def money(fen: int | None, unit: str, *, places: int = MONEY_PLACES) -> str:
    """Fen as text in ``unit``: fixed decimals (half up), thousands separators; "" for no value.

    >>> money(-5_000_000, "亿元", places=4)
    '-0.0005'
    >>> money(15, "万元")
    '0.00'
    """
    if fen is None:
        return ""
    amount = money_amount(fen, unit).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if amount == 0:
        amount = abs(amount)  # no "-0.00"
    return f"{amount:,.{places}f}"


def money_cell(fen: int | None, unit: str) -> tuple[Decimal | None, str]:
    """A spreadsheet cell for fen in ``unit``: the exact amount and the number format that
    displays it as :func:`money` does (the sheet shows the page's text and keeps every fen)."""
    return (None if fen is None else money_amount(fen, unit)), MONEY_FORMAT


def count(n: int | None) -> str:
    """A count with thousands separators; "" for no value."""
    return "" if n is None else f"{int(n):,}"


def count_cell(n: int | None) -> tuple[int | None, str]:
    return (None if n is None else int(n)), COUNT_FORMAT


def ratio(r: float | Decimal | None, *, places: int = RATIO_PLACES) -> str:
    """A ratio (0.857) as a percentage with fixed decimals; "" when there is none.

    >>> ratio(1)
    '100.0%'
    >>> ratio(None)
    ''
    """
    if r is None:
        return ""
    pct = (Decimal(str(r)) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{pct:,.{places}f}%"


def declared_unit(header: str, default: str = "元") -> str:
    """The money unit a header declares (金额（万元） → 万元), else ``default``.

    >>> declared_unit("到位金额（万元）"), declared_unit("月工资（元）"), declared_unit("金额", "万元")
    ('万元', '元', '万元')
    """
    for unit in ("亿元", "万元"):
        if unit in header:
            return unit
    return "元" if "元" in header else default


def unit_label(unit: str, language: str = "zh-hans") -> str:
    """The unit as the page names it: 万元, or "10k yuan" in English.

    >>> unit_label("万元", "en")
    '10k yuan'
    """
    if language.lower().startswith("zh"):
        return unit
    return _EN_UNITS.get(unit, unit)
