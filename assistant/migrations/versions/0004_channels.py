"""contacts, channel identities, channel messages, deliveries (empty until filled in)

Revision ID: 0004_channels
Revises: 0003_desk
"""

from __future__ import annotations

revision = "0004_channels"
down_revision = "0003_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
