"""The column spec of the monitoring sheet (监测对象帮扶措施): import, template and error report.

One row per help measure, the monitoring's fields (type, date identified, risks, removal) repeated
on each of its measures' rows, as county offices keep the sheet. ``risks`` holds one or several
codes of the list ``monitoring_risk`` separated by 、，,;； — the importer splits and resolves them.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

RISK_SEPARATORS = "、，,;；/／\n"

MONITORING = Spec(
    "监测对象帮扶措施",
    (
        Column(
            "household_number",
            "户编号",
            aliases=("户编码", "户码", "家庭编号", "监测户编号"),
            required=True,
            width=20,
        ),
        Column(
            "kind",
            "监测对象类型",
            kind="code",
            code_list="monitoring_type",
            aliases=("监测类型", "监测对象类别", "对象类型"),
        ),
        Column(
            "identified_on",
            "纳入监测日期",
            kind="date",
            aliases=("识别监测时间", "纳入监测时间", "识别监测日期", "识别日期", "纳入日期"),
        ),
        Column(
            "risks",
            "风险类型",
            aliases=("主要风险", "风险类别", "主要风险类型", "致贫返贫风险", "返贫致贫风险"),
            width=24,
        ),
        Column(
            "channel",
            "帮扶措施类别",
            kind="code",
            code_list="help_channel",
            aliases=("帮扶措施", "措施类别", "帮扶措施类型", "帮扶类型", "措施类型"),
            required=True,
        ),
        Column(
            "started_on",
            "措施开始日期",
            kind="date",
            aliases=("措施开始时间", "帮扶开始日期", "帮扶开始时间", "开始日期", "开始时间"),
            required=True,
        ),
        Column(
            "ended_on",
            "措施结束日期",
            kind="date",
            aliases=("措施结束时间", "帮扶结束日期", "帮扶结束时间", "结束日期", "结束时间"),
        ),
        Column(
            "removal",
            "风险消除方式",
            kind="code",
            code_list="risk_removal",
            aliases=("消除方式", "风险消除类型", "风险消除情况"),
        ),
        Column(
            "removed_on",
            "风险消除日期",
            kind="date",
            aliases=("风险消除时间", "消除日期", "消除时间", "风险消除认定日期"),
        ),
    ),
)
