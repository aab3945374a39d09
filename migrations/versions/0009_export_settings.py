"""Per-site export settings: issue types for tickets and areas, epics on or off, defaults for required fields.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_settings",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("ticket_issue_type", sa.String(255), nullable=False),
        sa.Column("area_issue_type", sa.String(255), nullable=False),
        sa.Column("epics_enabled", sa.Boolean(), nullable=False),
        sa.Column("field_defaults", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("export_settings")
