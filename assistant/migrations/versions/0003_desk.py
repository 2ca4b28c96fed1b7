"""teams, agents, routing, SLAs and effort scores (empty until filled in)

Revision ID: 0003_desk
Revises: 0002_conversations
"""

from __future__ import annotations

revision = "0003_desk"
down_revision = "0002_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
