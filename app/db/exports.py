"""Export progress of an upload session: which ticket became which issue, refusals, attachments and links."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import update
from sqlmodel import col, select

from app.db.engine import SessionFactory
from app.db.models import ExportEpic, ExportLink, TicketRecord, utcnow
from app.db.sessions import require_session

LinkKey = tuple[str, str, str]  # (kind, from_key, to_key)


class ExportRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def tickets(self, *, tenant_id: int, session_id: int) -> list[TicketRecord]:
        """The reviewed tickets to export (not excluded), in review order."""
        with self._sessions() as session:
            query = (
                select(TicketRecord)
                .where(
                    TicketRecord.tenant_id == tenant_id,
                    TicketRecord.session_id == session_id,
                    col(TicketRecord.excluded).is_(False),
                )
                .order_by(col(TicketRecord.position), col(TicketRecord.key))
            )
            return list(session.exec(query))

    def record_issues(self, *, tenant_id: int, session_id: int, issues: Mapping[str, tuple[str, str]]) -> None:
        """Ticket key -> (issue key, issue id), written in one transaction; clears any earlier refusal."""
        self._update_each(
            tenant_id,
            session_id,
            {
                key: {"jira_key": k, "jira_id": i, "export_error": None, "export_error_who": None}
                for key, (k, i) in issues.items()
            },
        )

    def record_errors(self, *, tenant_id: int, session_id: int, errors: Mapping[str, tuple[str, str]]) -> None:
        """Ticket key -> (Jira's message, who can fix it)."""
        self._update_each(
            tenant_id,
            session_id,
            {key: {"export_error": message[:2048], "export_error_who": who} for key, (message, who) in errors.items()},
        )

    def clear_errors(self, *, tenant_id: int, session_id: int) -> None:
        """A new attempt: refused tickets may have been fixed in review since."""
        with self._sessions() as session:
            session.execute(
                update(TicketRecord)
                .where(col(TicketRecord.tenant_id) == tenant_id, col(TicketRecord.session_id) == session_id)
                .values(export_error=None, export_error_who=None)
            )
            session.commit()

    def epics(self, *, tenant_id: int, session_id: int) -> dict[str, tuple[str, str]]:
        """Epic key -> (issue key, issue id) of the epics created for this session."""
        with self._sessions() as session:
            query = select(ExportEpic).where(ExportEpic.tenant_id == tenant_id, ExportEpic.session_id == session_id)
            return {e.epic_key: (e.jira_key, e.jira_id) for e in session.exec(query)}

    def record_epics(self, *, tenant_id: int, session_id: int, epics: Mapping[str, tuple[str, str]]) -> None:
        """Epic key -> (issue key, issue id); an epic already recorded keeps its first issue."""
        if not epics:
            return
        with self._sessions() as session:
            require_session(session, tenant_id=tenant_id, session_id=session_id)
            known = set(self.epics(tenant_id=tenant_id, session_id=session_id))
            for epic_key, (jira_key, jira_id) in epics.items():
                if epic_key not in known:
                    session.add(
                        ExportEpic(
                            tenant_id=tenant_id,
                            session_id=session_id,
                            epic_key=epic_key,
                            jira_key=jira_key,
                            jira_id=jira_id,
                        )
                    )
            session.commit()

    def mark_attachments_done(self, *, tenant_id: int, session_id: int, key: str) -> None:
        self._update_each(tenant_id, session_id, {key: {"attachments_done": True}})

    def link_states(self, *, tenant_id: int, session_id: int) -> dict[LinkKey, str]:
        with self._sessions() as session:
            query = select(ExportLink).where(ExportLink.tenant_id == tenant_id, ExportLink.session_id == session_id)
            return {(link.kind, link.from_key, link.to_key): link.state for link in session.exec(query)}

    def mark_links(self, *, tenant_id: int, session_id: int, links: Iterable[LinkKey], state: str) -> None:
        """Record links as `sent` (about to be posted) or `done` (Jira has them), in one transaction."""
        wanted = set(links)
        if not wanted:
            return
        with self._sessions() as session:
            require_session(session, tenant_id=tenant_id, session_id=session_id)
            query = select(ExportLink).where(ExportLink.tenant_id == tenant_id, ExportLink.session_id == session_id)
            existing = {(r.kind, r.from_key, r.to_key): r for r in session.exec(query)}
            for kind, from_key, to_key in wanted:
                row = existing.get((kind, from_key, to_key)) or ExportLink(
                    tenant_id=tenant_id, session_id=session_id, kind=kind, from_key=from_key, to_key=to_key
                )
                row.state, row.updated_at = state, utcnow()
                session.add(row)
            session.commit()

    def _update_each(self, tenant_id: int, session_id: int, changes: Mapping[str, dict[str, object]]) -> None:
        if not changes:
            return
        with self._sessions() as session:
            for key, values in changes.items():
                session.execute(
                    update(TicketRecord)
                    .where(
                        col(TicketRecord.tenant_id) == tenant_id,
                        col(TicketRecord.session_id) == session_id,
                        col(TicketRecord.key) == key,
                    )
                    .values(**values, updated_at=utcnow())
                )
            session.commit()
