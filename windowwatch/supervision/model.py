"""The supervision store's tables (SQLAlchemy Core) and the vocabulary of the workflow.

The tables are created and changed only by the Alembic revisions in `migrations/versions/`;
`metadata` here describes the newest revision for the queries (tests check the two agree).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

items = sa.Table(
    "items",
    metadata,
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("department_id", sa.String(64)),
    sa.Column("window_id", sa.String(64)),
    sa.Column("evidence", sa.Text),
    sa.Column("trigger_at", sa.DateTime),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("notified_at", sa.DateTime),
    sa.Column("reply_by", sa.DateTime),
    sa.Column("fix_by", sa.DateTime),
    sa.Column("acknowledged_at", sa.DateTime),
    sa.Column("rectified_at", sa.DateTime),
    sa.Column("escalated_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("close_reason", sa.String(16)),
    sa.Column("trigger_cleared", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("trigger_cleared_at", sa.DateTime),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.UniqueConstraint("kind", "subject_id", "rule", name="uq_items_trigger"),
    sa.Index("ix_items_state", "state"),
    sa.Index("ix_items_department", "department_id"),
)

transitions = sa.Table(
    "transitions",
    metadata,
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.item_id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("reason", sa.String(200)),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("message_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.item_id")),
    sa.Column("recipient_role", sa.String(16), nullable=False),
    sa.Column("department_id", sa.String(64)),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.String(400), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_outbox_unsent", "sent_at"),
)

video_reviews = sa.Table(  # 视频复核 (SPEC §4.11): a person's decision on a pending video flag, final once made
    "video_reviews",
    metadata,
    sa.Column("flag_id", sa.String(200), primary_key=True),
    sa.Column("decision", sa.String(16), nullable=False),  # confirmed | dismissed
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("reviewer", sa.String(64), nullable=False),
    sa.Column("reviewed_at", sa.DateTime, nullable=False),
    sa.Column("window_id", sa.String(64)),
    sa.Column("flag_type", sa.String(32)),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.item_id")),  # the item a confirmation opened
)

audit_pending = sa.Table(  # an audit entry staged in the change's transaction, appended to the log after it (journal.py)
    "audit_pending",
    metadata,
    sa.Column("txn", sa.String(255), primary_key=True),
    sa.Column("entry", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# ------------------------------------------------------------------ vocabulary

OPEN, NOTIFIED, ACKNOWLEDGED, RECTIFIED, CLOSED, ESCALATED = (
    "open", "notified", "acknowledged", "rectified", "closed", "escalated")
STATES = (OPEN, NOTIFIED, ACKNOWLEDGED, RECTIFIED, CLOSED, ESCALATED)
STATE_ZH = {OPEN: "待督办", NOTIFIED: "已督办", ACKNOWLEDGED: "已回告", RECTIFIED: "已整改", CLOSED: "已销号",
            ESCALATED: "已升级"}

ACTIONS = ("notify", "acknowledge", "rectify", "close", "escalate", "reopen")
ACTION_ZH = {"notify": "督办", "acknowledge": "回告", "rectify": "整改", "close": "销号", "escalate": "升级",
             "reopen": "重新打开", "open": "立项", "recur": "再次触发", "auto_escalate": "逾期自动升级"}
CLOSE_REASONS = {"rectified": "整改到位", "handled": "已处理", "false_alarm": "误报"}

# trigger kinds (docs/rules.md#supervision-督办)
KINDS = ("red_card", "legal_overdue", "off_book", "timeliness", "bad_review_late", "video_flag", "rating_integrity",
         "substantiated_complaint", "manual")
KIND_ZH = {"red_card": "红牌（超承诺时限）", "legal_overdue": "超法定时限", "off_book": "体外循环信号",
           "timeliness": "时限合规信号", "bad_review_late": "差评整改超期", "video_flag": "视频巡查违规",
           "rating_integrity": "评价真实性信号", "substantiated_complaint": "查实投诉",
           "manual": "人工督办"}
# a manual item (workflow.open_manual): subject = its case, else its window; rule = MANUAL-<n>, n counting the
# manual items of that subject, so one subject can have several and the trigger key stays unique
MANUAL = "manual"
MANUAL_RULE = "MANUAL"

REVIEW_DECISIONS = ("confirmed", "dismissed")

SYSTEM_ACTOR = "system"  # `supervise sync`
