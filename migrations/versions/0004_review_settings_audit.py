"""Ticket assignees, per-tenant settings, and the audit trail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assignee_account_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("assignee_name", sa.String(255), nullable=True))
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("llm_provider", sa.String(32), nullable=False),
        sa.Column("llm_model", sa.String(128), nullable=False),
        sa.Column("llm_api_key_encrypted", sa.String(), nullable=True),
        sa.Column("llm_base_url", sa.String(1024), nullable=True),
        sa.Column("status_mapping", sa.JSON(), nullable=False),
        sa.Column("default_labels", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("upload_sessions.id"), nullable=True),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_events_tenant_id", "audit_events", ["tenant_id"])
    op.create_index("ix_audit_events_session_id", "audit_events", ["session_id"])
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])


def downgrade() -> None:
    for index in ("created_at", "session_id", "tenant_id"):
        op.drop_index(f"ix_audit_events_{index}", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("tenant_settings")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("assignee_name")
        batch.drop_column("assignee_account_id")
