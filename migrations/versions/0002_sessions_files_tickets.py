"""Upload sessions, spec files, drafted tickets; tasks gain a session, a cancel flag and progress detail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("state IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "upload_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("project_key", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("site_name", sa.String(255), nullable=False),
        sa.Column("site_description", sa.String(2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_upload_sessions_tenant_id", "upload_sessions", ["tenant_id"])
    op.create_table(
        "spec_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("upload_sessions.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind_override", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "name", name="uq_spec_files_session_name"),
    )
    op.create_index("ix_spec_files_tenant_id", "spec_files", ["tenant_id"])
    op.create_index("ix_spec_files_session_id", "spec_files", ["session_id"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("upload_sessions.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        *[
            sa.Column(name, sa.JSON(), nullable=False)
            for name in (
                "labels",
                "description",
                "draft",
                "blocked_by",
                "relates_to",
                "source",
                "findings",
                "attachments",
                "usage",
            )
        ],
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        sa.Column("prose_written", sa.Boolean(), nullable=False),
        sa.Column("prose_flag", sa.String(1024), nullable=True),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "key", name="uq_tickets_session_key"),
    )
    op.create_index("ix_tickets_tenant_id", "tickets", ["tenant_id"])
    op.create_index("ix_tickets_session_id", "tickets", ["session_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("current", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_foreign_key("fk_tasks_session_id", "upload_sessions", ["session_id"], ["id"])
        batch.create_index("ix_tasks_session_id", ["session_id"])
    op.create_index(
        "uq_tasks_one_active_per_session",
        "tasks",
        ["session_id", "kind"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_tasks_one_active_per_session", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_session_id")
        batch.drop_constraint("fk_tasks_session_id", type_="foreignkey")
        for column in ("detail", "cancel_requested", "current", "session_id"):
            batch.drop_column(column)
    for table in ("tickets", "spec_files"):
        op.drop_index(f"ix_{table}_session_id", table_name=table)
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_upload_sessions_tenant_id", table_name="upload_sessions")
    op.drop_table("upload_sessions")
