"""The one column spec of the registry sheet: import, template, export and API field names.

One row per member, the household's fields repeated on each of its members' rows, as county
offices keep the sheet (and as the national system exports it).
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

HOUSEHOLD_NUMBER = r"^[0-9A-Za-z][0-9A-Za-z_-]{0,39}$"
"""The household numbers the registry accepts: the national system's are digits; some counties
add letters, hyphens or underscores. Nothing a spreadsheet could take for a formula, no markup."""
PERSON_NAME = r"^[^=+\-@<>][^<>]*$"
"""Names hold any script and the separator dot, but no markup and no formula-leading character."""

REGISTRY = Spec(
    "建档立卡贫困人口",
    (
        Column(
            "household_number",
            "户编号",
            aliases=("户编码", "户码", "家庭编号"),
            required=True,
            width=20,
            pattern=HOUSEHOLD_NUMBER,
            rule_zh="只能由字母、数字、连字符（-）和下划线（_）组成，以字母或数字开头，最长 40 位",
            rule_en="letters, digits, '-' and '_' only, starting with a letter or digit, at most 40",
        ),
        Column(
            "region_code", "行政区划代码", aliases=("区划代码", "村代码", "行政区划", "所在村代码"), width=14
        ),
        Column("township", "乡镇", aliases=("乡（镇）", "乡镇（街道）", "所在乡镇")),
        Column("village", "村", aliases=("行政村", "村（社区）", "所在村")),
        Column(
            "name",
            "姓名",
            kind="name",
            aliases=("成员姓名", "户主姓名"),
            required=True,
            pattern=PERSON_NAME,
            rule_zh="不能含有 < 或 >，也不能以 = + - @ 开头",
            rule_en="no '<' or '>', and not starting with = + - @",
        ),
        Column(
            "id_number",
            "证件号码",
            kind="raw",
            aliases=("身份证号", "身份证号码", "公民身份号码", "证件号"),
            required=True,
            width=22,
        ),
        Column(
            "relation",
            "与户主关系",
            kind="code",
            code_list="relation",
            aliases=("与户主的关系",),
            required=True,
        ),
        Column(
            "attribute",
            "贫困户属性",
            kind="code",
            code_list="household_attribute",
            aliases=("贫困户类型", "户属性"),
            required=True,
        ),
        Column(
            "main_cause",
            "主要致贫原因",
            kind="code",
            code_list="poverty_cause",
            aliases=("致贫原因",),
            required=True,
        ),
        Column("standard", "识别标准", kind="code", code_list="identification_standard"),
        Column(
            "registered_year",
            "识别年度",
            kind="year",
            aliases=("识别年份", "建档立卡年度", "纳入年度"),
            required=True,
        ),
        Column(
            "status",
            "贫困状态",
            kind="code",
            code_list="poverty_status",
            aliases=("脱贫状态", "贫困户状态"),
            required=True,
        ),
        Column("exit_year", "脱贫年度", kind="year", aliases=("脱贫年份", "脱贫时间")),
        Column("planned_exit_year", "计划脱贫年度", kind="year", aliases=("计划脱贫年份",)),
        Column(
            "income_per_capita",
            "人均纯收入（元）",
            kind="money",
            aliases=("人均纯收入", "家庭人均纯收入"),
            non_negative=True,
        ),
        Column(
            "monitoring_type", "监测对象类型", kind="code", code_list="monitoring_type", aliases=("监测类型",)
        ),
        Column("monitoring_since", "纳入监测日期", kind="date", aliases=("识别监测时间", "纳入监测时间")),
        Column("pathway", "脱贫路径", kind="code", code_list="pathway", aliases=("五个一批",)),
        Column("entry_reason", "成员增加原因", kind="code", code_list="member_entry"),
        Column("entered_on", "增加日期", kind="date"),
        Column("leave_reason", "成员减少原因", kind="code", code_list="member_exit", aliases=("减少原因",)),
        Column("left_on", "减少日期", kind="date"),
    ),
)
