"""SQLite: AUTOINCREMENT on the ids that other data names, so a deleted row's id is never handed out again.

Without it SQLite reuses the highest id once that row is deleted: a new upload session would take over the Jira
issues (found by the session id in their `dtg-ticket` property), the export summary and the audit events of the
deleted one. PostgreSQL's sequences never reuse a value, so there this revision changes nothing.

Ids deleted before this revision ran cannot be known any more; from here on SQLite counts from the highest id left.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-13
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Keep in step with the tables marked `sqlite_autoincrement` in app/db/models.py.
TABLES = ("upload_sessions", "tasks", "tickets", "audit_events")


def _rebuild(autoincrement: bool) -> None:
    # SQLite cannot add AUTOINCREMENT to a table in place: batch mode copies the rows into a new table.
    # The migration engine does not enable foreign keys, so dropping the referenced old table is allowed.
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TABLES:
        with op.batch_alter_table(name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
