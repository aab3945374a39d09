"""Retention: export summaries outlive their session, audit events lose their session foreign key; worker heartbeats.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# PostgreSQL's name for the unnamed constraint of 0004; SQLite's constraints have no name, so batch mode is told one.
PG_AUDIT_FK = "audit_events_session_id_fkey"
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_AUDIT_FK = "fk_audit_events_session_id_upload_sessions"


def upgrade() -> None:
    op.create_table(
        "export_summaries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("project_key", sa.String(64), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", name="uq_export_summaries_session"),
    )
    op.create_index("ix_export_summaries_tenant_id", "export_summaries", ["tenant_id"])
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("audit_events", naming_convention=SQLITE_NAMES) as batch:
            batch.drop_constraint(SQLITE_AUDIT_FK, type_="foreignkey")
    else:
        op.drop_constraint(PG_AUDIT_FK, "audit_events", type_="foreignkey")


def downgrade() -> None:
    # Events of sessions deleted since cannot point at them again.
    op.execute(
        "UPDATE audit_events SET session_id = NULL "
        "WHERE session_id IS NOT NULL AND session_id NOT IN (SELECT id FROM upload_sessions)"
    )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("audit_events", naming_convention=SQLITE_NAMES) as batch:
            batch.create_foreign_key(SQLITE_AUDIT_FK, "upload_sessions", ["session_id"], ["id"])
    else:
        op.create_foreign_key(PG_AUDIT_FK, "audit_events", "upload_sessions", ["session_id"], ["id"])
    op.drop_table("worker_heartbeats")
    op.drop_index("ix_export_summaries_tenant_id", table_name="export_summaries")
    op.drop_table("export_summaries")
