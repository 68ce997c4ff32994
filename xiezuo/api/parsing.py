"""Parsing of query values and body references; bad input raises ValidationError (→ 400)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from xiezuo.core.codelists import lookup
from xiezuo.regions.models import LEVEL_DIGITS, Region, full_code
from xiezuo.regions.rules import level_of_short

LEVEL_NAMES = {"province": 1, "prefecture": 2, "county": 3, "township": 4, "village": 5}


def bad(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def parse_level(value: str, field: str = "level") -> int:
    """``3`` or ``county`` → 3.

    >>> parse_level("3"), parse_level("Village")
    (3, 5)
    """
    text = value.strip().lower()
    if text in LEVEL_NAMES:
        return LEVEL_NAMES[text]
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    raise bad(field, _("A level is 1 to 5 or province, prefecture, county, township, village."))


def parse_region_code(value: str, field: str) -> tuple[int, int | None]:
    """A 2/4/6/9/12-digit code → (12-digit code, level or None when 12 digits leave it open).

    >>> parse_region_code("5227", "region"), parse_region_code("522700000000", "region")
    ((522700000000, 2), (522700000000, None))
    """
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) not in LEVEL_DIGITS.values():
        raise bad(field, _("A region code has 2, 4, 6, 9 or 12 digits."))
    return full_code(text), (None if len(text) == 12 else level_of_short(text))


def find_region(value: str, field: str) -> Region | None:
    """The region of a code, or None; a 12-digit code names the highest node with that code."""
    code, level = parse_region_code(value, field)
    qs = Region.objects.select_related("parent").filter(code=code)
    if level is not None:
        qs = qs.filter(level=level)
    return qs.order_by("level").first()


def region_or_error(value: str, field: str) -> Region:
    region = find_region(value, field)
    if region is None:
        raise bad(field, _("Unknown region code: {value}").format(value=value))
    return region


def code_or_error(list_key: str, value: str, field: str) -> str:
    entry = lookup(list_key, value)
    if entry is None:
        raise bad(field, _("Unknown code: {value}").format(value=value))
    return entry.code
