"""The epics an export created, one per area of a session.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_epics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("upload_sessions.id"), nullable=False),
        sa.Column("epic_key", sa.String(255), nullable=False),
        sa.Column("jira_key", sa.String(64), nullable=False),
        sa.Column("jira_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "epic_key", name="uq_export_epics_session_key"),
    )
    op.create_index("ix_export_epics_tenant_id", "export_epics", ["tenant_id"])
    op.create_index("ix_export_epics_session_id", "export_epics", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_export_epics_session_id", table_name="export_epics")
    op.drop_index("ix_export_epics_tenant_id", table_name="export_epics")
    op.drop_table("export_epics")
