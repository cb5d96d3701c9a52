"""视频复核: the decisions people make on pending video flags (SPEC §4.11).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_reviews",
        sa.Column("flag_id", sa.String(200), primary_key=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False),
        sa.Column("window_id", sa.String(64)),
        sa.Column("flag_type", sa.String(32)),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.item_id")),
    )


def downgrade() -> None:
    op.drop_table("video_reviews")
