"""居民身份证号 (GB 11643-1999) checked a whole column at a time (DOMAIN.md §3, DESIGN.md §6).

:func:`validate_ids` takes the raw cell values of a column (``str`` from text cells, ``int`` or
``float`` from cells Excel turned into numbers, ``None``) and returns one row per value::

    normalised  str   the 18-character number (15-digit numbers converted); null unless ok
    ok          bool
    error       str   stable code (see MESSAGES_ZH), null when ok
    note        str   something done to the value that the clerk may want to know, or null
    birth       date  null unless ok
    sex         str   "1" male (odd sequence digit) / "2" female; null unless ok
    address     str   6-digit address code; null unless ok

Rules, in the order the first failing one becomes the error: empty → Excel damage
(``excel_rounded``) → characters → length → check character → birth date a real date → not before
1900 → not after ``as_of`` → address code known to python-stdnum's list (historical codes
included) or to ``extra_codes`` (pass :func:`known_address_codes`, our region table and code
history, which also has the counties created after stdnum's list).

The work is done by polars string expressions and numpy over an ``n × 18`` byte matrix; there is
no Python loop per row except NFKC normalisation of the few values that are not plain ASCII.

>>> import datetime as dt
>>> values = ["11010519491231002X", "110105491231002", "11010519491231002"]
>>> df = validate_ids(values, as_of=dt.date(2020, 1, 1))
>>> df.select("normalised", "error", "sex").rows()
[('11010519491231002X', None, '2'), ('11010519491231002X', None, '2'), (None, 'bad_length', None)]
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import polars as pl
import pyarrow as pa

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1900
# A column is called truncated as a whole when at least this share of at least this many
# non-empty values ends in 000 (a real column has about 1 in 1,000).
TRUNCATED_SHARE = 0.2
TRUNCATED_MIN_VALUES = 10

# Error codes in the order they are tested: the first that applies is reported.
ERRORS = (
    "empty",
    "excel_rounded",
    "bad_chars",
    "bad_length",
    "bad_checksum",
    "bad_birth_date",
    "early_birth_date",
    "future_birth_date",
    "unknown_address",
)
NOTES = ("converted_15", "excel_number_15_recovered")

MESSAGES_ZH: dict[str, str] = {
    "empty": "身份证号为空，请填写",
    "excel_rounded": (
        "身份证号被 Excel 存成了数字，最后几位已经丢失，无法恢复。"
        "请把这一列设为“文本”格式后重新录入，或使用系统提供的导入模板"
    ),
    "bad_chars": "身份证号含有无效字符：只能是数字，最后一位可以是 X",
    "bad_length": "身份证号位数不对：应为 18 位（老身份证为 15 位）",
    "bad_checksum": "身份证号校验位错误，请核对最后一位（也可能是其他某一位输错）",
    "bad_birth_date": "身份证号中的出生日期不存在（例如 2 月 30 日），请核对第 7 至 14 位",
    "early_birth_date": "身份证号中的出生年份早于 1900 年，请核对第 7 至 10 位",
    "future_birth_date": "身份证号中的出生日期晚于今天，请核对第 7 至 14 位",
    "unknown_address": "身份证号前 6 位的地区代码不存在，请核对前 6 位",
    "truncated_column": (
        "这一列有大量身份证号以 000 结尾，整列已被 Excel 截断。"
        "请把这一列设为“文本”格式后重新录入，或使用系统提供的导入模板"
    ),
    "converted_15": "15 位老身份证号已自动升级为 18 位",
    "excel_number_15_recovered": "15 位老身份证号被 Excel 存成了数字，已按原号恢复并升级为 18 位",
}
MESSAGES_EN: dict[str, str] = {
    "empty": "The ID number is empty",
    "excel_rounded": (
        "Excel stored this ID number as a number and dropped its last digits; it cannot be "
        "recovered. Set the column to text format and enter it again, or use the import template"
    ),
    "bad_chars": "The ID number contains invalid characters: digits only, the last may be X",
    "bad_length": "The ID number has the wrong length: 18 characters (old cards: 15 digits)",
    "bad_checksum": "The check character of the ID number is wrong; check the last character",
    "bad_birth_date": (
        "The birth date in the ID number does not exist (e.g. 30 February); check characters 7-14"
    ),
    "early_birth_date": "The birth year in the ID number is before 1900; check characters 7-10",
    "future_birth_date": "The birth date in the ID number is in the future; check characters 7-14",
    "unknown_address": "The address code (first 6 digits) of the ID number does not exist",
    "truncated_column": (
        "Many ID numbers in this column end in 000: Excel truncated the whole column. Set it to "
        "text format and enter the numbers again, or use the import template"
    ),
    "converted_15": "Old 15-digit ID number converted to 18 characters",
    "excel_number_15_recovered": (
        "Old 15-digit ID number stored by Excel as a number; recovered and converted to 18 characters"
    ),
}

_WEIGHTS = np.array(WEIGHTS, dtype=np.int32)
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_DUMMY18 = "0" * 18
# Removed anywhere in a value: whitespace (Unicode-aware, so U+3000 and U+00A0 too) and the
# invisible characters that ride along from web pages and Word.
_STRIP = r"[\s\x{200B}\x{200C}\x{200D}\x{2060}\x{FEFF}]"
_NUMERIC_DTYPES: tuple[type[pl.DataType], ...] = (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32)
_NUMERIC_DTYPES += (pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64, pl.Decimal)


# --- scalar helpers -----------------------------------------------------------------------------


def check_character(first17: str) -> str:
    """The check character for the first 17 digits.

    >>> check_character("11010519491231002")
    'X'
    """
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def to_18(old: str) -> str:
    """An old 15-digit number in its 18-character form: "19" before the year, check character after.

    >>> to_18("110105491231002")
    '11010519491231002X'
    """
    if len(old) != 15 or not old.isdigit():
        raise ValueError(f"not a 15-digit ID number: {old!r}")
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_character(first17)


# --- address codes --------------------------------------------------------------------------------


@functools.cache
def stdnum_address_codes() -> frozenset[int]:
    """Every 6-digit address code in python-stdnum's ``cn/loc`` list, current and historical.

    stdnum keeps years of use per code and rejects an ID whose code was not in use in the birth
    year; we accept any code that ever existed, because the address code records the place of
    first registration, which for people born before the 1985 card law is often decades later.
    """
    from stdnum import numdb

    codes: set[int] = set()
    for _length, low, high, _props, children in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _clen, clow, chigh, _cprops, _sub in children:
                codes.update(province * 10_000 + county for county in range(int(clow), int(chigh) + 1))
    return frozenset(codes)


@functools.cache
def _stdnum_table() -> np.ndarray:
    table = np.zeros(1_000_000, dtype=bool)
    table[np.fromiter(stdnum_address_codes(), dtype=np.int64)] = True
    table.flags.writeable = False
    return table


def _address_table(extra_codes: Iterable[int | str] | None) -> np.ndarray:
    base = _stdnum_table()
    if not extra_codes:
        return base
    extra = np.fromiter((int(c) for c in extra_codes), dtype=np.int64)
    extra = extra[(extra >= 0) & (extra < 1_000_000)]
    table = base.copy()
    table[extra] = True
    return table


def known_address_codes() -> frozenset[int]:
    """6-digit codes of our own region table (counties) and of the county code history (1981–).

    The one function here that touches the database; pass its result as ``extra_codes``.
    """
    from xiezuo.regions.models import CodeHistory, Region

    counties = {code // 10**6 for code in Region.objects.filter(level=3).values_list("code", flat=True)}
    history = set(CodeHistory.objects.values_list("code", flat=True))
    return frozenset(counties | history)


# --- the column validator -----------------------------------------------------------------------


def _nulls(name: str, n: int, dtype: type[pl.DataType]) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


def _split_input(values: pl.Series | Sequence[object]) -> tuple[pl.Series, pl.Series]:
    """Text cells and numeric cells as two aligned columns (String, Float64)."""
    if isinstance(values, pl.Series):
        n = values.len()
        if values.dtype == pl.String:
            return values.rename("text"), _nulls("num", n, pl.Float64)
        if values.dtype in _NUMERIC_DTYPES:
            return _nulls("text", n, pl.String), values.cast(pl.Float64).rename("num")
        if values.dtype == pl.Null:
            return values.cast(pl.String).rename("text"), values.cast(pl.Float64).rename("num")
        values = values.to_list()
    try:
        text = pl.Series("text", values, dtype=pl.String, strict=True)
        return text, _nulls("num", text.len(), pl.Float64)
    except (TypeError, OverflowError):
        pass
    # Mixed cells (a spreadsheet column): one pass to sort them by type.
    texts: list[str | None] = []
    nums: list[float | None] = []
    for v in values:
        if v is None or isinstance(v, str):
            texts.append(v)
            nums.append(None)
        elif isinstance(v, int | float | Decimal) and not isinstance(v, bool):
            texts.append(None)
            nums.append(float(v) if not isinstance(v, int) or abs(v) < 10**300 else float("inf"))
        else:
            texts.append(str(v))
            nums.append(None)
    return pl.Series("text", texts, dtype=pl.String), pl.Series("num", nums, dtype=pl.Float64)


def _nfkc(text: pl.Series) -> pl.Series:
    """NFKC for the values that are not plain ASCII (full-width digits, ｘ, U+3000)."""
    wide = text.str.contains(r"[^\x00-\x7F]").fill_null(False)
    if not wide.any():
        return text
    originals = text.filter(wide).unique().to_list()
    mapping = {s: unicodedata.normalize("NFKC", s) for s in originals}
    return (
        pl.select(pl.when(pl.lit(wide)).then(pl.lit(text).replace(mapping)).otherwise(pl.lit(text)))
        .to_series()
        .alias(text.name)
    )


def _normalised(column: pl.Expr) -> pl.Expr:
    """The character clean-up after NFKC: no whitespace anywhere, ×/x → X, no leading apostrophe."""
    return (
        column.str.replace_all(_STRIP, "")
        .str.replace_all("×", "X", literal=True)
        .str.replace_all("x", "X", literal=True)
        .str.strip_prefix("'")
    )


def normalise_text(text: pl.Series) -> pl.Series:
    """NFKC, ×/x → X, no whitespace anywhere, no leading apostrophe (Excel's text marker).

    >>> values = pl.Series(["１１０１０５ １９４９１２３１００２ｘ", " 1101051949123100２×", "'110105"])
    >>> normalise_text(values).to_list()
    ['11010519491231002X', '11010519491231002X', '110105']
    """
    return pl.select(_normalised(pl.lit(_nfkc(text)))).to_series().alias(text.name)


def _byte_matrix(column: pl.Series, width: int) -> np.ndarray:
    """An ``n × width`` uint8 view of a String column whose values are all ``width`` ASCII bytes."""
    arr = column.rechunk().to_arrow()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    start = int(offsets[0])
    if int(offsets[-1]) - start != width * len(arr):
        raise ValueError("values are not all of the same width")
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=width * len(arr), offset=start)
    return data.reshape(len(arr), width)


def _days_since_epoch(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid proleptic Gregorian dates (H. Hinnant's days_from_civil)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _prepare(text: pl.Series, num: pl.Series) -> pl.DataFrame:
    """Normalised text, numeric recovery and the shape of each value, in one polars query."""
    txt, val = pl.col("text"), pl.col("num")
    integral = val.is_finite().fill_null(False) & (val == val.floor()).fill_null(False)
    clean = pl.col("clean")
    cand = pl.col("cand")
    return (
        pl.DataFrame([_nfkc(text), num])
        .lazy()
        .with_columns(
            clean=_normalised(txt),
            num_15=(integral & (val >= 1e14) & (val < 1e15)).fill_null(False),
            # 16 to 18 digits: an 18-digit ID that Excel rounded to 15 significant digits
            num_rounded=(integral & (val >= 1e15) & (val < 1e18)).fill_null(False),
            num_integral=integral,
        )
        .with_columns(
            # Numbers written out as text by a CSV export: "5.13431199001011E+17", "513431199001011000.0"
            text_rounded=clean.str.contains(r"^\d(\.\d+)?E\+?\d+$|^\d{16,18}\.0*$").fill_null(False),
            text_15_from_num=clean.str.contains(r"^\d{15}\.0*$").fill_null(False),
            num_other=val.is_not_null() & ~pl.col("num_15") & ~pl.col("num_rounded"),
            cand=pl.coalesce(
                clean.str.replace(r"^(\d{15})\.0*$", "$1"),
                pl.when(pl.col("num_15")).then(val.cast(pl.Int64).cast(pl.String)),
            ),
        )
        .with_columns(
            is15=cand.str.contains(r"^\d{15}$").fill_null(False),
            is18=cand.str.contains(r"^\d{17}[\dX]$").fill_null(False),
            id_chars=cand.str.contains(r"^[\dX]+$").fill_null(False),
            digits_then_x=cand.str.contains(r"^\d+X?$").fill_null(False),
            empty=(cand.is_null() | (cand == "")) & val.is_null(),
        )
        .with_columns(
            full=pl.when("is18")
            .then(cand)
            .when("is15")
            .then(cand.str.slice(0, 6) + "19" + cand.str.slice(6, 9) + "0")
            .otherwise(pl.lit(_DUMMY18)),
            rounded=pl.col("num_rounded") | pl.col("text_rounded"),
            # codes of NOTES, counted from 1
            note=pl.when(pl.col("num_15") | pl.col("text_15_from_num"))
            .then(pl.lit(2, dtype=pl.Int8))
            .when("is15")
            .then(pl.lit(1, dtype=pl.Int8))
            .otherwise(pl.lit(0, dtype=pl.Int8)),
        )
        .collect()
    )


def _string_column(m: np.ndarray) -> pl.Series:
    """A String column from an ``n × width`` ASCII byte matrix, without a Python loop."""
    n, width = m.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(m).tobytes())
    )
    series = pl.from_arrow(arr)
    assert isinstance(series, pl.Series)
    return series


def _plain_rows(m: np.ndarray) -> np.ndarray:
    """Rows of an ``n × 18`` byte matrix that are already a well-formed 18-character number."""
    body = m[:, :17]
    last = m[:, 17]
    return ((body >= 48) & (body <= 57)).all(axis=1) & (((last >= 48) & (last <= 57)) | (last == 88))


def validate_ids(
    values: pl.Series | Sequence[object],
    *,
    as_of: dt.date | None = None,
    extra_codes: Iterable[int | str] | None = None,
) -> pl.DataFrame:
    """Check a column of ID numbers; see the module docstring for the columns returned.

    ``as_of`` is the day a birth date may not be after (default today); ``extra_codes`` are 6-digit
    address codes accepted besides stdnum's list (usually :func:`known_address_codes`).
    """
    as_of = as_of or dt.date.today()
    text, num = _split_input(values)
    n = text.len()

    # Fast path: values that are already 18 plain characters need no clean-up. The rest (usually
    # few) go through NFKC and the regular expressions; their results are scattered back.
    eighteen = (text.str.len_bytes() == 18).fill_null(False)
    m = _byte_matrix(
        pl.select(pl.when(pl.lit(eighteen)).then(pl.lit(text)).otherwise(pl.lit(_DUMMY18))).to_series(), 18
    )
    m = m.copy()  # writable: the rows of the slow path are filled in below
    plain = eighteen.to_numpy() & _plain_rows(m)
    slow = np.flatnonzero(~plain)
    prep = _prepare(text.gather(slow), num.gather(slow)) if slow.size else pl.DataFrame()

    def flag(name: str, default: bool) -> np.ndarray:
        out = np.full(n, default)
        if slow.size:
            out[slow] = prep[name].to_numpy()
        return out

    if slow.size:
        m[slow] = _byte_matrix(prep["full"], 18)
    note = np.zeros(n, dtype=np.int8)
    if slow.size:
        note[slow] = prep["note"].to_numpy()
    is15 = flag("is15", False)
    well_formed = is15 | flag("is18", True)
    num_other = flag("num_other", False)

    digits = m[:, :17] - np.uint8(48)
    remainder = (digits @ _WEIGHTS) % 11
    expected = _CHECK_BYTES[remainder]
    checksum_ok = is15 | (m[:, 17] == expected)
    m[:, 17] = expected  # the 15-digit numbers get their check character; others already have it
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1], dtype=np.int32)
    month = digits[:, 10:12] @ np.array([10, 1], dtype=np.int32)
    day = digits[:, 12:14] @ np.array([10, 1], dtype=np.int32)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    month_days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    date_ok = month_ok & (day >= 1) & (day <= month_days)
    birth = _days_since_epoch(year.astype(np.int64), np.where(date_ok, month, 1), np.where(date_ok, day, 1))
    address = digits[:, :6] @ np.array([100_000, 10_000, 1000, 100, 10, 1], dtype=np.int32)

    code = np.select(
        [
            flag("empty", False),
            flag("rounded", False),
            num_other & ~flag("num_integral", False),
            num_other,
            ~flag("id_chars", True),
            ~well_formed & flag("digits_then_x", True),
            ~well_formed,
            ~checksum_ok,
            ~date_ok,
            year < EARLIEST_BIRTH_YEAR,
            birth > (as_of - dt.date(1970, 1, 1)).days,
            ~_address_table(extra_codes)[address],
        ],
        [1, 2, 3, 4, 3, 4, 3, 5, 6, 7, 8, 9],
        default=0,
    ).astype(np.int8)
    ok = pl.col("ok")
    return (
        pl.DataFrame(
            [
                _string_column(m).alias("id"),
                pl.Series("code", code),
                pl.Series("note_code", note),
                pl.Series("male", (digits[:, 16] & 1).astype(bool)),
                pl.Series("days", birth.astype(np.int32)),
            ]
        )
        .lazy()
        .with_columns(ok=pl.col("code") == 0)
        .select(
            normalised=pl.when(ok).then(pl.col("id")),
            ok=ok,
            error=pl.col("code").replace_strict(
                dict(enumerate(ERRORS, 1)), default=None, return_dtype=pl.String
            ),
            note=pl.col("note_code").replace_strict(
                dict(enumerate(NOTES, 1)), default=None, return_dtype=pl.String
            ),
            birth=pl.when(ok).then(pl.col("days").cast(pl.Date)),
            sex=pl.when(ok).then(pl.when(pl.col("male")).then(pl.lit("1")).otherwise(pl.lit("2"))),
            address=pl.when(ok).then(pl.col("id").str.slice(0, 6)),
        )
        .collect()
    )


def truncated_column(
    values: pl.Series | Sequence[object],
    *,
    share: float = TRUNCATED_SHARE,
    min_values: int = TRUNCATED_MIN_VALUES,
) -> bool:
    """True when Excel truncated the whole column: many values end in 000 (or are long numbers).

    >>> truncated_column(["513431199001011000"] * 3 + ["11010519491231002X"] * 7)
    True
    >>> truncated_column(["513431199001011000"] * 3)
    False
    """
    text, num = _split_input(values)
    clean = normalise_text(text)
    present = (clean.is_not_null() & (clean != "")).fill_null(False) | num.is_not_null()
    total = int(present.sum())
    if total < min_values:
        return False
    zeros = clean.str.ends_with("000").fill_null(False) | (num >= 1e15).fill_null(False)
    return int(zeros.sum()) >= share * total


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The result for one value (a form field); the same fields as a row of :func:`validate_ids`."""

    normalised: str | None
    ok: bool
    error: str | None
    note: str | None
    birth: dt.date | None
    sex: str | None
    address: str | None

    @property
    def message_zh(self) -> str | None:
        return MESSAGES_ZH[self.error] if self.error else None


def validate_id(
    value: object, *, as_of: dt.date | None = None, extra_codes: Iterable[int | str] | None = None
) -> IdCheck:
    """One value through :func:`validate_ids`.

    >>> validate_id("１１０１０５１９４９１２３１００２ｘ", as_of=dt.date(2020, 1, 1)).normalised
    '11010519491231002X'
    >>> validate_id("11010519491231002", as_of=dt.date(2020, 1, 1)).message_zh
    '身份证号位数不对：应为 18 位（老身份证为 15 位）'
    """
    row = validate_ids([value], as_of=as_of, extra_codes=extra_codes).row(0, named=True)
    return IdCheck(**row)
