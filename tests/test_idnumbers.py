"""居民身份证号 validation (DOMAIN.md §3): pure, table-driven; one database test for the code set."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from stdnum.cn import ric

from xiezuo.registry.idnumbers import (
    ERRORS,
    MESSAGES_EN,
    MESSAGES_ZH,
    NOTES,
    check_character,
    known_address_codes,
    stdnum_address_codes,
    to_18,
    truncated_column,
    validate_id,
    validate_ids,
)

AS_OF = dt.date(2026, 11, 22)
STANDARD = "11010519491231002X"  # the standard's example: 北京朝阳, 1949-12-31, female

# (raw cell value, error, note, normalised)
CASES: list[tuple[object, str | None, str | None, str | None]] = [
    (STANDARD, None, None, STANDARD),
    ("11010519491231002x", None, None, STANDARD),  # lowercase x
    ("11010519491231002×", None, None, STANDARD),  # multiplication sign for X
    ("11010519491231002ｘ", None, None, STANDARD),  # full-width x
    ("１１０１０５１９４９１２３１００２Ｘ", None, None, STANDARD),  # full-width digits
    (" 110105 19491231\u3000002X\t", None, None, STANDARD),  # spaces inside, ideographic space
    ("'11010519491231002X", None, None, STANDARD),  # Excel's text marker in a CSV
    ("110105491231002", None, "converted_15", STANDARD),
    (110105491231002, None, "excel_number_15_recovered", STANDARD),  # int cell
    (110105491231002.0, None, "excel_number_15_recovered", STANDARD),  # float cell
    ("110105491231002.0", None, "excel_number_15_recovered", STANDARD),  # a number written out by CSV
    (5.13431199001011e17, "excel_rounded", None, None),  # what Excel keeps of 513431199001011239
    (513431199001011239, "excel_rounded", None, None),  # even an exact 18-digit int is not trusted
    ("5.13431199001011E+17", "excel_rounded", None, None),
    ("513431199001011000.0", "excel_rounded", None, None),
    (None, "empty", None, None),
    ("", "empty", None, None),
    ("\u3000 ", "empty", None, None),
    ("51343119900101123", "bad_length", None, None),  # 17 digits
    ("5134311990010112390", "bad_length", None, None),
    (12345, "bad_length", None, None),
    ("51343119900101123A", "bad_chars", None, None),
    ("5134311990010112X9", "bad_chars", None, None),  # X not last
    ("513431-19900101-1239", "bad_chars", None, None),
    (110105491231002.5, "bad_chars", None, None),
    ("513431199001011238", "bad_checksum", None, None),
    ("513431199002301238", "bad_birth_date", None, None),  # 30 February, check character right
    ("513431199013011236", "bad_birth_date", None, None),  # month 13
    ("513431203001011238", "future_birth_date", None, None),
    ("440524188001010014", "early_birth_date", None, None),  # see test_440524
    ("410000199001011236", None, None, "410000199001011236"),  # province code: in stdnum's list
    ("13017119900101123X", "unknown_address", None, None),  # a development zone; stdnum lacks it
]


@pytest.mark.parametrize(("raw", "error", "note", "normalised"), CASES, ids=[repr(c[0]) for c in CASES])
def test_single_values(raw: object, error: str | None, note: str | None, normalised: str | None) -> None:
    result = validate_id(raw, as_of=AS_OF)
    assert (result.error, result.note, result.normalised, result.ok) == (
        error,
        note,
        normalised,
        error is None,
    )


def test_whole_column_gives_the_same_rows_as_single_values() -> None:
    df = validate_ids([c[0] for c in CASES], as_of=AS_OF)
    assert df.columns == ["normalised", "ok", "error", "note", "birth", "sex", "address"]
    assert df.select("error", "note", "normalised").rows() == [(c[1], c[2], c[3]) for c in CASES]


def test_parts_of_a_valid_number() -> None:
    df = validate_ids([STANDARD, "513431199001011239", "513431199002301238"], as_of=AS_OF)
    assert df.select("birth", "sex", "address").rows() == [
        (dt.date(1949, 12, 31), "2", "110105"),  # sequence 002: even, female
        (dt.date(1990, 1, 1), "1", "513431"),  # sequence 123: odd, male
        (None, None, None),  # parts only for valid numbers
    ]


def test_input_as_polars_series() -> None:
    assert validate_ids(pl.Series([STANDARD, None]), as_of=AS_OF)["ok"].to_list() == [True, False]
    numbers = validate_ids(pl.Series([110105491231002, 513431199001011239]), as_of=AS_OF)
    assert numbers.select("normalised", "error").rows() == [(STANDARD, None), (None, "excel_rounded")]
    assert validate_ids(pl.Series([], dtype=pl.String)).height == 0


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("51343119900101123", "9"), ("44052418800101001", "4")],
)
def test_check_character(first17: str, check: str) -> None:
    assert check_character(first17) == check
    assert ric.calc_check_digit(first17 + check) == check  # stdnum agrees


def test_15_to_18() -> None:
    """110105491231002 → insert 19 before the year: 11010519491231002.

    S = 1·7 + 1·9 + 0·10 + 1·5 + 0·8 + 5·4 + 1·2 + 9·1 + 4·6 + 9·3 + 1·7 + 2·9 + 3·10 + 1·5 + 0·8 + 0·4 + 2·2
      = 7 + 9 + 0 + 5 + 0 + 20 + 2 + 9 + 24 + 27 + 7 + 18 + 30 + 5 + 0 + 0 + 4 = 167;
    167 mod 11 = 2 and "10X98765432"[2] = "X", so the number is 11010519491231002X.
    """
    assert to_18("110105491231002") == "11010519491231002X"
    with pytest.raises(ValueError):
        to_18("11010549123100")


def test_future_birth_date_depends_on_as_of() -> None:
    tomorrow = "513431202611231233"  # born 2026-11-23
    assert ric.calc_check_digit(tomorrow) == tomorrow[-1]
    assert validate_id(tomorrow, as_of=dt.date(2026, 11, 22)).error == "future_birth_date"
    assert validate_id(tomorrow, as_of=dt.date(2026, 11, 23)).ok


def test_440524() -> None:
    """DOMAIN.md says 440524188001010014 has a correct check character but an address code "no
    list knows". The data says otherwise: 440524 is 潮阳县 (汕头), in use 1983-1993, and both
    python-stdnum's list and our code history have it. stdnum rejects the number because the code
    was not in use in the birth year 1880; we reject it because a birth year before 1900 is not
    plausible for a living person."""
    number = "440524188001010014"
    assert ric.calc_check_digit(number) == "4"
    assert 440524 in stdnum_address_codes()
    assert not ric.is_valid(number)
    assert validate_id(number, as_of=AS_OF).error == "early_birth_date"
    # the same person born in 1990 would pass (the code is a valid historical code)
    assert validate_id("44052419900101123X", as_of=AS_OF).ok


NEW_COUNTIES = [
    ("513402199001011237", 513402),  # 会理市 (2021)
    ("520581199001011245", 520581),  # 黔西市 (2021)
    ("540481199001011235", 540481),  # 米林市 (2023)
]


@pytest.mark.parametrize(("number", "code"), NEW_COUNTIES)
def test_new_county_codes(number: str, code: int) -> None:
    """python-stdnum 2.2's list has these codes (DOMAIN.md was written against an older list), but
    with their year of creation, so stdnum rejects anyone born before it. We accept them, from
    stdnum's list or from our own codes."""
    assert code in stdnum_address_codes()
    assert not ric.is_valid(number)
    assert validate_id(number, as_of=AS_OF).ok
    assert validate_id(number, as_of=AS_OF, extra_codes={code}).ok


def test_extra_codes_add_to_stdnum_list() -> None:
    number = "13017119900101123X"  # 石家庄高新技术产业开发区: a statistical zone stdnum does not list
    assert 130171 not in stdnum_address_codes()
    assert validate_id(number, as_of=AS_OF).error == "unknown_address"
    assert validate_id(number, as_of=AS_OF, extra_codes=[130171]).ok
    assert validate_id(number, as_of=AS_OF, extra_codes=["130171"]).ok


@pytest.mark.parametrize(
    ("values", "truncated"),
    [
        (["513431199001011000"] * 2 + [STANDARD] * 8, True),  # 20 % end in 000
        (["513431199001011000"] * 1 + [STANDARD] * 9, False),  # 10 %
        ([5.13431199001011e17] * 2 + [STANDARD] * 8, True),  # long numbers count as truncated
        (["513431199001011000"] * 9, False),  # fewer than 10 values: no verdict
        (["513431199001011000"] * 3 + [None, ""] * 20 + [STANDARD] * 7, True),  # empties ignored
        ([], False),
    ],
)
def test_truncated_column(values: list[object], truncated: bool) -> None:
    assert truncated_column(values) is truncated


def test_every_code_has_messages() -> None:
    codes = {*ERRORS, *NOTES, "truncated_column"}
    assert set(MESSAGES_ZH) == codes
    assert set(MESSAGES_EN) == codes
    assert MESSAGES_ZH["bad_checksum"].startswith("身份证号校验位错误")
    assert "文本" in MESSAGES_ZH["excel_rounded"]
    assert validate_id("513431199001011238", as_of=AS_OF).message_zh == MESSAGES_ZH["bad_checksum"]


def test_many_rows_agree_with_stdnum() -> None:
    """A small bench/idnumbers.py: same verdict as stdnum for codes it lists without years of use."""
    bodies = [
        f"{code}{1950 + seq % 60}0{1 + seq % 9}1{seq % 10}{seq:03d}"
        for code in (513431, 110105)
        for seq in range(500)
    ]
    values = [body + (check_character(body) if seq % 3 else "0") for seq, body in enumerate(bodies)]
    assert validate_ids(values, as_of=AS_OF)["ok"].to_list() == [ric.is_valid(v) for v in values]


@pytest.mark.django_db
def test_known_address_codes_from_our_tables() -> None:
    codes = known_address_codes()
    for code in (513402, 520581, 540481, 513431, 110105, 440524, 130171):
        assert code in codes, code
    assert all(0 < c < 1_000_000 for c in codes)
    # codes of our history that stdnum lacks make numbers valid
    assert validate_id("13017119900101123X", as_of=AS_OF, extra_codes=codes).ok
