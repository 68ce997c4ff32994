"""The column specs of the talent ledgers: import, template, export and API field names.

Headers are those of the offices' sheets (挂职干部和专业技术人才台账, 培训班台账, 培训学员花名册);
the framework adds the common columns 结对关系, 归属年度 and 行政区划代码 in front. ID numbers are
``raw`` columns: the framework validates them and keeps only their keyed hash (D3). Names are not
read: a person is identified by the ID number alone.
"""

from __future__ import annotations

from xiezuo.core.tabular.spec import Column, Spec

ID_ALIASES = ("身份证号码", "证件号码", "公民身份号码", "身份证", "证件号")

SECONDMENTS = Spec(
    "挂职干部和专业技术人才",
    (
        Column("id_number", "身份证号", kind="raw", aliases=ID_ALIASES, required=True, width=22),
        Column(
            "person_type",
            "人员类别",
            kind="code",
            code_list="secondee_type",
            aliases=("人员类型", "类别", "干部/人才"),
            required=True,
        ),
        Column(
            "professional_field",
            "专业领域",
            kind="code",
            code_list="professional_field",
            aliases=("专业类别", "行业领域", "领域"),
        ),
        Column(
            "direction",
            "选派方向",
            kind="code",
            code_list="exchange_direction",
            aliases=("方向", "交流方向", "挂职方向"),
            required=True,
        ),
        Column("home_org", "派出单位", aliases=("原单位", "原工作单位", "所在单位"), required=True, width=30),
        Column(
            "host_org",
            "挂职单位",
            aliases=("接收单位", "挂职（支援）单位", "支援单位", "服务单位"),
            required=True,
            width=30,
        ),
        Column("post", "挂职职务", aliases=("挂职岗位", "担任职务", "岗位"), width=24),
        Column(
            "start_on",
            "开始日期",
            kind="date",
            aliases=("挂职开始日期", "到岗日期", "开始时间", "起始日期"),
            required=True,
            month_ok=False,
        ),
        Column(
            "end_on",
            "结束日期",
            kind="date",
            aliases=("挂职结束日期", "期满日期", "结束时间", "离岗日期"),
            month_ok=False,
        ),
    ),
)

TRAINING_SESSIONS = Spec(
    "培训班",
    (
        Column("session_number", "培训班编号", aliases=("培训编号", "班次编号", "期次编号"), required=True),
        Column(
            "kind",
            "培训类别",
            kind="code",
            code_list="training_kind",
            aliases=("培训类型", "培训对象类别"),
            required=True,
            width=22,
        ),
        Column("title", "培训班名称", aliases=("培训名称", "班次名称", "培训项目"), required=True, width=30),
        Column("organiser", "主办单位", aliases=("承办单位", "举办单位", "培训机构"), width=30),
        Column(
            "start_on",
            "开班日期",
            kind="date",
            aliases=("开始日期", "培训开始日期", "开始时间"),
            required=True,
            month_ok=False,
        ),
        Column(
            "end_on",
            "结业日期",
            kind="date",
            aliases=("结束日期", "培训结束日期", "结束时间"),
            required=True,
            month_ok=False,
        ),
        Column("place", "培训地点", aliases=("地点", "举办地点")),
        Column(
            "participants",
            "参训人数",
            kind="int",
            aliases=("培训人数", "学员人数", "参加人数", "培训人次"),
            required=True,
            non_negative=True,
        ),
    ),
)

TRAINING_PARTICIPANTS = Spec(
    "培训学员",
    (
        Column("session_number", "培训班编号", aliases=("培训编号", "班次编号", "期次编号"), required=True),
        Column(
            "kind",
            "培训类别",
            kind="code",
            code_list="training_kind",
            aliases=("培训类型", "培训对象类别"),
            required=True,
            width=22,
        ),
        Column("id_number", "身份证号", kind="raw", aliases=ID_ALIASES, required=True, width=22),
        Column(
            "trained_on",
            "培训日期",
            kind="date",
            aliases=("开班日期", "培训开始日期", "参训日期"),
            required=True,
            month_ok=False,
        ),
    ),
)
