"""The column specs of the industrial cooperation ledgers: import, template, export and API fields.

Headers are the ones county and district offices write in their 产业合作 sheets; aliases absorb the
variants. The common columns (结对关系, 归属年度, 行政区划代码) are added by the framework. Investment
amounts are kept in 万元 by default, as offices write them; a header's own unit (元, 万元, 亿元)
wins.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

INVESTMENTS = Spec(
    "引导企业投资",
    (
        Column(
            "enterprise",
            "企业名称",
            aliases=(
                "投资企业",
                "企业",
                "引进企业",
                "落地企业",
                "企业名称（统一社会信用代码）",
                "统一社会信用代码",
            ),
            required=True,
            width=30,
        ),
        Column("project", "投资项目", aliases=("项目名称", "投资项目名称", "项目")),
        Column(
            "sector",
            "行业门类",
            kind="code",
            code_list="industry_sector",
            aliases=("所属行业", "行业", "产业类别", "行业类别", "产业类型"),
            required=True,
        ),
        Column(
            "agreed_fen",
            "协议投资额（万元）",
            kind="money",
            unit="万元",
            aliases=("协议投资", "签约金额", "协议金额", "计划投资", "签约投资额"),
            non_negative=True,
        ),
        Column(
            "invested_fen",
            "当年实际投资（万元）",
            kind="money",
            unit="万元",
            aliases=(
                "实际投资",
                "实际投资额",
                "实际到位投资",
                "到位投资",
                "实际到位资金",
                "当年实际到位投资",
                "年度实际投资",
            ),
            required=True,
            non_negative=True,
        ),
        Column(
            "landed_on", "落地日期", kind="date", aliases=("落地时间", "签约落地时间", "投产日期", "入驻时间")
        ),
        Column(
            "location_code",
            "落地地点",
            aliases=("投资地点", "落地地区", "落地县（区）", "项目所在地", "落地地点区划代码"),
            required=True,
            width=16,
        ),
    ),
)

PARKS = Spec(
    "共建产业园区",
    (
        Column("name", "园区名称", aliases=("共建园区名称", "园区", "产业园区名称"), required=True, width=30),
        Column(
            "location_code",
            "园区所在地",
            aliases=("所在地", "所在地区", "园区地址", "所在地区划代码"),
            required=True,
            width=16,
        ),
        Column(
            "area_mu",
            "规划面积（亩）",
            kind="decimal",
            aliases=("占地面积", "面积", "规划面积", "园区面积"),
            non_negative=True,
        ),
        Column(
            "enterprises_settled",
            "入驻企业（家）",
            kind="int",
            aliases=("入驻企业数", "入园企业", "入园企业数", "入驻企业数量"),
            non_negative=True,
        ),
        Column(
            "invested_fen",
            "当年完成投资（万元）",
            kind="money",
            unit="万元",
            aliases=("完成投资", "园区投资", "投资额", "年度投资", "当年投资"),
            non_negative=True,
        ),
        Column(
            "established_on",
            "挂牌日期",
            kind="date",
            aliases=("建成日期", "成立时间", "挂牌时间", "共建时间"),
        ),
    ),
)

WORKSHOPS = Spec(
    "帮扶车间",
    (
        Column(
            "name",
            "车间名称",
            aliases=("帮扶车间名称", "扶贫车间名称", "帮扶车间", "扶贫车间"),
            required=True,
            width=30,
        ),
        Column(
            "village_code",
            "所在村",
            aliases=("所在村区划代码", "所在行政村", "车间所在地", "地址", "所在地"),
            required=True,
            width=16,
        ),
        Column(
            "operator",
            "经营主体",
            aliases=("运营主体", "经营单位", "运营企业", "承办企业", "经营主体名称"),
            required=True,
            width=30,
        ),
        Column(
            "jobs",
            "吸纳就业岗位（个）",
            kind="int",
            aliases=("就业岗位", "岗位数", "吸纳就业人数", "带动就业", "用工规模"),
            required=True,
            non_negative=True,
        ),
        Column(
            "opened_on",
            "开办日期",
            kind="date",
            aliases=("建成时间", "投产时间", "开工时间", "开办时间"),
            required=True,
        ),
        Column("closed_on", "停办日期", kind="date", aliases=("停产日期", "关闭日期", "停办时间")),
    ),
)

BENEFICIARIES = Spec(
    "产业带贫对象",
    (
        Column(
            "id_number",
            "身份证号码",
            kind="raw",
            aliases=("身份证号", "证件号码", "公民身份号码", "证件号"),
            required=True,
            width=22,
        ),
        Column(
            "benefit",
            "带贫方式",
            kind="code",
            code_list="industry_benefit",
            aliases=("受益方式", "带动方式", "利益联结方式", "类型"),
            required=True,
        ),
        Column(
            "entity_kind",
            "带贫主体类型",
            kind="code",
            code_list="industry_entity",
            aliases=("主体类型", "企业或车间类型"),
        ),
        Column(
            "entity_name",
            "企业或车间名称",
            aliases=("带贫主体", "企业名称", "车间名称", "就业单位", "分红主体", "带贫主体名称"),
            required=True,
            width=30,
        ),
        Column(
            "started_on",
            "就业或分红日期",
            kind="date",
            aliases=("就业时间", "开始就业日期", "分红日期", "分红发放日期", "务工开始时间"),
            required=True,
        ),
        Column(
            "amount_fen",
            "月工资或分红金额（元）",
            kind="money",
            aliases=("月工资", "月均工资", "分红金额", "金额", "月收入"),
            required=True,
            non_negative=True,
        ),
    ),
)
