"""The column specs of the projects ledgers: import, template, export and API field names.

The project's place is the common column 行政区划代码 (where it is built, on the helped side).
Money columns are read in the unit their header states (元, 万元 or 亿元 in brackets); a bare
header is read in the unit of a "单位：…" row, the import's ``--unit``, else the template's unit.
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


def _date(key: str, header: str, *aliases: str) -> Column:
    return Column(key, header, kind="date", aliases=aliases)


PROJECTS = Spec(
    "帮扶项目",
    (
        Column(
            "project_number",
            "项目编号",
            aliases=("项目代码", "项目库编号", "项目编码"),
            required=True,
            width=24,
        ),
        Column("name", "项目名称", aliases=("项目", "建设项目名称"), required=True, width=30),
        Column(
            "project_type",
            "项目类型",
            kind="code",
            code_list="project_type",
            aliases=("项目类别",),
            required=True,
        ),
        Column(
            "stage",
            "项目阶段",
            kind="code",
            code_list="project_stage",
            aliases=("项目进度", "实施进度", "项目状态", "当前阶段"),
            required=True,
        ),
        _money("budget_fen", "项目总投资", "总投资", "项目预算", "预算金额", "计划总投资", required=True),
        _money(
            "east_west_fen",
            "东西部协作资金",
            "协作资金",
            "东西部扶贫协作资金",
            "财政援助资金",
            "帮扶资金",
            required=True,
        ),
        _money("other_fen", "其他资金", "其他来源资金", "自筹及其他资金", "地方配套资金"),
        _date("banked_on", "入库日期", "储备入库日期", "项目入库日期", "纳入项目库日期"),
        _date("approved_on", "批复日期", "立项日期", "项目批复日期"),
        _date("started_on", "开工日期", "开工时间", "实际开工日期"),
        _date("completed_on", "完工日期", "竣工日期", "完工时间"),
        _date("accepted_on", "验收日期", "竣工验收日期", "验收时间"),
        _date("reimbursed_on", "报账日期", "县级报账日期", "报账时间"),
        _date("handed_over_on", "资产移交日期", "资产确权移交日期", "确权移交日期", "移交日期"),
        _date("plan_notice_on", "计划公示日期", "项目计划公示日期", "计划公示时间"),
        _date("completion_notice_on", "完成公示日期", "项目完成公示日期", "完成公示时间", "结果公示日期"),
        Column(
            "benefit_mechanism",
            "利益联结机制",
            kind="code",
            code_list="benefit_mechanism",
            aliases=("利益联结", "利益联结方式", "带贫方式"),
        ),
        Column(
            "benefit_households",
            "受益贫困户数",
            kind="int",
            aliases=("带动贫困户数", "受益建档立卡贫困户数", "受益户数"),
            non_negative=True,
        ),
    ),
)

BENEFICIARIES = Spec(
    "项目受益对象",
    (
        Column(
            "project_number",
            "项目编号",
            aliases=("项目代码", "项目库编号", "项目编码"),
            required=True,
            width=24,
        ),
        Column(
            "id_number",
            "证件号码",
            kind="raw",
            aliases=("身份证号", "身份证号码", "公民身份号码", "受益人身份证号", "户主身份证号"),
            required=True,
            width=22,
        ),
        _date("started_on", "项目开工日期", "开工日期"),
        _money("benefit_fen", "受益金额", "户均受益金额", "收益金额", "分红金额", unit="元"),
    ),
)
