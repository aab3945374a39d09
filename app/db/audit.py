"""The audit trail: who did what in an upload session, always written and read within one tenant."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.db.engine import SessionFactory
from app.db.models import AuditEvent
from app.db.sessions import require_session


class AuditRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def record(
        self,
        *,
        tenant_id: int,
        session_id: int | None,
        account_id: str | None,
        action: str,
        detail: dict[str, Any] | None = None,
    ) -> AuditEvent:
        with self._sessions() as session:
            if session_id is not None:
                require_session(session, tenant_id=tenant_id, session_id=session_id)
            event = AuditEvent(
                tenant_id=tenant_id, session_id=session_id, account_id=account_id, action=action, detail=detail or {}
            )
            session.add(event)
            session.commit()
            session.refresh(event)
            return event

    def list_for_session(self, *, tenant_id: int, session_id: int, limit: int = 200) -> list[AuditEvent]:
        """Newest first."""
        with self._sessions() as session:
            query = (
                select(AuditEvent)
                .where(AuditEvent.tenant_id == tenant_id, AuditEvent.session_id == session_id)
                .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
                .limit(limit)
            )
            return list(session.exec(query))
