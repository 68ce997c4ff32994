"""The column specs of the engagement ledgers: import, template, export and API field names.

Headers are those of the offices' own sheets (协议目标任务表, 领导互访台账, 会议台账); the
framework adds the common columns 结对关系, 归属年度 and 行政区划代码 in front.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

AGREEMENT_TARGETS = Spec(
    "协议目标任务",
    (
        Column(
            "target_item",
            "目标项目",
            kind="code",
            code_list="target_item",
            aliases=("目标任务", "协议目标项", "指标名称", "任务指标", "指标"),
            required=True,
            width=26,
        ),
        Column(
            "target_fen",
            "目标金额（万元）",
            kind="money",
            unit="万元",
            aliases=("目标金额", "协议金额", "任务金额", "金额目标"),
            non_negative=True,
        ),
        Column(
            "target_count",
            "目标数量",
            kind="int",
            aliases=("目标数", "任务数量", "数量目标", "目标人数", "目标个数"),
            non_negative=True,
        ),
        Column("agreement_title", "协议名称", aliases=("协议", "框架协议名称"), width=30),
        Column("document_number", "协议文号", aliases=("文号", "协议编号")),
        Column(
            "signed_on",
            "签订日期",
            kind="date",
            aliases=("协议签订日期", "签署日期", "签订时间"),
            required=True,
            month_ok=False,
        ),
    ),
)

VISITS = Spec(
    "领导互访",
    (
        Column(
            "leader_level",
            "带队领导级别",
            kind="code",
            code_list="leader_level",
            aliases=("领导级别", "带队领导职级", "级别"),
            required=True,
            width=20,
        ),
        Column("leader", "带队领导", aliases=("带队领导姓名职务", "带队领导（姓名、职务）", "领导姓名职务")),
        Column(
            "direction",
            "互访方向",
            kind="code",
            code_list="exchange_direction",
            aliases=("方向", "考察方向"),
            required=True,
        ),
        Column("from_region", "出发地", aliases=("出访地区", "派出地区", "来自"), required=True, width=16),
        Column("to_region", "到访地", aliases=("考察地区", "到访地区", "目的地"), required=True, width=16),
        Column(
            "visited_on",
            "到访日期",
            kind="date",
            aliases=("考察日期", "开始日期", "互访日期", "日期"),
            required=True,
            month_ok=False,
        ),
        Column("returned_on", "结束日期", kind="date", aliases=("返回日期",), month_ok=False),
        Column("purpose", "考察内容", aliases=("主要事项", "调研对接内容", "目的", "互访事由"), width=40),
        Column(
            "delegation_size",
            "代表团人数",
            kind="int",
            aliases=("随行人数", "考察团人数", "人数"),
            non_negative=True,
        ),
    ),
)

MEETINGS = Spec(
    "会议",
    (
        Column(
            "kind",
            "会议类型",
            kind="code",
            code_list="meeting_kind",
            aliases=("会议类别", "类型"),
            required=True,
        ),
        Column(
            "held_on",
            "召开日期",
            kind="date",
            aliases=("会议日期", "召开时间", "会议时间", "日期"),
            required=True,
            month_ok=False,
        ),
        Column("place", "会议地点", aliases=("地点", "召开地点")),
        Column(
            "chair_level",
            "主持领导级别",
            kind="code",
            code_list="leader_level",
            aliases=("主持人级别", "主持领导职级"),
        ),
        Column("minutes_number", "纪要文号", aliases=("会议纪要文号", "纪要编号", "会议纪要")),
        Column("summary", "主要内容", aliases=("会议内容", "议定事项", "主要议定事项"), width=40),
        Column("attendance", "参会人数", kind="int", aliases=("出席人数",), non_negative=True),
    ),
)
