"""The engagement ledger types (组织领导): agreement targets, leaders' visits, meetings.

Registering them here gives each its import, template, export, pages, API and roll-up lines
(see ``xiezuo.ledgers.types``). The agreements also provide the roll-up's targets: a pairing's
target for an item is the sum of its (and its sub-pairings') agreement targets of that item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Sum

from xiezuo.core import codelists
from xiezuo.engagement.columns import AGREEMENT_TARGETS, MEETINGS, VISITS
from xiezuo.engagement.models import MONEY_ITEMS, PERCENT_ITEMS, AgreementTarget, LeaderVisit, Meeting
from xiezuo.ledgers.types import BOTH, HELPED, HELPER, LedgerType, Metric, register

Error = tuple[str, str, str]
TOP_LEVELS = ("province_top", "prefecture_top", "county_top")
"""Leader levels counted as 党政主要领导 (FRAMEWORK.md E1, W1; target item ``visits``)."""


def _in_year(values: Mapping[str, Any], key: str, label: str) -> list[Error]:
    day, year = values.get(key), values.get("year")
    if isinstance(day, dt.date) and year and day.year != int(year):
        return [(key, f"{label}不在归属年度（{year}年）内", f"{key} is not in the year {year}")]
    return []


def check_agreement_target(values: Mapping[str, Any]) -> list[Error]:
    """A money item needs an amount and no count; every other item a count and no amount."""
    errors: list[Error] = []
    item = values.get("target_item")
    fen, count = values.get("target_fen"), values.get("target_count")
    if item:
        label = codelists.label("target_item", item)
        if item in MONEY_ITEMS:
            if fen is None:
                errors.append(
                    (
                        "target_fen",
                        f"「{label}」是金额目标，请填写目标金额",
                        f"{item} is a money target: give the amount",
                    )
                )
            if count is not None:
                errors.append(
                    (
                        "target_count",
                        f"「{label}」是金额目标，目标数量应为空",
                        f"{item} is a money target: leave the count empty",
                    )
                )
        else:
            if count is None:
                errors.append(
                    (
                        "target_count",
                        f"「{label}」是数量目标，请填写目标数量",
                        f"{item} is a count target: give the count",
                    )
                )
            if fen is not None:
                errors.append(
                    (
                        "target_fen",
                        f"「{label}」是数量目标，目标金额应为空",
                        f"{item} is a count target: leave the amount empty",
                    )
                )
            if item in PERCENT_ITEMS and isinstance(count, int) and count > 100:
                errors.append(
                    (
                        "target_count",
                        f"「{label}」是百分比，目标数量应在0到100之间",
                        f"{item} is a percentage: give 0 to 100",
                    )
                )
    signed, year = values.get("signed_on"), values.get("year")
    if isinstance(signed, dt.date) and year and signed.year > int(year):
        errors.append(("signed_on", f"签订日期晚于归属年度（{year}年）", f"signed after the year {year}"))
    return errors


def _province(code: int) -> int:
    return code // 10**10


def check_visit(values: Mapping[str, Any]) -> list[Error]:
    """Dates in order and in the year; the regions differ and lie on the sides the direction says
    (same province as the side: a city leader's visit may be recorded on a county pair)."""
    from xiezuo.ledgers.services import side_regions
    from xiezuo.pairings.models import Pairing

    errors = _in_year(values, "visited_on", "到访日期")
    start, end = values.get("visited_on"), values.get("returned_on")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(("returned_on", "结束日期早于到访日期", "returned before the visit began"))
    origin, dest = values.get("from_region"), values.get("to_region")
    if origin is not None and origin == dest:
        errors.append(("to_region", "出发地与到访地相同", "the visit goes from and to the same region"))
        return errors
    pairing, direction = values.get("pairing"), values.get("direction")
    if not isinstance(pairing, Pairing) or direction not in ("east_to_west", "west_to_east"):
        return errors
    helper = {_province(c) for c, _lv in side_regions(pairing, HELPER)}
    helped = {_province(c) for c, _lv in side_regions(pairing, HELPED)}
    if direction == "east_to_west":
        way, want_from, want_to, from_zh, to_zh = "东部到西部", helper, helped, "帮扶方", "受帮扶方"
    else:
        way, want_from, want_to, from_zh, to_zh = "西部到东部", helped, helper, "受帮扶方", "帮扶方"
    if isinstance(origin, int) and _province(origin) not in want_from:
        errors.append(
            (
                "from_region",
                f"出发地不在{from_zh}地区（互访方向为{way}）",
                f"the origin is not on the side the direction ({direction}) says",
            )
        )
    if isinstance(dest, int) and _province(dest) not in want_to:
        errors.append(
            (
                "to_region",
                f"到访地不在{to_zh}地区（互访方向为{way}）",
                f"the destination is not on the side the direction ({direction}) says",
            )
        )
    return errors


def check_meeting(values: Mapping[str, Any]) -> list[Error]:
    return _in_year(values, "held_on", "召开日期")


AGREEMENTS_TYPE = register(
    LedgerType(
        key="agreement_targets",
        model=AgreementTarget,
        spec=AGREEMENT_TARGETS,
        area="engagement",
        zh="协议目标任务",
        en="agreement targets",
        side=HELPER,
        natural_key=("pairing", "year", "target_item"),
        check=check_agreement_target,
        list_columns=(
            "pairing",
            "year",
            "target_item",
            "target_fen",
            "target_count",
            "signed_on",
            "document_number",
        ),
        filters=("target_item",),
        order=10,
    )
)

VISITS_TYPE = register(
    LedgerType(
        key="visits",
        model=LeaderVisit,
        spec=VISITS,
        area="engagement",
        zh="领导互访",
        en="leaders' visits",
        side=BOTH,  # each side records its own leaders' visits (the west's indicators count them too)
        natural_key=("pairing", "visited_on", "leader_level", "from_region", "to_region"),
        regions=("from_region", "to_region"),
        check=check_visit,
        date_column="visited_on",
        metrics=(
            Metric("visits", "领导互访", "leaders' visits", unit="次", split="direction"),
            Metric(
                "top_visits",
                "党政主要领导互访",
                "visits of top leaders",
                unit="次",
                where={"leader_level__in": TOP_LEVELS},
                split="direction",
                target="visits",
            ),
        ),
        list_columns=(
            "pairing",
            "year",
            "visited_on",
            "leader_level",
            "direction",
            "from_region",
            "to_region",
            "delegation_size",
        ),
        filters=("leader_level", "direction"),
        order=20,
    )
)

MEETINGS_TYPE = register(
    LedgerType(
        key="meetings",
        model=Meeting,
        spec=MEETINGS,
        area="engagement",
        zh="会议",
        en="meetings",
        side=BOTH,
        natural_key=("pairing", "kind", "held_on"),
        check=check_meeting,
        date_column="held_on",
        metrics=(
            Metric(
                "joint_meetings",
                "联席会议",
                "joint meetings",
                unit="次",
                where={"kind": "joint"},
                target="meetings",
            ),
            Metric("meetings", "各类会议", "all meetings", unit="次", split="kind"),
        ),
        list_columns=("pairing", "year", "held_on", "kind", "place", "chair_level", "minutes_number"),
        filters=("kind", "chair_level"),
        order=30,
    )
)


def agreement_targets(pairing_ids: list[int], year: int) -> dict[str, int]:
    """Sum of the agreement targets of these pairings for ``year``, by target item: fen for money
    items, counts otherwise.

    A provincial agreement and its county pairs' agreements are added up as recorded: record each
    target once, at the lowest pairing it binds (D8).
    """
    rows = (
        AgreementTarget.objects.filter(pairing_id__in=pairing_ids, year=year)
        .values("target_item")
        .annotate(fen=Sum("target_fen"), count=Sum("target_count"))
        .order_by("target_item")
    )
    return {
        r["target_item"]: int((r["fen"] if r["target_item"] in MONEY_ITEMS else r["count"]) or 0)
        for r in rows
    }


try:  # the roll-up is the lead's module; register once it exists
    from xiezuo.ledgers import rollup as _rollup
except ImportError:  # pragma: no cover
    _rollup = None  # type: ignore[assignment]
if _rollup is not None:
    _rollup.register_targets(agreement_targets)
