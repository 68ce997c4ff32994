"""Record-level rules of the consumption assistance ledger (pure except for the code list lookup).

>>> purchase_errors({"year": 2019, "amount_fen": 0})
[('amount_fen', '采购金额应大于0', 'the amount must be above zero')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

Error = tuple[str, str, str]

PLATFORM_CHANNELS = frozenset({"ecommerce", "platform_832"})
"""Channels whose sales a platform can evidence (its order numbers)."""


def channel_years(channel: str) -> tuple[int | None, int | None]:
    """The years a channel existed, from the code list (the 832 platform opened in 2020)."""
    from xiezuo.core import codelists

    entry = codelists.lookup("purchase_channel", channel)
    return (entry.valid_from, entry.valid_to) if entry is not None else (None, None)


def purchase_errors(values: Mapping[str, Any]) -> list[Error]:
    """A purchase: in its year, above zero, through a channel that existed on the day, evidenced
    by a platform only for platform sales."""
    errors: list[Error] = []
    year = int(values["year"]) if values.get("year") else None
    on = values.get("purchased_on")
    on = on if isinstance(on, dt.date) else None
    channel = values.get("channel")
    if on is not None and year is not None and on.year != year:
        errors.append(
            ("purchased_on", f"采购日期不在归属年度（{year}年）内", f"purchased outside the year {year}")
        )
    if values.get("amount_fen") == 0:
        errors.append(("amount_fen", "采购金额应大于0", "the amount must be above zero"))
    if isinstance(channel, str) and on is not None:
        first, last = channel_years(channel)
        if (first is not None and on.year < first) or (last is not None and on.year > last):
            since = f"{first}年起" if first is not None else ""
            until = f"至{last}年" if last is not None else ""
            errors.append(
                (
                    "channel",
                    f"该采购渠道{since}{until}才有，{on.isoformat()}的采购不能选此渠道",
                    f"the channel did not exist on {on.isoformat()}",
                )
            )
    if (
        values.get("evidence_by") == "platform"
        and isinstance(channel, str)
        and channel not in PLATFORM_CHANNELS
    ):
        errors.append(
            (
                "evidence_by",
                "凭证由平台提供的，采购渠道应为电商或832平台",
                "platform evidence is for platform sales only",
            )
        )
    return errors
