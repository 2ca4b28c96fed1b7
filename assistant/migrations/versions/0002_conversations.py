"""conversations, messages and suggested replies

Revision ID: 0002_conversations
Revises: 0001_shop
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_conversations"
down_revision = "0001_shop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conv_conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("assigned_agent", sa.String(64), nullable=True),
        sa.Column("takeover", sa.JSON(), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conv_conversations_status", "conv_conversations", ["status"])
    op.create_index("ix_conv_conversations_user_id", "conv_conversations", ["user_id"])
    op.create_table(
        "conv_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conv_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=True),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("tool_calls", sa.JSON(), nullable=False),
        sa.Column("guard", sa.JSON(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_conv_messages_conversation_seq", "conv_messages", ["conversation_id", "seq"], unique=True
    )
    op.create_table(
        "conv_suggestions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conv_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("draft_index", sa.Integer(), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("tool_results", sa.JSON(), nullable=False),
        sa.Column("proposed_actions", sa.JSON(), nullable=False),
        sa.Column("choice", sa.String(16), nullable=False),
        sa.Column("final_text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_conv_suggestions_conversation_id", "conv_suggestions", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("conv_suggestions")
    op.drop_table("conv_messages")
    op.drop_table("conv_conversations")
