"""Forge installations: the Forge front's tenants (by installationId, with cloudId) and their newest system token.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forge_installations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("installation_id", sa.String(255), nullable=False),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("cloud_id", sa.String(255), nullable=False),
        sa.Column("site_url", sa.String(1024), nullable=False),
        sa.Column("api_base_url", sa.String(1024), nullable=False),
        sa.Column("system_token_encrypted", sa.String(), nullable=True),
        sa.Column("system_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_invoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_forge_installations_installation_id", "forge_installations", ["installation_id"], unique=True)
    op.create_index("ix_forge_installations_tenant_id", "forge_installations", ["tenant_id"])
    op.create_index("ix_forge_installations_cloud_id", "forge_installations", ["cloud_id"])


def downgrade() -> None:
    op.drop_table("forge_installations")
