"""one-time codes, pending actions, turn locks, action records (empty until filled in)

Revision ID: 0005_hardening
Revises: 0004_channels
"""

from __future__ import annotations

revision = "0005_hardening"
down_revision = "0004_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
