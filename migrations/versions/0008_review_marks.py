"""Review progress: a ticket can be marked reviewed (and by whom), so the page counts "37 of 109 reviewed".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain ALTER TABLE (SQLite 3.35+ drops columns too): a batch rebuild would lose the table's AUTOINCREMENT (0006).


def upgrade() -> None:
    op.add_column("tickets", sa.Column("reviewed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tickets", sa.Column("reviewed_by", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "reviewed_by")
    op.drop_column("tickets", "reviewed")
