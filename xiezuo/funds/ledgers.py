"""The funds ledgers: fiscal aid transfers, their allocation to projects, social donations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from xiezuo.funds.columns import DONATIONS, FISCAL_FUNDS, FUND_ALLOCATIONS
from xiezuo.funds.models import Donation, FiscalFund, FundAllocation
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType, Metric, register

Error = tuple[str, str, str]

# (amount column, date column, Chinese name of the stage)
_STAGES = (
    ("agreed_fen", "agreed_on", "协议"),
    ("allocated_fen", "allocated_on", "拨付"),
    ("arrived_fen", "arrived_on", "到位"),
    ("spent_fen", "spent_on", "支出"),
)
_DATE_REQUIRED = frozenset({"allocated_fen", "arrived_fen"})


def _wan(fen: int) -> str:
    """Fen as 万元 for messages: 123456789 → '12.345679'."""
    return f"{fen / 1_000_000:.6f}".rstrip("0").rstrip(".")


def check_fiscal_fund(values: Mapping[str, Any]) -> list[Error]:
    """Cross-field rules of a transfer: stages reached in order, amounts not above the previous
    stage's, a date for allocation and arrival, a receipt number for arrival."""
    errors: list[Error] = []
    amounts = {a: values.get(a) for a, _d, _zh in _STAGES}
    if all(v is None for v in amounts.values()):
        errors.append(("agreed_fen", "请至少填写协议、拨付、到位或支出金额之一", "give at least one amount"))
    for amount, date, zh in _STAGES:
        if amounts[amount] is not None and values.get(date) is None and amount in _DATE_REQUIRED:
            errors.append((date, f"已填写{zh}金额，请填写{zh}日期", f"{date} is required with {amount}"))
        if amounts[amount] is None and values.get(date) is not None:
            errors.append((amount, f"已填写{zh}日期，请填写{zh}金额", f"{amount} is required with {date}"))
    allocated, arrived, spent = amounts["allocated_fen"], amounts["arrived_fen"], amounts["spent_fen"]
    if arrived is not None:
        if allocated is None:
            errors.append(
                (
                    "allocated_fen",
                    "已填写到位金额，请填写拨付金额",
                    "an arrived amount needs the allocated amount",
                )
            )
        elif arrived > allocated:
            errors.append(
                (
                    "arrived_fen",
                    f"到位金额（{_wan(arrived)}万元）大于拨付金额（{_wan(allocated)}万元）",
                    "the arrived amount exceeds the allocated amount",
                )
            )
        if not (values.get("receipt_number") or "").strip():
            errors.append(
                ("receipt_number", "资金到位须填写到账凭证号", "an arrival needs the receipt number")
            )
    if spent is not None:
        if arrived is None:
            errors.append(
                ("arrived_fen", "已填写支出金额，请填写到位金额", "a spent amount needs the arrived amount")
            )
        elif spent > arrived:
            errors.append(
                (
                    "spent_fen",
                    f"支出金额（{_wan(spent)}万元）大于到位金额（{_wan(arrived)}万元）",
                    "the spent amount exceeds the arrived amount",
                )
            )
    allocated_on, arrived_on, spent_on = (
        values.get("allocated_on"),
        values.get("arrived_on"),
        values.get("spent_on"),
    )
    if isinstance(allocated_on, dt.date) and isinstance(arrived_on, dt.date) and arrived_on < allocated_on:
        errors.append(("arrived_on", "到位日期早于拨付日期，请核对", "the arrival is before the allocation"))
    if isinstance(arrived_on, dt.date) and isinstance(spent_on, dt.date) and spent_on < arrived_on:
        errors.append(
            ("spent_on", "支出截止日期早于到位日期，请核对", "spending is dated before the arrival")
        )
    return errors


def check_allocation(values: Mapping[str, Any]) -> list[Error]:
    """A line not pooled names its project."""
    if not values.get("pooled") and not (values.get("project_number") or "").strip():
        return [
            (
                "project_number",
                "未纳入统筹整合涉农资金的，须填写项目编号",
                "a project number is required unless the funds are pooled",
            )
        ]
    return []


def check_donation(values: Mapping[str, Any]) -> list[Error]:
    """Goods say what they are."""
    if values.get("kind") == "goods" and not (values.get("goods") or "").strip():
        return [("goods", "捐物须填写物资名称", "donated goods need a description")]
    return []


FISCAL_FUNDS_LEDGER = register(
    LedgerType(
        key="fiscal_funds",
        model=FiscalFund,
        spec=FISCAL_FUNDS,
        area="funds",
        zh="财政援助资金",
        en="fiscal aid funds",
        side=HELPER,
        confirm_side=HELPED,
        natural_key=("pairing", "year", "transfer_number"),
        regions=("target_region_code",),
        check=check_fiscal_fund,
        metrics=(
            Metric(
                "arrived",
                "财政援助资金到位",
                "fiscal aid arrived",
                kind="sum",
                field="arrived_fen",
                unit="money",
                split="source_level",
                target="fiscal_funds",
            ),
            Metric(
                "allocated",
                "财政援助资金拨付",
                "fiscal aid allocated",
                kind="sum",
                field="allocated_fen",
                unit="money",
                split="source_level",
            ),
            Metric(
                "spent", "财政援助资金支出", "fiscal aid spent", kind="sum", field="spent_fen", unit="money"
            ),
            Metric(
                "agreed",
                "协议财政援助资金",
                "fiscal aid agreed",
                kind="sum",
                field="agreed_fen",
                unit="money",
            ),
        ),
        list_columns=(
            "transfer_number",
            "source_level",
            "target_region_code",
            "allocated_fen",
            "arrived_fen",
            "arrived_on",
            "spent_fen",
        ),
        filters=("source_level",),
        order=10,
    )
)

FUND_ALLOCATIONS_LEDGER = register(
    LedgerType(
        key="fund_allocations",
        model=FundAllocation,
        spec=FUND_ALLOCATIONS,
        area="funds",
        zh="财政援助资金安排",
        en="allocation of fiscal aid to projects",
        side=HELPED,
        natural_key=("pairing", "year", "transfer_number", "project_number"),
        check=check_allocation,
        metrics=(
            Metric(
                "to_projects",
                "安排到项目的资金",
                "funds allocated to projects",
                kind="sum",
                field="amount_fen",
                unit="money",
            ),
            Metric(
                "pooled",
                "纳入统筹整合涉农资金",
                "funds pooled with agricultural funds",
                kind="sum",
                field="amount_fen",
                unit="money",
                where={"pooled": True},
            ),
        ),
        list_columns=("transfer_number", "project_number", "amount_fen", "pooled", "allocated_on"),
        order=20,
    )
)

DONATIONS_LEDGER = register(
    LedgerType(
        key="donations",
        model=Donation,
        spec=DONATIONS,
        area="funds",
        zh="社会帮扶捐赠",
        en="social donations",
        side=HELPER,
        natural_key=("pairing", "year", "donor", "donated_on", "kind"),
        orgs={"donor": "enterprise"},
        regions=("target_region_code",),
        check=check_donation,
        metrics=(
            Metric(
                "donated",
                "社会帮扶资金（含捐物折价）",
                "social donations (goods valued)",
                kind="sum",
                field="value_fen",
                unit="money",
                split="kind",
                target="social_funds",
            ),
            Metric("donations", "捐赠笔数", "donations", unit="笔"),
        ),
        list_columns=("donor", "kind", "goods", "value_fen", "donated_on"),
        filters=("kind",),
        order=30,
    )
)
