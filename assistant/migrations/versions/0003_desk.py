"""teams, agents, routing, SLAs and effort scores

Revision ID: 0003_desk
Revises: 0002_conversations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_desk"
down_revision = "0002_conversations"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
CONVERSATION_COLUMNS: list[sa.Column] = [  # type: ignore[type-arg]
    sa.Column("team_id", sa.String(64), nullable=True),
    sa.Column("topic", sa.String(32), nullable=True),
    sa.Column("stage", sa.String(32), nullable=True),
    sa.Column("origin", sa.String(80), nullable=True),
    sa.Column("rank", sa.Float(), nullable=True),
    sa.Column("band", sa.String(16), nullable=True),
    sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("deferred_until", TIME, nullable=True),
    sa.Column("assigned_at", TIME, nullable=True),
    sa.Column("first_human_reply_at", TIME, nullable=True),
    sa.Column("closed_at", TIME, nullable=True),
    sa.Column("sla_first_due", TIME, nullable=True),
    sa.Column("sla_resolution_due", TIME, nullable=True),
    sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("handovers", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("ces_score", sa.Integer(), nullable=True),
    sa.Column("ces_answered_at", TIME, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("conv_conversations") as batch:
        for column in CONVERSATION_COLUMNS:
            batch.add_column(column)
        batch.create_check_constraint("ck_conv_ces_score", "ces_score IS NULL OR ces_score BETWEEN 1 AND 7")
    op.create_index("ix_conv_queue", "conv_conversations", ["status", "team_id", "rank"])
    op.create_index("ix_conv_conversations_origin", "conv_conversations", ["origin"])

    op.create_table(
        "desk_teams",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("lead_webhook_url", sa.String(500), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "desk_agents",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("load", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("last_assigned_at", TIME, nullable=True),
        sa.Column("status_changed_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("load >= 0", name="ck_desk_agents_load"),
        sa.CheckConstraint("capacity >= 0", name="ck_desk_agents_capacity"),
    )
    op.create_index("ix_desk_agents_free", "desk_agents", ["status", "load"])
    op.create_table(
        "desk_team_members",
        sa.Column(
            "team_id", sa.String(64), sa.ForeignKey("desk_teams.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "agent_name",
            sa.String(64),
            sa.ForeignKey("desk_agents.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_index("ix_desk_team_members_agent", "desk_team_members", ["agent_name"])
    op.create_table(
        "desk_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("team_id", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_desk_events_conversation", "desk_events", ["conversation_id"])
    op.create_index("ix_desk_events_kind_at", "desk_events", ["kind", "at"])
    op.create_table(
        "desk_macros",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("desk_macros")
    op.drop_index("ix_desk_events_kind_at", table_name="desk_events")
    op.drop_index("ix_desk_events_conversation", table_name="desk_events")
    op.drop_table("desk_events")
    op.drop_index("ix_desk_team_members_agent", table_name="desk_team_members")
    op.drop_table("desk_team_members")
    op.drop_index("ix_desk_agents_free", table_name="desk_agents")
    op.drop_table("desk_agents")
    op.drop_table("desk_teams")
    op.drop_index("ix_conv_conversations_origin", table_name="conv_conversations")
    op.drop_index("ix_conv_queue", table_name="conv_conversations")
    with op.batch_alter_table("conv_conversations") as batch:
        batch.drop_constraint("ck_conv_ces_score", type_="check")
        for column in reversed(CONVERSATION_COLUMNS):
            batch.drop_column(column.name)
