"""Cell value parsers: pure functions from a spreadsheet cell to a Python value (no Django).

Each parser takes the cell as a reader gives it (``str`` from CSV; ``int``, ``float``, ``date``,
``datetime`` or ``str`` from Excel and Parquet) and returns the value or raises :class:`Invalid`
with a code and a message a county clerk understands.

>>> parse_money("3,456.78", unit="元")
345678
>>> parse_money("1.2", unit="万元")
1200000
>>> parse_date("2019年3月5日")
datetime.date(2019, 3, 5)
>>> parse_date("201903")
MonthDate(2019, 3, 1)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "BLANKS",
    "MONEY_UNITS",
    "Invalid",
    "MonthDate",
    "clean_name",
    "clean_text",
    "excel_serial_to_date",
    "is_blank",
    "normalise_digits",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_int",
    "parse_money",
    "parse_year",
]


class Invalid(ValueError):
    """A cell that cannot be read; ``message_zh`` is shown to the clerk."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


class MonthDate(dt.date):
    """A date known to the month only (``201903``, ``2019年3月``): the first of the month.

    It equals and sorts as the plain date; ``precision`` says what the cell gave.
    """

    precision = "month"

    def __repr__(self) -> str:
        return f"MonthDate({self.year}, {self.month}, {self.day})"


# Values clerks write for "nothing here"; compared after stripping and lower-casing.
BLANKS = frozenset(
    {"", "—", "——", "–", "－", "-", "--", "/", "／", "\\", "无", "空", "n/a", "na", "#n/a", "null", "none"}
)

_LONGEST_BLANK = max(len(b) for b in BLANKS)

MONEY_UNITS: dict[str, int] = {"元": 1, "万元": 10_000, "亿元": 100_000_000}

# Full-width ASCII (digits, letters, signs) and the ideographic space; Chinese punctuation such as
# （）、，：is left alone here (text keeps it), number parsers handle their own separators.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_ALNUM_FULLWIDTH = {cp: v for cp, v in _FULLWIDTH.items() if chr(v).isalnum() or v == 0x20}
_NAME_DOTS = str.maketrans({c: "·" for c in "•・‧∙⋅●．."})
_CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_WS = re.compile(r"\s+")


def normalise_digits(text: str) -> str:
    """Full-width letters, digits and signs to ASCII (NFKC on those only).

    >>> normalise_digits("２０１９年")
    '2019年'
    """
    return text.translate(_FULLWIDTH)


def is_blank(value: object) -> bool:
    """None, empty or one of the blank markers (—, /, 无, N/A …).

    >>> [is_blank(v) for v in (None, " ", "—", "无", "0", 0)]
    [True, True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _LONGEST_BLANK:
            return False
        return text in BLANKS or text.translate(_FULLWIDTH).lower() in BLANKS
    return False


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def clean_text(value: object) -> str | None:
    """Text: stripped, runs of white space collapsed, full-width letters/digits to ASCII.

    >>> clean_text("  示例村\\n 三组 ")
    '示例村 三组'
    >>> clean_text("Ａ１（一组）")
    'A1（一组）'
    """
    if is_blank(value):
        return None
    text = _cell_text(value).translate(_ALNUM_FULLWIDTH)
    return _WS.sub(" ", text).strip() or None


def clean_name(value: object) -> str | None:
    """A person's name: text, separator dots unified to ``·``, padding spaces between characters removed.

    >>> clean_name("样例•热合曼")
    '样例·热合曼'
    >>> clean_name("张  三")
    '张三'
    """
    text = clean_text(value)
    if text is None:
        return None
    text = _SPACE_BETWEEN_CJK.sub("", text.translate(_NAME_DOTS))
    return re.sub(r"\s*·\s*", "·", text)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _number_text(value: str) -> str:
    text = normalise_digits(value).strip().replace("，", ",").replace("。", ".")
    text = text.replace(" ", "").replace("\u00a0", "")
    if "," in text:
        if not _GROUPED.match(text):
            raise Invalid(
                "number", f"「{value}」不是有效的数字（千分位写法有误）", f"{value!r}: bad grouping"
            )
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise Invalid("number", f"「{value}」不是有效的数字", f"{value!r} is not a number")
    return text


def parse_decimal(value: object) -> Decimal | None:
    """A decimal number; floats from Excel are read at Excel's 15 significant digits.

    >>> parse_decimal("1，234.5")
    Decimal('1234.5')
    >>> parse_decimal(0.1 + 0.2)
    Decimal('0.3')
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise Invalid("number", f"「{value}」不是有效的数字", f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Invalid("number", "不是有效的数字", "not a number")
        return Decimal(format(value, ".15g"))
    if isinstance(value, Decimal):
        if not value.is_finite():  # a Parquet decimal or an API value: NaN and infinity are no amounts
            raise Invalid("number", "不是有效的数字", "not a number")
        return value
    if not isinstance(value, str):
        raise Invalid("number", f"「{value}」不是有效的数字", f"{value!r} is not a number")
    try:
        return Decimal(_number_text(value))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid literals
        raise Invalid("number", f"「{value}」不是有效的数字", f"{value!r} is not a number") from exc


def parse_int(value: object) -> int | None:
    """A whole number.

    >>> parse_int("１,234")
    1234
    >>> parse_int(3.0)
    3
    """
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise Invalid("integer", f"「{value}」应为整数", f"{value!r} is not a whole number")
    return int(number)


_MONEY_SUFFIX = re.compile(r"^(?P<num>.*?)\s*(?P<unit>万元|亿元|元|万|亿)$")
_CURRENCY = re.compile(r"^[¥￥]\s*")


def parse_money(value: object, *, unit: str = "元") -> int | None:
    """An amount in ``unit`` (元, 万元, 亿元) to integer fen (DESIGN.md D4); sub-fen precision is refused.

    A unit written in the cell itself ("1.2万元", "500元") overrides the column's unit.

    >>> parse_money("1.5", unit="亿元")
    15000000000
    >>> parse_money("1.234", unit="元")
    Traceback (most recent call last):
    ...
    xiezuo.core.tabular.values.Invalid: '1.234' 元 is more precise than a fen
    """
    if unit not in MONEY_UNITS:
        raise ValueError(f"unknown money unit {unit!r}")
    if isinstance(value, str) and not is_blank(value):
        text = _CURRENCY.sub("", normalise_digits(value).strip())
        m = _MONEY_SUFFIX.match(text)
        if m:
            text, unit = m["num"], m["unit"] if m["unit"].endswith("元") else m["unit"] + "元"
        value = text
    amount = parse_decimal(value)
    if amount is None:
        return None
    fen = amount * MONEY_UNITS[unit] * 100
    if fen != fen.to_integral_value():
        raise Invalid(
            "sub_fen",
            f"金额「{value}」{unit}精确到了分以下，请核对单位和小数位",
            f"{value!r} {unit} is more precise than a fen",
        )
    return int(fen)


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2_958_465  # 9999-12-31


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's 1900 date system, with its phantom 1900-02-29 (serial 60).

    >>> excel_serial_to_date(43529)
    datetime.date(2019, 3, 5)
    >>> excel_serial_to_date(59), excel_serial_to_date(61)
    (datetime.date(1900, 2, 28), datetime.date(1900, 3, 1))
    """
    days = int(serial)
    if days < 1 or days > _MAX_SERIAL:
        raise Invalid("date", f"「{serial}」不是有效的日期", f"{serial!r} is not a date")
    if days == 60:
        raise Invalid("date", "1900年2月29日不存在", "1900-02-29 does not exist")
    if days < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=days)
    return _EXCEL_EPOCH + dt.timedelta(days=days)


_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DAY_PATTERNS = (
    re.compile(rf"^(\d{{4}})\s*[.\-/年]\s*(\d{{1,2}})\s*[.\-/月]\s*(\d{{1,2}})\s*[日号]?{_TIME}$"),
    re.compile(rf"^(\d{{4}})(\d{{2}})(\d{{2}}){_TIME}$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*月?(?:份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_YEAR_ONLY = re.compile(r"^(\d{4})\s*年?(?:度)?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
MIN_YEAR, MAX_YEAR = 1900, 2100


def _make_date(y: int, m: int, d: int, text: object, *, month: bool = False) -> dt.date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise Invalid("date", f"「{text}」的年份超出范围", f"{text!r}: year out of range")
    try:
        return MonthDate(y, m, 1) if month else dt.date(y, m, d)
    except ValueError as exc:
        raise Invalid("date", f"「{text}」不是存在的日期", f"{text!r} is not an existing date") from exc


def _date_from_number(value: float, original: object) -> dt.date:
    if not math.isfinite(value):  # a Parquet double column can hold NaN and infinity
        raise Invalid("date", f"「{value}」不是有效的日期", f"{value!r} is not a date")
    if not float(value).is_integer():
        if MIN_YEAR <= value <= MAX_YEAR:
            # 2019.3 typed into Excel became a number: 2019.1 and 2019.10 are the same number.
            raise Invalid(
                "date_number",
                f"日期「{value}」被Excel存成了数字，无法区分如2019.1和2019.10，请设为文本格式后重填",
                f"date {value!r} was stored as a number; 2019.1 and 2019.10 cannot be told apart",
            )
        return excel_serial_to_date(value)
    n = int(value)
    if 19_000_101 <= n <= 21_001_231:
        return _make_date(n // 10_000, n // 100 % 100, n % 100, original)
    if 190_001 <= n <= 210_012:
        return _make_date(n // 100, n % 100, 1, original, month=True)
    if MIN_YEAR <= n <= MAX_YEAR:
        raise Invalid("date_year_only", f"「{n}」只有年份，请填写完整日期", f"{n} is a year, not a date")
    return excel_serial_to_date(n)


def parse_date(value: object, *, month_ok: bool = True) -> dt.date | None:
    """A date from the ways clerks write one; year+month alone gives a :class:`MonthDate`.

    >>> {parse_date(v) for v in ("2019.3.5", "2019/3/5", "2019年3月5日", "20190305", 43529)}
    {datetime.date(2019, 3, 5)}
    """
    if is_blank(value):
        return None
    result: dt.date
    if isinstance(value, dt.datetime):
        result = value.date()
    elif isinstance(value, dt.date):
        result = value
    elif isinstance(value, bool):
        raise Invalid("date", f"「{value}」不是有效的日期", f"{value!r} is not a date")
    elif isinstance(value, int | float):
        result = _date_from_number(value, value)
    elif isinstance(value, str):
        text = normalise_digits(value).strip()
        for pattern in _DAY_PATTERNS:
            if m := pattern.match(text):
                result = _make_date(int(m[1]), int(m[2]), int(m[3]), value)
                break
        else:
            for pattern in _MONTH_PATTERNS:
                if m := pattern.match(text):
                    result = _make_date(int(m[1]), int(m[2]), 1, value, month=True)
                    break
            else:
                if _YEAR_ONLY.match(text):
                    raise Invalid(
                        "date_year_only",
                        f"「{value}」只有年份，请填写完整日期",
                        f"{value!r} is a year, not a date",
                    )
                if _SERIAL.match(text):
                    result = excel_serial_to_date(float(text))
                else:
                    raise Invalid(
                        "date",
                        f"「{value}」不是有效的日期，请写成2019-03-05或2019年3月5日",
                        f"{value!r} is not a date",
                    )
    else:
        raise Invalid("date", f"「{value}」不是有效的日期", f"{value!r} is not a date")
    if isinstance(result, MonthDate) and not month_ok:
        raise Invalid("date_month_only", f"「{value}」缺少日，请填写完整日期", f"{value!r} has no day")
    return result


def parse_year(value: object) -> int | None:
    """A year: 2019, "2019", "2019年", "２０１９年度".

    >>> parse_year("２０１９年"), parse_year(2019.0)
    (2019, 2019)
    """
    if is_blank(value):
        return None
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and (m := _YEAR_ONLY.match(normalise_digits(value).strip())):
        year = int(m[1])
    else:
        raise Invalid("year", f"「{value}」不是有效的年份，请填写四位年份如2019", f"{value!r} is not a year")
    if not float(year).is_integer() or not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid("year", f"「{value}」不是有效的年份，请填写四位年份如2019", f"{value!r} is not a year")
    return int(year)


_TRUE = frozenset({"是", "有", "√", "✓", "✔", "对", "y", "yes", "true", "1", "t"})
_FALSE = frozenset({"否", "无", "×", "✗", "✘", "x", "错", "n", "no", "false", "0", "f", "没有"})


def parse_bool(value: object) -> bool | None:
    """是/否, 有/无, √/×.

    >>> [parse_bool(v) for v in ("是", "无", "√", "×", "", 1)]
    [True, False, True, False, None, True]
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = normalise_digits(_cell_text(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if is_blank(value):
        return None
    raise Invalid("boolean", f"「{value}」应填“是”或“否”", f"{value!r} is not yes or no")
