"""A workbook's tabs may have their type set by the director: {tab name: kind} on the workbook's spec file.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spec_files") as batch:
        batch.add_column(sa.Column("tab_kinds", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("spec_files") as batch:
        batch.drop_column("tab_kinds")
