"""A session may be the revision of an exported one: which, its lineage and the director's conflict choices.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upload_sessions") as batch:
        batch.add_column(sa.Column("revision", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload_sessions") as batch:
        batch.drop_column("revision")
