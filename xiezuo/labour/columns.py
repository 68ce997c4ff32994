"""The column specs of the labour ledgers: import, template, export, form and API field names.

Headers are those of the county labour offices' 转移就业台账 and of the job lists the eastern
labour bureaus send (岗位信息表), with the variants seen in the field as aliases. The common
columns (结对关系, 归属年度, 行政区划代码) are added by the framework.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

PLACEMENTS = Spec(
    "转移就业台账",
    (
        Column(
            "id_number",
            "身份证号",
            kind="raw",
            aliases=("证件号码", "身份证号码", "公民身份号码", "劳动力身份证号", "务工人员身份证号"),
            required=True,
            width=22,
        ),
        Column(
            "employer",
            "用工单位",
            aliases=("就业单位", "用人单位", "务工单位", "就业企业", "用工企业"),
            required=True,
            width=30,
        ),
        Column(
            "workplace_region",
            "就业地行政区划代码",
            aliases=("就业地区划代码", "就业地", "务工地", "务工地点", "就业地点", "就业地区"),
            required=True,
            width=16,
        ),
        Column(
            "start",
            "就业开始日期",
            kind="date",
            aliases=("就业时间", "上岗时间", "务工开始时间", "开始日期"),
            required=True,
        ),
        Column("end", "就业结束日期", kind="date", aliases=("离岗时间", "务工结束时间", "结束日期")),
        Column("job", "工种岗位", aliases=("工种", "岗位", "从事工种", "就业岗位")),
        Column(
            "monthly_wage_fen",
            "月工资（元）",
            kind="money",
            aliases=("月工资", "月收入", "月均工资", "月均收入", "月工资收入"),
            non_negative=True,
        ),
        Column(
            "arrangement",
            "就业方式",
            kind="code",
            code_list="labour_arrangement",
            aliases=("转移就业方式", "就业渠道", "输出方式"),
            required=True,
        ),
    ),
)

POSTINGS = Spec(
    "岗位信息表",
    (
        Column(
            "employer",
            "用工单位",
            aliases=("招聘单位", "用人单位", "企业名称", "单位名称"),
            required=True,
            width=30,
        ),
        Column(
            "workplace_region",
            "工作地行政区划代码",
            aliases=("工作地区划代码", "工作地点", "工作地", "就业地"),
            required=True,
            width=16,
        ),
        Column("title", "岗位名称", aliases=("招聘岗位", "岗位", "工种"), required=True),
        Column(
            "positions", "招聘人数", kind="int", aliases=("岗位数", "需求人数", "招聘数量"), required=True
        ),
        Column(
            "wage_min_fen",
            "月薪下限（元）",
            kind="money",
            aliases=("最低月薪", "工资下限", "薪资下限"),
            non_negative=True,
        ),
        Column(
            "wage_max_fen",
            "月薪上限（元）",
            kind="money",
            aliases=("最高月薪", "工资上限", "薪资上限"),
            non_negative=True,
        ),
        Column(
            "valid_from",
            "有效期起",
            kind="date",
            aliases=("发布日期", "开始日期", "有效期开始"),
            required=True,
        ),
        Column("valid_to", "有效期止", kind="date", aliases=("截止日期", "有效期至", "有效期结束")),
        Column("skills", "技能要求", aliases=("任职要求", "岗位要求", "技能"), width=30),
        Column("contact", "单位联系电话", aliases=("联系电话", "咨询电话", "办公电话"), width=16),
    ),
)
