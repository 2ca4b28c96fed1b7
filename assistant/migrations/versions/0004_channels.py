"""contacts, channel identities, channel messages and deliveries, one-time codes

Revision ID: 0004_channels
Revises: 0003_desk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_channels"
down_revision = "0003_desk"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_contacts_user_id", "contacts", ["user_id"])
    op.create_table(
        "contact_identities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "contact_id", sa.String(36), sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("proof", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("verified_at", TS, nullable=True),
    )
    op.create_index("ix_contact_identities_contact_id", "contact_identities", ["contact_id"])
    op.create_index("ix_contact_identities_kind_value", "contact_identities", ["kind", "value"], unique=True)
    with op.batch_alter_table("conv_conversations") as batch:
        batch.add_column(sa.Column("contact_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("identity_id", sa.Integer(), nullable=True))
        batch.create_index("ix_conv_conversations_contact_id", ["contact_id"])
    op.create_table(
        "chan_inbound",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(255), nullable=False),
        sa.Column("sender", sa.String(340), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("message_seq", sa.Integer(), nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS, nullable=True),
    )
    op.create_index(
        "ix_chan_inbound_channel_provider_id", "chan_inbound", ["channel", "provider_id"], unique=True
    )
    op.create_index("ix_chan_inbound_status", "chan_inbound", ["status"])
    op.create_index("ix_chan_inbound_conversation_id", "chan_inbound", ["conversation_id"])
    op.create_table(
        "chan_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conv_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("message_seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(340), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(255), nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index(
        "ix_chan_deliveries_conversation_seq",
        "chan_deliveries",
        ["conversation_id", "message_seq"],
        unique=True,
    )
    op.create_index("ix_chan_deliveries_status", "chan_deliveries", ["status"])
    op.create_table(
        "chan_thread_refs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(512), nullable=False),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conv_conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_chan_thread_refs_channel_ref", "chan_thread_refs", ["channel", "ref"], unique=True)
    op.create_index("ix_chan_thread_refs_conversation_id", "chan_thread_refs", ["conversation_id"])
    op.create_table(
        "chan_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "identity_otp_codes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("target", sa.String(320), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_identity_otp_codes_target", "identity_otp_codes", ["target"])


def downgrade() -> None:
    op.drop_table("identity_otp_codes")
    op.drop_table("chan_leases")
    op.drop_table("chan_thread_refs")
    op.drop_table("chan_deliveries")
    op.drop_table("chan_inbound")
    with op.batch_alter_table("conv_conversations") as batch:
        batch.drop_index("ix_conv_conversations_contact_id")
        batch.drop_column("identity_id")
        batch.drop_column("contact_id")
    op.drop_table("contact_identities")
    op.drop_table("contacts")
