"""The column spec of the consumption assistance ledger: import, template, export and API fields.

Headers as buyers' and coordination offices' purchase ledgers (消费帮扶采购台账) write them. The
common columns (结对关系, 归属年度, 行政区划代码) are added by the framework. Amounts are in 元 by
default (one row per purchase); a 万元 or 亿元 header is read as such. The 扶贫产品 certification
number is free text: DOMAIN.md gives no official format for it, so none is enforced.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

PURCHASES = Spec(
    "消费帮扶采购",
    (
        Column(
            "product", "产品名称", aliases=("商品名称", "采购产品", "产品", "品名"), required=True, width=24
        ),
        Column(
            "category",
            "产品类别",
            kind="code",
            code_list="product_category",
            aliases=("产品类型", "商品类别", "类别", "品类"),
            required=True,
        ),
        Column(
            "certificate_no",
            "扶贫产品认定编号",
            aliases=("扶贫产品编号", "认定编号", "扶贫产品认定证书编号", "证书编号", "扶贫产品认定号"),
            width=24,
        ),
        Column(
            "origin_code",
            "产地",
            aliases=("产品产地", "产地区划代码", "原产地", "来源地", "产地（县）"),
            required=True,
            width=16,
        ),
        Column(
            "buyer",
            "采购单位",
            aliases=("购买单位", "采购方", "购买方", "采购主体", "采购单位名称"),
            required=True,
            width=30,
        ),
        Column(
            "channel",
            "采购渠道",
            kind="code",
            code_list="purchase_channel",
            aliases=("销售渠道", "消费渠道", "渠道", "采购方式"),
            required=True,
        ),
        Column(
            "amount_fen",
            "采购金额（元）",
            kind="money",
            aliases=("金额", "购买金额", "销售金额", "采购额", "消费金额"),
            required=True,
            non_negative=True,
        ),
        Column(
            "purchased_on",
            "采购日期",
            kind="date",
            aliases=("购买日期", "采购时间", "交易日期", "日期"),
            required=True,
        ),
        Column(
            "evidence_by",
            "凭证提供方",
            kind="code",
            code_list="evidence_party",
            aliases=("凭证来源", "证明提供方", "佐证提供方"),
            required=True,
        ),
        Column(
            "evidence_ref",
            "凭证号码",
            aliases=("凭证编号", "发票号码", "发票号", "订单号", "合同编号", "凭证号", "佐证材料编号"),
            required=True,
            width=24,
        ),
    ),
)
