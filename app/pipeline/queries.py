"""What the fronts read: sessions, their files and tickets, tasks, the audit trail, each within its tenant.

The read side of the use cases, so a web handler, the CLI or the Forge front never reaches a repository itself.
Every function filters on the tenant (and the session): a record of another tenant is answered as not found.
"""

from __future__ import annotations

from app.db.models import AuditEvent, Task, TicketRecord, UploadSession
from app.db.sessions import SessionContents, StoredFile
from app.pipeline.ports import AuditPorts, GlancePorts, Scope, SessionPorts, TaskPorts

__all__ = [
    "SessionContents",
    "StoredFile",
    "find_session",
    "find_task",
    "latest_task",
    "project_sessions",
    "session_contents",
    "session_events",
    "session_file_types",
    "session_ticket",
    "session_tickets",
    "session_with_contents",
]


def find_session(ports: SessionPorts, tenant_id: int, session_id: int) -> UploadSession:
    """Raises: NotFoundError when the tenant has no such session."""
    return ports.sessions.get(session_id, tenant_id=tenant_id)


def project_sessions(
    ports: SessionPorts, tenant_id: int, project_key: str
) -> list[tuple[UploadSession, SessionContents]]:
    """The project's sessions, newest activity first, each with what it holds."""
    return ports.sessions.with_contents(tenant_id=tenant_id, project_key=project_key)


def session_with_contents(
    ports: SessionPorts, tenant_id: int, session_id: int
) -> tuple[UploadSession, SessionContents]:
    """`find_session` and what the session holds. Raises: NotFoundError when the tenant has no such session."""
    return ports.sessions.get_with_contents(session_id, tenant_id=tenant_id)


def session_contents(ports: SessionPorts, scope: Scope) -> SessionContents:
    return ports.sessions.contents([scope.session_id], tenant_id=scope.tenant_id)[scope.session_id]


def session_file_types(ports: SessionPorts, scope: Scope) -> list[StoredFile]:
    """The session's files with their chosen types, without their contents (a panel needs no 2 MB read for it)."""
    return ports.sessions.file_types(scope.session_id, tenant_id=scope.tenant_id)


def session_tickets(ports: GlancePorts, scope: Scope) -> list[TicketRecord]:
    return ports.tickets.list(tenant_id=scope.tenant_id, session_id=scope.session_id)


def session_ticket(ports: GlancePorts, scope: Scope, key: str) -> TicketRecord:
    """Raises: NotFoundError when the session has no ticket `key`."""
    return ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=key)


def find_task(ports: TaskPorts, tenant_id: int, task_id: int) -> Task | None:
    return ports.tasks.get(task_id, tenant_id=tenant_id)


def latest_task(ports: TaskPorts, scope: Scope, kind: str) -> Task | None:
    return ports.tasks.latest(tenant_id=scope.tenant_id, session_id=scope.session_id, kind=kind)


def session_events(ports: AuditPorts, scope: Scope) -> list[AuditEvent]:
    """The session's audit trail, newest first."""
    return ports.audit.list_for_session(tenant_id=scope.tenant_id, session_id=scope.session_id)
