"""The consumption assistance (消费帮扶) ledger type (issue #4).

``purchases``: purchases of products from the helped area, entered by the helper side, whose
canteens, unions, markets and firms are the buyers. Confirmation by the helped side is optional
by design: every purchase awaits it (待对方确认) and the helped side's commerce office may confirm
or dispute it, but the figures count purchases whether or not they were confirmed, because the
sellers are many and small and the proof is the evidence named on the record (invoice, order or
contract number, and who gives it: buyer, seller or platform). A dispute is visible on the record
and to the assessors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiezuo.consumption import rules
from xiezuo.consumption.columns import PURCHASES
from xiezuo.consumption.models import Purchase
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType, Metric, register
from xiezuo.pairings.models import Pairing

Error = tuple[str, str, str]


def origin_errors(values: Mapping[str, Any]) -> list[Error]:
    """The product's origin must lie in the pairing's helped area."""
    from xiezuo.ledgers.services import in_side

    pairing, code = values.get("pairing"), values.get("origin_code")
    if not isinstance(pairing, Pairing) or not isinstance(code, int) or in_side(pairing, HELPED, code):
        return []
    return [
        (
            "origin_code",
            "产地不在该结对关系的受帮扶地区范围内",
            "the origin is outside the pairing's helped area",
        )
    ]


def check_purchase(values: Mapping[str, Any]) -> list[Error]:
    return rules.purchase_errors(values) + origin_errors(values)


PURCHASES_TYPE = register(
    LedgerType(
        key="purchases",
        model=Purchase,
        spec=PURCHASES,
        area="consumption",
        zh="消费帮扶采购",
        en="purchases",
        side=HELPER,
        natural_key=("pairing", "year", "buyer", "evidence_ref", "product"),
        orgs={"buyer": "enterprise"},
        regions=("origin_code",),
        check=check_purchase,
        confirm_side=HELPED,
        date_column="purchased_on",
        metrics=(
            Metric(
                "purchases",
                "消费帮扶金额",
                "purchases",
                kind="sum",
                field="amount_fen",
                unit="money",
                split="channel",
                target="purchases",
            ),
            Metric(
                "purchases_832",
                "其中：832平台",
                "of which through the 832 platform",
                kind="sum",
                field="amount_fen",
                unit="money",
                where={"channel": "platform_832"},
            ),
            Metric(
                "purchases_certified",
                "其中：认定扶贫产品",
                "of which certified products",
                kind="sum",
                field="amount_fen",
                unit="money",
                where={"certificate_no__gt": ""},
            ),
        ),
        list_columns=("product", "category", "buyer", "channel", "amount_fen", "purchased_on"),
        filters=("channel", "category", "evidence_by"),
        order=10,
    )
)
