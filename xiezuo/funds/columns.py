"""The column specs of the funds ledgers: import, template, export and API field names.

Money columns are read in the unit their header states: "到位金额（万元）", "到位金额（元）" and
"到位金额（亿元）" all match the arrived amount (the unit in brackets is split off the header by the
tabular layer); a bare "到位金额" is read in the unit of a "单位：…" row, the import's ``--unit``,
else 万元 as the template writes it. The import result notes which unit it used per column.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec


def _money(key: str, header: str, *aliases: str, required: bool = False, unit: str = "万元") -> Column:
    return Column(
        key,
        f"{header}（{unit}）",
        kind="money",
        aliases=(header, *aliases),
        unit=unit,
        non_negative=True,
        required=required,
    )


FISCAL_FUNDS = Spec(
    "财政援助资金",
    (
        Column(
            "transfer_number",
            "资金文号",
            aliases=("拨付文号", "资金批次号", "批次号", "文号", "资金编号", "下达文号"),
            required=True,
            width=24,
        ),
        Column("title", "资金名称", aliases=("资金项目名称", "项目资金名称", "摘要", "资金用途")),
        Column(
            "source_level",
            "资金来源层级",
            kind="code",
            code_list="source_level",
            aliases=("资金来源", "来源层级", "资金层级", "财政级次", "资金级次"),
            required=True,
        ),
        Column(
            "target_region_code",
            "受援地区",
            aliases=("受援地区代码", "资金投向地区", "投向地区", "拨付地区", "受援县", "援助地区"),
            required=True,
            width=16,
        ),
        _money("agreed_fen", "协议资金", "协议金额", "计划资金", "计划金额", "协议援助资金"),
        Column("agreed_on", "协议日期", kind="date", aliases=("计划下达日期", "签订日期")),
        _money("allocated_fen", "拨付金额", "拨付资金", "下达金额", "拨付援助资金"),
        Column("allocated_on", "拨付日期", kind="date", aliases=("下达日期", "拨付时间")),
        _money("arrived_fen", "到位金额", "到位资金", "到账金额", "实际到位资金"),
        Column("arrived_on", "到位日期", kind="date", aliases=("到账日期", "到位时间", "到账时间")),
        Column(
            "receipt_number",
            "到账凭证号",
            aliases=("到账凭证编号", "凭证号", "到账凭证", "收款凭证号"),
            width=20,
        ),
        _money("spent_fen", "支出金额", "已支出金额", "支出资金", "资金使用金额", "已使用资金"),
        Column("spent_on", "支出截止日期", kind="date", aliases=("支出日期", "使用截止日期")),
    ),
)

FUND_ALLOCATIONS = Spec(
    "财政援助资金安排",
    (
        Column(
            "transfer_number",
            "资金文号",
            aliases=("拨付文号", "资金批次号", "批次号", "文号", "资金编号"),
            required=True,
            width=24,
        ),
        Column("project_number", "项目编号", aliases=("项目代码", "项目库编号"), width=24),
        _money("amount_fen", "安排金额", "安排资金", "使用金额", "分配金额", required=True),
        Column(
            "pooled",
            "是否统筹整合",
            kind="bool",
            aliases=("统筹整合", "纳入统筹整合", "是否纳入统筹整合涉农资金", "统筹整合涉农资金"),
        ),
        Column("allocated_on", "安排日期", kind="date", aliases=("分配日期", "下达日期")),
    ),
)

DONATIONS = Spec(
    "社会帮扶捐赠",
    (
        Column(
            "donor",
            "捐赠单位",
            aliases=("捐赠方", "捐赠企业", "捐赠单位名称", "捐赠单位（统一社会信用代码）", "捐赠主体"),
            required=True,
            width=30,
        ),
        Column(
            "kind",
            "捐赠类型",
            kind="code",
            code_list="donation_kind",
            aliases=("捐款或捐物", "捐赠方式", "款物类型", "类型"),
            required=True,
        ),
        Column("goods", "物资名称", aliases=("捐赠物资", "物资说明", "捐赠物资名称", "物资品名"), width=24),
        _money(
            "value_fen",
            "捐赠金额",
            "捐款金额",
            "捐赠价值",
            "折价金额",
            "款物价值",
            "捐赠款物价值",
            required=True,
        ),
        Column("donated_on", "捐赠日期", kind="date", aliases=("捐赠时间", "到账日期"), required=True),
        Column("target_region_code", "受赠地区", aliases=("受赠地区代码", "捐赠地区", "受援地区"), width=16),
        Column("receipt_number", "捐赠票据号", aliases=("票据号", "捐赠凭证号", "收据号"), width=20),
    ),
)
