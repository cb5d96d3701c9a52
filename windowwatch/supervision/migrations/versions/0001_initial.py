"""The supervision store: items, transitions, outbox (SPEC §4.11).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
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
    )
    op.create_index("ix_items_state", "items", ["state"])
    op.create_index("ix_items_department", "items", ["department_id"])
    op.create_table(
        "transitions",
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
    op.create_table(
        "outbox",
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
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("transitions")
    op.drop_index("ix_items_department", "items")
    op.drop_index("ix_items_state", "items")
    op.drop_table("items")
