"""Export progress: tickets remember their Jira issue, error and attachments; links created are recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("jira_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("jira_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("export_error", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("export_error_who", sa.String(32), nullable=True))
        batch.add_column(sa.Column("attachments_done", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "export_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("upload_sessions.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_key", sa.String(255), nullable=False),
        sa.Column("to_key", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "kind", "from_key", "to_key", name="uq_export_links"),
    )
    op.create_index("ix_export_links_tenant_id", "export_links", ["tenant_id"])
    op.create_index("ix_export_links_session_id", "export_links", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_export_links_session_id", table_name="export_links")
    op.drop_index("ix_export_links_tenant_id", table_name="export_links")
    op.drop_table("export_links")
    with op.batch_alter_table("tickets") as batch:
        for column in ("attachments_done", "export_error_who", "export_error", "jira_id", "jira_key"):
            batch.drop_column(column)
