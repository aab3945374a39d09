"""Deleting what we no longer keep: idle upload sessions, old audit events, tenants uninstalled long ago.

Each session and each tenant goes in a transaction of its own that first locks its row (`FOR UPDATE SKIP LOCKED`
on PostgreSQL) and re-checks the condition, so two clean-ups running at once share the work instead of colliding,
and a session touched in the meantime survives. The tables to empty are read from the metadata, so a table added
later with a `tenant_id` (or a `session_id` pointing at the session) is purged without anyone remembering to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from app.db.engine import SessionFactory
from app.db.models import ACTIVE_TASK_STATES, AuditEvent, ExportSummary, Task, Tenant, TicketRecord, UploadSession


def _tables_referencing(target: str, column: str) -> list[Table]:
    """Tables whose `column` is a foreign key to `target`, children before parents."""
    return [
        table
        for table in reversed(SQLModel.metadata.sorted_tables)
        if column in table.c and any(fk.column.table.name == target for fk in table.c[column].foreign_keys)
    ]


class RetentionRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def idle_sessions(self, *, idle_before: datetime, limit: int = 500) -> list[tuple[int, int]]:
        """(tenant id, session id) of sessions idle since `idle_before`, of every tenant: for the clean-up."""
        with self._sessions() as session:
            query = (
                select(UploadSession.tenant_id, UploadSession.id)
                .where(col(UploadSession.last_activity_at) < idle_before)
                .order_by(col(UploadSession.id))
                .limit(limit)
            )
            return [(tenant_id, i) for tenant_id, i in session.exec(query) if i is not None]

    def delete_session(self, session_id: int, *, tenant_id: int, idle_before: datetime) -> bool:
        """Delete one idle session of the tenant and everything under it, keeping its export's summary; False if it
        is not the tenant's, was touched, is being deleted by another clean-up, or has a run in progress."""
        with self._sessions() as session:
            upload = session.exec(
                select(UploadSession)
                .where(
                    UploadSession.id == session_id,
                    UploadSession.tenant_id == tenant_id,
                    col(UploadSession.last_activity_at) < idle_before,
                )
                .with_for_update(skip_locked=True)
            ).first()
            if upload is None or _has_active_task(session, tenant_id, session_id):
                return False
            summary = _export_summary(session, upload)
            # The summary's INSERT is flushed by the first DELETE below (autoflush), not by commit(): everything
            # that writes belongs in the try, so a conflict rolls the whole session back.
            try:
                if summary is not None:
                    session.add(summary)
                for table in _tables_referencing("upload_sessions", "session_id"):
                    rows = delete(table).where(table.c.session_id == session_id)
                    session.execute(rows.where(table.c.tenant_id == tenant_id) if "tenant_id" in table.c else rows)
                session.delete(upload)
                session.commit()
            except IntegrityError:
                # Another clean-up kept the summary first (SQLite has no row locks): that one deletes the session.
                session.rollback()
                return False
            return True

    def delete_audit_events(self, *, before: datetime) -> int:
        with self._sessions() as session:
            result = session.exec(delete(AuditEvent).where(col(AuditEvent.created_at) < before))
            session.commit()
            return result.rowcount

    def uninstalled_tenants(self, *, uninstalled_before: datetime) -> list[int]:
        with self._sessions() as session:
            query = select(Tenant.id).where(
                col(Tenant.uninstalled_at).is_not(None), col(Tenant.uninstalled_at) < uninstalled_before
            )
            return [i for i in session.exec(query) if i is not None]

    def purge_tenant(self, tenant_id: int, *, uninstalled_before: datetime) -> bool:
        """Delete a tenant uninstalled before the cut-off with all its rows; False if it was installed again (or
        another clean-up holds it)."""
        with self._sessions() as session:
            tenant = session.exec(
                select(Tenant)
                .where(
                    Tenant.id == tenant_id,
                    col(Tenant.uninstalled_at).is_not(None),
                    col(Tenant.uninstalled_at) < uninstalled_before,
                )
                .with_for_update(skip_locked=True)
            ).first()
            if tenant is None:
                return False
            for table in _tables_referencing("tenants", "tenant_id"):
                session.execute(delete(table).where(table.c.tenant_id == tenant_id))
            session.delete(tenant)
            session.commit()
            return True

    def export_summaries(self, *, tenant_id: int, project_key: str) -> list[ExportSummary]:
        """Newest first."""
        with self._sessions() as session:
            query = (
                select(ExportSummary)
                .where(ExportSummary.tenant_id == tenant_id, ExportSummary.project_key == project_key)
                .order_by(col(ExportSummary.exported_at).desc())
            )
            return list(session.exec(query))

    def delete_tenantless_tasks(self, *, before: datetime) -> int:
        """Worker pings (`dtg check-worker`) belong to no tenant and no session."""
        with self._sessions() as session:
            result = session.exec(
                delete(Task).where(
                    col(Task.tenant_id).is_(None),
                    col(Task.session_id).is_(None),
                    col(Task.updated_at) < before,
                    col(Task.state).not_in(ACTIVE_TASK_STATES),
                )
            )
            session.commit()
            return result.rowcount


def _has_active_task(session: Session, tenant_id: int, session_id: int) -> bool:
    query = (
        select(func.count())
        .select_from(Task)
        .where(Task.tenant_id == tenant_id, Task.session_id == session_id, col(Task.state).in_(ACTIVE_TASK_STATES))
    )
    return bool(session.exec(query).one())


def _export_summary(session: Session, upload: UploadSession) -> ExportSummary | None:
    """The latest ended export of the session, reduced to its summary and the issues it created."""
    assert upload.id is not None
    task = session.exec(
        select(Task)
        .where(
            Task.tenant_id == upload.tenant_id,
            Task.session_id == upload.id,
            Task.kind == "export",
            col(Task.state).not_in(ACTIVE_TASK_STATES),
        )
        .order_by(col(Task.id).desc())
    ).first()
    if task is None:
        return None
    issues = session.exec(
        select(TicketRecord.key, TicketRecord.jira_key)
        .where(
            TicketRecord.tenant_id == upload.tenant_id,
            TicketRecord.session_id == upload.id,
            col(TicketRecord.jira_key).is_not(None),
        )
        .order_by(col(TicketRecord.position), col(TicketRecord.key))
    ).all()
    summary: dict[str, Any] = {
        "state": task.state,
        "message": task.message,
        "summary": (task.detail or {}).get("summary") or {},
        "issues": [{"ticket": key, "jiraKey": jira_key} for key, jira_key in issues],
    }
    return ExportSummary(
        tenant_id=upload.tenant_id,
        session_id=upload.id,
        project_key=upload.project_key,
        exported_at=task.updated_at,
        summary=summary,
    )
