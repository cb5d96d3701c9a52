"""The feed contract: every feed's columns, types, aliases and enums.

This module is the single source of truth for what a delivery may contain and what the
landing Parquet holds. Ingest validates against it, the generator writes to it, the
Great Expectations raw suites and the dbt sources are checked against it.

Landing types (polars dtype names) are fixed per column type:
    str -> String, int -> Int64, float -> Float64, bool -> Boolean, date -> Date,
    datetime -> Datetime("us") (naive, local Asia/Shanghai), time -> Time,
    month -> Date (first day of the month), rating -> Int8 (5 = 非常满意 … 1 = 非常不满意),
    list -> String (canonical values joined by ';').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["str", "int", "float", "bool", "date", "datetime", "time", "month", "rating", "list"]
PiiAction = Literal["hash", "drop", "scrub"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "str"
    aliases: tuple[str, ...] = ()
    required: bool = False
    # canonical value -> accepted aliases (Chinese labels); None = free text
    enum: dict[str, tuple[str, ...]] | None = None
    # hash: HMAC-SHA256 hex into column f"{name}_hmac"; drop: never lands; scrub: ID/phone removed
    pii: PiiAction | None = None
    # reference check: the value must exist in that reference feed's key
    references: str | None = None
    description: str = ""
    # int/float columns: a smaller value is quarantined as bad_value (ingest/validation.py:below_minimum)
    # and fails the raw gate (expectations/raw.py)
    min_value: float | None = None

    def __post_init__(self) -> None:
        if self.min_value is not None and self.type not in ("int", "float"):
            raise ValueError(f"{self.name}: min_value applies to int/float columns, not {self.type}")


@dataclass(frozen=True)
class Feed:
    name: str
    kind: Literal["reference", "event"]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # event feeds: the column that dates a row (landing partition) and orders updates
    time_column: str | None = None
    optional: bool = False
    description: str = ""
    # column name -> Column, filled in __post_init__
    by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def landed_columns(self) -> list[str]:
        """Column names as they appear in landing (PII hashed/dropped), without metadata."""
        out: list[str] = []
        for c in self.columns:
            if c.pii == "drop":
                continue
            out.append(f"{c.name}_hmac" if c.pii == "hash" else c.name)
        return out


# Metadata columns added to every landed row.
LANDING_METADATA = {
    "_delivery_id": "String",  # SHA-256 of the delivery's content
    "_source": "String",  # file path relative to the inbox, or "sql:<name>" / "http:<name>"
    "_line": "Int64",  # 1-based line in the source file (header = line 1 for CSV/XLSX)
    "_ingested_at": "Datetime",  # when the delivery landed (local time)
}

BOOL_TRUE = ("true", "1", "y", "yes", "t", "是")
BOOL_FALSE = ("false", "0", "n", "no", "f", "否")

# Internal rating scale: 5 = 非常满意 … 1 = 非常不满意.
RATING_LABELS: dict[int, tuple[str, ...]] = {
    5: ("非常满意", "very_satisfied"),
    4: ("满意", "satisfied"),
    3: ("基本满意", "basically_satisfied"),
    2: ("不满意", "dissatisfied"),
    1: ("非常不满意", "very_dissatisfied"),
}

EVENT_TYPES = {
    "submit": ("收件",),
    "accept": ("受理",),
    "reject": ("不予受理",),
    "supplement_request": ("补正告知",),
    "supplement_received": ("补正收讫",),
    "suspend": ("特别程序开始", "挂起"),
    "resume": ("特别程序结束", "恢复"),
    "extend": ("延期",),
    "approve": ("审批", "决定"),
    "complete": ("办结",),
    "deliver": ("送达", "出证"),
    "withdraw": ("撤回",),
}

FLAG_TYPES = {
    "absent": ("脱岗", "空岗"),
    "phone": ("玩手机",),
    "sleeping": ("睡岗",),
    "eating": ("进食",),
    "chatting": ("闲聊",),
    "attire": ("着装不规范",),
    "private_handover": ("私下收件", "私下递件", "私下收件/递件"),
    "unauthorized_person": ("非工作人员进入",),
    "smoking": ("吸烟",),
    "other": ("其他",),
}

# Reasons of a `suspend` (特别程序): the procedures 行政许可法 art. 45 lets a window leave out of the limit.
PAUSE_REASONS = {
    "hearing": ("听证",),
    "tender": ("招标",),
    "auction": ("拍卖",),
    "inspection": ("检验",),
    "testing": ("检测",),
    "quarantine": ("检疫",),
    "appraisal": ("鉴定",),
    "expert_review": ("专家评审",),
    "survey": ("勘测",),
    "other": ("其他",),
}

APPROVAL_MODES = {
    "standard": ("一般",),
    "commitment": ("告知承诺",),
    "tolerance": ("容缺受理",),
}

REASON_CODES = {
    "attitude": ("态度差",),
    "slow": ("办理慢",),
    "multiple_trips": ("多次跑",),
    "sent_to_department": ("让去原单位办",),
    "unclear_guidance": ("指南不清",),
    "other": ("其他",),
}


# v2, reference feeds items and windows: the row is the version of its key in force from that date
# until the next version of the key (docs/rules.md#reference-versions); rows without it keep v1's
# meaning (the latest delivery wins, for all time).
VALID_FROM = "v2: the version applies from this date until the next version of the key; none = the latest delivery wins"

WINDOWS = Feed(
    name="windows",
    kind="reference",
    key=("window_id",),
    description="Service windows of the centre (full snapshot; the latest delivery wins).",
    columns=(
        Column("window_id", aliases=("窗口编号",), required=True),
        Column("window_name", aliases=("窗口名称",)),
        Column("department_id", aliases=("部门编码",)),
        Column("department_name", aliases=("部门名称",)),
        Column("center_id", aliases=("中心编码",)),
        Column("center_name", aliases=("中心名称",)),
        Column(
            "window_kind",
            aliases=("窗口类型",),
            enum={
                "comprehensive": ("综合", "综合窗口"),
                "specialized": ("专业", "专业窗口"),
                "immediate": ("即办", "即办窗口"),
                "public_service": ("公共服务", "公共服务窗口"),
            },
        ),
        Column("opened_on", "date", aliases=("启用日期",)),
        Column("closed_on", "date", aliases=("停用日期",)),
        Column("valid_from", "date", aliases=("生效日期",), description=VALID_FROM),
    ),
)

ITEMS = Feed(
    name="items",
    kind="reference",
    key=("item_code",),
    description="Government service items (事项) with their time limits.",
    columns=(
        Column("item_code", aliases=("实施编码", "事项编码"), required=True),
        Column("item_name", aliases=("事项名称",)),
        Column("department_id", aliases=("部门编码",)),
        Column("item_kind", aliases=("办件类型",), enum={"immediate": ("即办件", "即办"), "promised": ("承诺件", "承诺")}),
        Column("legal_limit", "int", aliases=("法定办结时限",)),
        Column("promised_limit", "int", aliases=("承诺办结时限",)),
        Column("limit_unit", aliases=("时限单位",), enum={"workday": ("工作日",), "calendar_day": ("自然日",)}),
        Column("fee_required", "bool", aliases=("是否收费",)),
        Column("max_extension_days", "int", aliases=("延期上限",), description="default from the scoring file"),
        Column("deliver_limit", "int", aliases=("送达时限",),
               description="working days from the decision; default from the scoring file"),
        Column("approval_mode", aliases=("审批方式",), enum=APPROVAL_MODES, description="default standard"),
        Column("valid_from", "date", aliases=("生效日期",), description=VALID_FROM),
    ),
)

STAFF = Feed(
    name="staff",
    kind="reference",
    key=("staff_id",),
    columns=(
        Column("staff_id", aliases=("工作人员编号",), required=True),
        Column("staff_name", aliases=("工作人员姓名",)),
        Column("window_id", aliases=("窗口编号",)),
        Column("department_id", aliases=("部门编码",)),
        Column("active_from", "date", aliases=("在岗开始日期",)),
        Column("active_to", "date", aliases=("在岗结束日期",)),
    ),
)

INSPECTORS = Feed(
    name="inspectors",
    kind="reference",
    key=("inspector_id",),
    description="执法检查人员名录库: the inspector pool of the double-random audit.",
    columns=(
        Column("inspector_id", aliases=("检查人员编号",), required=True),
        Column("inspector_name", aliases=("检查人员姓名",)),
        Column("department_id", aliases=("部门编码",)),
        Column("qualifications", "list", aliases=("资格", "执法资格")),
        Column("active", "bool", aliases=("是否在岗", "有效")),
    ),
)

CALENDAR = Feed(
    name="calendar",
    kind="reference",
    key=("date",),
    optional=True,
    description="Official calendar override (e.g. next year's 调休 arrangement); wins over chinesecalendar.",
    columns=(
        Column("date", "date", aliases=("日期",), required=True),
        Column("is_workday", "bool", aliases=("是否工作日",), required=True),
        Column("note", aliases=("备注",)),
    ),
)

HALL_HOURS = Feed(
    name="hall_hours",
    kind="reference",
    key=("scope_id", "day_kind"),
    optional=True,
    description="Opening hours per centre or window; a window's rows win over its centre's.",
    columns=(
        Column("scope_id", aliases=("范围编码",), required=True),
        Column(
            "day_kind",
            aliases=("日期类型",),
            required=True,
            enum={"workday": ("工作日",), "non_workday": ("非工作日", "休息日")},
        ),
        Column("open_time", "time", aliases=("开始时间",)),
        Column("close_time", "time", aliases=("结束时间",)),
    ),
)

DEPT_VOLUMES = Feed(
    name="dept_volumes",
    kind="reference",
    key=("department_id", "month"),
    optional=True,
    description="Departments' own counts of cases for items that belong in the centre (应进必进).",
    columns=(
        Column("department_id", aliases=("部门编码",), required=True),
        Column("month", "month", aliases=("月份",), required=True),
        Column("reported_cases", "int", aliases=("办件量", "上报办件量")),
    ),
)

STEP_LIMITS = Feed(
    name="step_limits",
    kind="reference",
    key=("item_code", "from_event", "to_event"),
    optional=True,
    description="环节时限: working days allowed between two steps of a case; item_code * = every item.",
    columns=(
        Column("item_code", aliases=("实施编码", "事项编码"), required=True),
        Column("from_event", aliases=("起始环节",), required=True, enum=EVENT_TYPES),
        Column("to_event", aliases=("结束环节",), required=True, enum=EVENT_TYPES),
        Column("limit_workdays", "int", aliases=("环节时限",), required=True),
    ),
)

TRANSACTIONS = Feed(
    name="transactions",
    kind="event",
    key=("event_id",),
    time_column="event_time",
    description="办件流水: one row per step of a case.",
    columns=(
        Column("event_id", aliases=("流水号",), required=True),
        Column("case_id", aliases=("办件编号",), required=True),
        Column("event_type", aliases=("环节",), required=True, enum=EVENT_TYPES),
        Column("event_time", "datetime", aliases=("环节时间",), required=True),
        Column("recorded_at", "datetime", aliases=("录入时间",), description="defaults to event_time"),
        Column("window_id", aliases=("窗口编号",), required=True, references="windows"),
        Column("staff_id", aliases=("工作人员编号",)),
        Column("item_code", aliases=("实施编码", "事项编码"), required=True, references="items"),
        Column(
            "channel",
            aliases=("申报来源",),
            enum={"window": ("窗口",), "online": ("网上",), "mail": ("邮寄",), "self_service": ("自助",)},
        ),
        Column("extend_days", "int", aliases=("延期天数",)),
        Column("applicant_id", aliases=("申请人证件号码", "证件号码"), pii="hash"),
        Column("applicant_name", aliases=("申请人姓名", "申请人名称"), pii="drop"),
        Column("applicant_phone", aliases=("申请人联系电话", "联系电话"), pii="hash"),
        Column("fee_amount", "float", aliases=("收费金额",)),
        Column("fee_paid_at_center", "bool", aliases=("是否中心缴费",)),
        Column("pause_reason", aliases=("特别程序事由", "挂起原因"), enum=PAUSE_REASONS, description="on suspend"),
        Column("approval_mode", aliases=("审批方式",), enum=APPROVAL_MODES,
               description="on accept; overrides the item's"),
    ),
)

EVALUATIONS = Feed(
    name="evaluations",
    kind="event",
    key=("evaluation_id",),
    time_column="evaluated_at",
    description="好差评: ratings and the follow-up of bad reviews.",
    columns=(
        Column("evaluation_id", aliases=("评价编号",), required=True),
        Column("case_id", aliases=("办件编号",)),
        Column("window_id", aliases=("窗口编号",), required=True, references="windows"),
        Column("staff_id", aliases=("工作人员编号",)),
        Column("rating", "rating", aliases=("满意度",), required=True),
        Column(
            "channel",
            aliases=("评价渠道",),
            enum={
                "pad": ("政务大厅平板电脑",),
                "terminal": ("政务大厅其他终端",),
                "pc": ("PC端",),
                "mobile": ("移动服务端",),
                "qr": ("二维码",),
                "phone": ("电话",),
                "sms": ("短信",),
                "default": ("系统默认评价",),
            },
        ),
        Column("evaluated_at", "datetime", aliases=("评价时间",), required=True),
        Column("recorded_at", "datetime", aliases=("录入时间",), description="defaults to the latest of the row's times"),
        Column("round", "int", aliases=("评价次数",)),
        Column("reason_codes", "list", aliases=("评价原因",), enum=REASON_CODES),
        Column("comment", aliases=("文字评价",), pii="scrub"),
        Column("is_real_name", "bool", aliases=("是否实名",)),
        Column("verified_at", "datetime", aliases=("核实时间",)),
        Column("verdict", aliases=("核实结论",), enum={"valid": ("有效",), "invalid": ("无效差评", "无效")}),
        Column("rectified_at", "datetime", aliases=("整改完成时间",)),
        Column("callback_at", "datetime", aliases=("回访时间",)),
        # v2, optional (docs/rules.md#satisfaction): the rating pad, the appeal (申诉复核) and the
        # rater's view of the rectification at the callback (发回重办 when unsatisfied)
        Column("device_id", aliases=("评价设备编号",)),
        Column("appeal_at", "datetime", aliases=("申诉时间",)),
        Column("appeal_result", aliases=("申诉结果",), enum={"upheld": ("维持差评",), "overturned": ("撤销差评",)}),
        Column(
            "callback_result",
            aliases=("回访结果",),
            enum={"satisfied": ("满意",), "basically_satisfied": ("基本满意",), "unsatisfied": ("不满意",)},
        ),
    ),
)

VIDEO_FLAGS = Feed(
    name="video_flags",
    kind="event",
    key=("flag_id",),
    time_column="flagged_at",
    description="视频巡查: AI and inspector flags from the hall cameras, with their review.",
    columns=(
        Column("flag_id", aliases=("巡查编号",), required=True),
        Column("window_id", aliases=("窗口编号",), required=True, references="windows"),
        Column("camera_id", aliases=("摄像头编号",)),
        Column("flagged_at", "datetime", aliases=("发现时间",), required=True),
        Column("recorded_at", "datetime", aliases=("录入时间",), description="defaults to the latest of the row's times"),
        Column("flag_type", aliases=("问题类型",), required=True, enum=FLAG_TYPES),
        Column("source", aliases=("来源",), enum={"ai": ("AI", "智能识别"), "inspector": ("人工", "督查员")}),
        Column("confidence", "float", aliases=("置信度",)),
        Column(
            "review_status",
            aliases=("审核状态",),
            required=True,
            enum={"pending": ("待审核",), "confirmed": ("已确认", "确认"), "dismissed": ("已排除", "驳回")},
        ),
        Column("reviewed_at", "datetime", aliases=("审核时间",)),
        Column("reviewer_id", aliases=("审核人",)),
        Column("clip_ref", aliases=("视频片段",)),
    ),
)

EXTENDED_SERVICE = Feed(
    name="extended_service",
    kind="event",
    key=("service_id",),
    time_column="service_date",
    optional=True,
    description="延时服务登记: a window that stayed open past its hours on that day (事不办完不下班).",
    columns=(
        Column("service_id", aliases=("登记编号",), required=True),
        Column("window_id", aliases=("窗口编号",), required=True, references="windows"),
        Column("service_date", "date", aliases=("服务日期",), required=True),
        Column("until_time", "time", aliases=("延时至",)),
        Column("reason", aliases=("延时原因",)),
        Column("recorded_at", "datetime", aliases=("录入时间",), description="a later one updates the row"),
    ),
)

# Hall-operation feeds (optional, v2; docs/rules.md#hall-operations). Only the id and the column that
# dates a row are required (SPEC §3: every other column is optional); a window that no windows
# delivery has is quarantined like everywhere else.
RECORDED_AT = Column("recorded_at", "datetime", aliases=("录入时间",), description="defaults to the latest of the row's times")

ATTENDANCE = Feed(
    name="attendance",
    kind="event",
    key=("attendance_id",),
    time_column="work_date",
    optional=True,
    description="考勤: a staff member's sign-in and sign-out (指纹签到) or absence on a working day.",
    columns=(
        Column("attendance_id", aliases=("考勤编号",), required=True),
        Column("staff_id", aliases=("工作人员编号",), required=True),
        Column("window_id", aliases=("窗口编号",), references="windows",
               description="the window the staff member sat at; null: the staff's window (staff feed)"),
        Column("work_date", "date", aliases=("考勤日期", "工作日期"), required=True),
        Column("sign_in_at", "datetime", aliases=("签到时间",)),
        Column("sign_out_at", "datetime", aliases=("签退时间",)),
        Column(
            "absence_type",
            aliases=("缺勤类型", "考勤状态"),
            enum={"none": ("正常",), "leave": ("请假",), "business": ("公务外出", "公出"), "absent": ("旷岗", "旷工")},
            description="default none",
        ),
        RECORDED_AT,
    ),
)

QUEUE_TICKETS = Feed(
    name="queue_tickets",
    kind="event",
    key=("ticket_id",),
    time_column="issued_at",
    optional=True,
    description="排队叫号: one ticket of the hall's queue system, from issue to the end of its service.",
    columns=(
        Column("ticket_id", aliases=("排队号", "取号编号"), required=True),
        Column("center_id", aliases=("中心编码",)),
        Column("business_type", aliases=("业务类型", "排队业务"), description="an item_code or a queue name"),
        Column("window_id", aliases=("窗口编号", "叫号窗口"), references="windows",
               description="the window that called it; null if never called"),
        Column("issued_at", "datetime", aliases=("取号时间",), required=True),
        Column("called_at", "datetime", aliases=("叫号时间",)),
        Column("served_at", "datetime", aliases=("开始办理时间",)),
        Column("finished_at", "datetime", aliases=("办理结束时间",)),
        Column("status", aliases=("状态", "取号状态"),
               enum={"served": ("已办理",), "no_show": ("过号",), "cancelled": ("取消", "已取消")}),
        RECORDED_AT,
    ),
)

WORK_ORDERS = Feed(
    name="work_orders",
    kind="event",
    key=("order_id",),
    time_column="received_at",
    optional=True,
    description="12345 / 办不成事 工单: a complaint, consultation, suggestion or praise about the centre.",
    columns=(
        Column("order_id", aliases=("工单编号",), required=True),
        Column(
            "channel",
            aliases=("工单来源", "来源渠道"),
            enum={"hotline_12345": ("12345热线", "12345"), "cant_get_done": ("办不成事", "办不成事反映窗口"),
                  "mailbox": ("信箱", "意见箱"), "other": ("其他",)},
        ),
        Column("category", aliases=("工单类型", "诉求类型"),
               enum={"complaint": ("投诉",), "consultation": ("咨询",), "suggestion": ("建议",), "praise": ("表扬",)}),
        Column("received_at", "datetime", aliases=("受理时间", "接收时间"), required=True),
        Column("department_id", aliases=("部门编码", "承办部门编码")),
        Column("window_id", aliases=("窗口编号",), references="windows"),
        Column("due_at", "datetime", aliases=("办理时限", "应办结时间")),
        Column("responded_at", "datetime", aliases=("回复时间", "答复时间")),
        Column("closed_at", "datetime", aliases=("办结时间",)),
        Column("substantiated", "bool", aliases=("是否查实",), description="null until decided"),
        Column(
            "requester_satisfaction",
            aliases=("诉求人满意度", "满意度"),
            enum={"satisfied": ("满意",), "basically_satisfied": ("基本满意",), "unsatisfied": ("不满意",)},
        ),
        Column("content", aliases=("工单内容", "诉求内容"), pii="scrub"),
        RECORDED_AT,
    ),
)

INSPECTIONS = Feed(
    name="inspections",
    kind="event",
    key=("inspection_id",),
    time_column="inspected_at",
    optional=True,
    description="明察暗访 / 一日三查: an inspector's check of a window or the hall, with its finding and deduction.",
    columns=(
        Column("inspection_id", aliases=("检查编号",), required=True),
        Column("inspector_id", aliases=("检查人员编号", "检查人")),
        Column("center_id", aliases=("中心编码",)),
        Column("window_id", aliases=("窗口编号",), references="windows", description="null for a hall-wide check"),
        Column("inspected_at", "datetime", aliases=("检查时间",), required=True),
        Column("method", aliases=("检查方式",),
               enum={"video_spot": ("视频抽查",), "on_site": ("现场检查",), "mystery": ("暗访",)}),
        Column(
            "finding",
            aliases=("检查结果", "发现问题"),
            enum={"none": ("无问题",), "absent": ("脱岗",), "attitude": ("态度",), "discipline": ("纪律",),
                  "environment": ("环境",), "process": ("流程",), "other": ("其他",)},
        ),
        Column("deduction", "float", aliases=("扣分",), description="points, >= 0", min_value=0),
        Column("note", aliases=("备注",), pii="scrub"),
        RECORDED_AT,
    ),
)

# Reference feeds first: events are checked against them.
FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        WINDOWS, ITEMS, STAFF, INSPECTORS, CALENDAR, HALL_HOURS, DEPT_VOLUMES, STEP_LIMITS,
        TRANSACTIONS, EVALUATIONS, VIDEO_FLAGS, EXTENDED_SERVICE,
        ATTENDANCE, QUEUE_TICKETS, WORK_ORDERS, INSPECTIONS,
    )
}

# Quarantine rules. The rule id is stored with every quarantined row.
QUARANTINE_RULES = {
    "missing_required": "a required column is missing or empty",
    "unknown_enum": "a value is not one of the feed's enum values or their Chinese aliases",
    "bad_timestamp": "a time is not in one of the accepted formats",
    "bad_value": "a number, boolean or date cannot be parsed, or a number lies below its column's min_value",
    "rating_out_of_range": "a rating is not one of the five levels",
    "rating_direction_undeclared": "a numeric rating in a feed whose configuration declares no direction",
    "duplicate_conflict": "the same id was delivered with different content and no later recorded_at",
    "unknown_reference": "the row names a window or item that no reference delivery has",
    "missing_column": "the file lacks a required column",
    "unreadable_file": "the file cannot be read (encoding, format or truncation)",
}


def landing_contract_fingerprint() -> str:
    """A hash of what the landing files' columns are made from (each feed's columns, types and PII
    actions). The empty landing files dbt's source globs rely on are rewritten when it changes: an
    `_empty.parquet` from an older contract lacks the new columns and fails staging (ingest/landing_files.py)."""
    import hashlib
    import json

    shape = [(f.name, [(c.name, c.type, c.pii) for c in f.columns]) for f in FEEDS.values()]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]
