"""one-time codes, pending actions, turn locks, action records

Revision ID: 0005_hardening
Revises: 0004_channels
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_hardening"
down_revision = "0004_channels"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # --- confirm: one turn at a time per conversation (assistant/store/turns.py)
    op.create_table(
        "conv_turn_locks",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(160), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    # --- confirm: write-ahead record of the shop changes made (assistant/store/actions.py)
    op.create_table(
        "conv_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conv_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action_id", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("reported_seq", sa.Integer(), nullable=True),
    )
    op.create_index("ix_conv_actions_conversation_id", "conv_actions", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_conv_actions_conversation_id", table_name="conv_actions")
    op.drop_table("conv_actions")
    op.drop_table("conv_turn_locks")
