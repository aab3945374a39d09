"""Drafted tickets of an upload session. Keys are stable, so storing a draft twice updates it in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, bindparam, update
from sqlmodel import col, select

from app.db.engine import SessionFactory
from app.db.models import TicketRecord, utcnow
from app.db.sessions import require_session
from app.errors import ConflictError, NotFoundError

# Columns a generation run writes; review edits (title, labels, on_hold, excluded...) go through `update`.
DRAFT_FIELDS = (
    "position",
    "title",
    "area",
    "action",
    "labels",
    "description",
    "draft",
    "blocked_by",
    "relates_to",
    "source",
    "findings",
    "attachments",
    "usage",
    "on_hold",
    "prose_written",
    "prose_flag",
)


class StaleTicketError(ConflictError):
    """The ticket changed since the caller read it (another tab or person saved first)."""


class TicketRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def save_drafts(self, *, tenant_id: int, session_id: int, drafts: Iterable[dict[str, Any]]) -> int:
        """Insert or update tickets by key; returns how many were written. Idempotent for the same drafts."""
        drafts = list(drafts)
        count = 0
        with self._sessions() as session:
            require_session(session, tenant_id=tenant_id, session_id=session_id)
            existing = {
                t.key: t
                for t in session.exec(
                    select(TicketRecord).where(
                        TicketRecord.tenant_id == tenant_id,
                        TicketRecord.session_id == session_id,
                        col(TicketRecord.key).in_([d["key"] for d in drafts]),
                    )
                )
            }
            for draft in drafts:
                record = existing.get(draft["key"]) or TicketRecord(
                    tenant_id=tenant_id, session_id=session_id, key=draft["key"], title="", area="", action=""
                )
                for name in DRAFT_FIELDS:
                    if name in draft:
                        setattr(record, name, draft[name])
                record.updated_at = utcnow()
                session.add(record)
                count += 1
            session.commit()
        return count

    def save_generated(self, *, tenant_id: int, session_id: int, record: dict[str, Any], expected_version: int) -> bool:
        """Write a ticket the model finished, unless it was edited since `expected_version`; then only note that
        its prose is done, so the edit stays. Returns whether the model's text was stored."""
        current = self.get(tenant_id=tenant_id, session_id=session_id, key=record["key"])
        fields = {name: record[name] for name in DRAFT_FIELDS if name in record}
        with self._sessions() as session:
            result = session.exec(
                update(TicketRecord)
                .where(_mine(tenant_id, session_id, current.id), col(TicketRecord.version) == expected_version)
                .values(**fields, version=expected_version + 1, updated_at=utcnow())
            )
            if result.rowcount != 1:
                session.execute(
                    update(TicketRecord).where(_mine(tenant_id, session_id, current.id)).values(prose_written=True)
                )
            session.commit()
        return result.rowcount == 1

    def delete_except(self, *, tenant_id: int, session_id: int, keys: set[str]) -> int:
        """Drop tickets whose unit left the spec (a re-run after the spec changed)."""
        with self._sessions() as session:
            stale = [
                t
                for t in session.exec(
                    select(TicketRecord).where(
                        TicketRecord.tenant_id == tenant_id, TicketRecord.session_id == session_id
                    )
                )
                if t.key not in keys
            ]
            for record in stale:
                session.delete(record)
            session.commit()
            return len(stale)

    def list(self, *, tenant_id: int, session_id: int) -> list[TicketRecord]:
        with self._sessions() as session:
            return list(session.exec(_SESSION_TICKETS, params={"tenant_id": tenant_id, "session_id": session_id}))

    def find_exported(self, *, tenant_id: int, jira_key: str) -> TicketRecord | None:
        """The ticket that became Jira issue `jira_key` in this tenant (the latest, should two exports claim it)."""
        with self._sessions() as session:
            query = (
                select(TicketRecord)
                .where(TicketRecord.tenant_id == tenant_id, TicketRecord.jira_key == jira_key)
                .order_by(col(TicketRecord.id).desc())
            )
            return session.exec(query).first()

    def get(self, *, tenant_id: int, session_id: int, key: str) -> TicketRecord:
        """Raises: NotFoundError when the ticket is not in this tenant's session."""
        with self._sessions() as session:
            record = session.exec(
                select(TicketRecord).where(
                    TicketRecord.tenant_id == tenant_id, TicketRecord.session_id == session_id, TicketRecord.key == key
                )
            ).first()
            if record is None:
                raise NotFoundError(f"No ticket {key} in this session.")
            return record

    def update(
        self, *, tenant_id: int, session_id: int, key: str, expected_version: int, changes: dict[str, Any]
    ) -> TicketRecord:
        """Apply a review edit if nobody saved in between (optimistic concurrency on `version`).

        Raises:
            NotFoundError: no such ticket in this tenant's session.
            StaleTicketError: the ticket's version is not `expected_version`.
        """
        current = self.get(tenant_id=tenant_id, session_id=session_id, key=key)
        with self._sessions() as session:
            # Compare-and-set in one statement, so two saves racing on the same version cannot both win.
            result = session.exec(
                update(TicketRecord)
                .where(_mine(tenant_id, session_id, current.id), col(TicketRecord.version) == expected_version)
                .values(**changes, version=expected_version + 1, updated_at=utcnow())
            )
            session.commit()
        if result.rowcount != 1:
            latest = self.get(tenant_id=tenant_id, session_id=session_id, key=key)
            raise StaleTicketError(
                f"Ticket {key} was changed elsewhere (now version {latest.version}, yours {expected_version}); "
                "reload it to see the other change."
            )
        return self.get(tenant_id=tenant_id, session_id=session_id, key=key)


def _mine(tenant_id: int, session_id: int, ticket_id: int | None) -> ColumnElement[bool]:
    """The ticket row by id, in the tenant's session only."""
    return and_(
        col(TicketRecord.tenant_id) == tenant_id,
        col(TicketRecord.session_id) == session_id,
        col(TicketRecord.id) == ticket_id,
    )


# Built once with bound parameters, as the session reads in app/db/sessions.py (the tickets list of every review).
_SESSION_TICKETS = (
    select(TicketRecord)
    .where(
        TicketRecord.tenant_id == bindparam("tenant_id", type_=Integer),
        TicketRecord.session_id == bindparam("session_id", type_=Integer),
    )
    .order_by(col(TicketRecord.position), col(TicketRecord.key))
)
