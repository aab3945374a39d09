"""Upload sessions and their spec files, always read and written within one tenant."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Integer, String, bindparam, func, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, col, select

from app.db.engine import SessionFactory
from app.db.models import AuditEvent, SpecFile, TicketRecord, UploadSession, utcnow
from app.domain.retention import SESSION_IDLE_DAYS
from app.errors import NotFoundError


def require_session(session: Session, *, tenant_id: int, session_id: int) -> None:
    """Before a row naming `session_id` is inserted, in its transaction: the session must be the tenant's (its id
    alone would let a row of one tenant hang under another tenant's session).

    Raises: NotFoundError when the session does not exist in this tenant."""
    query = select(UploadSession.id).where(UploadSession.id == session_id, UploadSession.tenant_id == tenant_id)
    if session.exec(query).first() is None:
        raise NotFoundError(f"This upload session does not exist (sessions are kept {SESSION_IDLE_DAYS} days).")


@dataclass(frozen=True)
class SessionContents:
    """What a session holds, for the list of sessions: its file names, drafted tickets and those now in Jira."""

    files: list[str]
    tickets: int
    exported: int


@dataclass(frozen=True)
class StoredFile:
    name: str
    data: bytes
    kind_override: str | None
    tab_kinds: Mapping[str, str] = field(default_factory=dict)  # a workbook's tabs retyped by the director


class SessionRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def create(
        self,
        *,
        tenant_id: int,
        project_key: str,
        project_id: str = "",
        created_by: str | None = None,
        site_name: str = "",
        site_description: str = "",
        revision: dict[str, Any] | None = None,
        files_from: int | None = None,
    ) -> UploadSession:
        """A new session; with `files_from`, holding copies of that session's files (of this tenant only) as they
        are now, with the types the director set, in the same transaction. A revision that starts with copies names
        them in its record as `carried` in that transaction too: never files without the note that they were
        carried."""
        with self._sessions() as session:
            copied: list[SpecFile] = []
            if files_from is not None:
                query = select(SpecFile).where(SpecFile.tenant_id == tenant_id, SpecFile.session_id == files_from)
                copied = list(session.exec(query))
            if copied and revision is not None:
                revision = {**revision, "carried": sorted(stored.name for stored in copied)}
            upload = UploadSession(
                tenant_id=tenant_id,
                project_key=project_key,
                project_id=project_id,
                created_by=created_by,
                site_name=site_name,
                site_description=site_description,
                revision=revision,
                stage="validate" if copied else "upload",  # as after an upload: the panel checks the copies
            )
            session.add(upload)
            session.flush()
            assert upload.id is not None
            for stored in copied:
                session.add(
                    SpecFile(
                        tenant_id=tenant_id,
                        session_id=upload.id,
                        name=stored.name,
                        data=stored.data,
                        sha256=stored.sha256,
                        kind_override=stored.kind_override,
                        tab_kinds=stored.tab_kinds,
                    )
                )
            session.commit()
            session.refresh(upload)
            return upload

    def get(self, session_id: int, *, tenant_id: int) -> UploadSession:
        """Raises: NotFoundError when the session does not exist in this tenant."""
        with self._sessions() as session:
            upload = session.exec(_ONE, params={"session_id": session_id, "tenant_id": tenant_id}).first()
            if upload is None:
                raise _missing()
            return upload

    def list_for_project(self, *, tenant_id: int, project_key: str) -> list[UploadSession]:
        with self._sessions() as session:
            query = select(UploadSession).where(*_in_project(tenant_id, project_key)).order_by(_NEWEST_FIRST)
            return list(session.exec(query))

    def with_contents(self, *, tenant_id: int, project_key: str) -> list[tuple[UploadSession, SessionContents]]:
        """The project's sessions, newest activity first, each with what it holds: two queries on one connection
        (the sessions with their ticket counts, then their files), whatever the list's length."""
        with self._sessions() as session:
            found = session.exec(_PROJECT_COUNTED, params={"tenant_id": tenant_id, "project_key": project_key})
            rows = [(upload, total, exported) for upload, total, exported in found if upload.id]
            names = _file_names(session, [upload.id for upload, _, _ in rows if upload.id], tenant_id=tenant_id)
        return [
            (upload, SessionContents(names[upload.id], total, exported))
            for upload, total, exported in rows
            if upload.id
        ]

    def get_with_contents(self, session_id: int, *, tenant_id: int) -> tuple[UploadSession, SessionContents]:
        """The session and what it holds, in two queries on one connection. Raises: NotFoundError as `get`."""
        with self._sessions() as session:
            found = session.exec(_ONE_COUNTED, params={"session_id": session_id, "tenant_id": tenant_id}).first()
            if found is None:
                raise _missing()
            upload, total, exported = found
            return upload, SessionContents(
                _file_names(session, [session_id], tenant_id=tenant_id)[session_id], total, exported
            )

    def contents(self, session_ids: list[int], *, tenant_id: int) -> dict[int, SessionContents]:
        """Two queries for the whole list, whatever its length; a session of another tenant holds nothing."""
        with self._sessions() as session:
            query = select(UploadSession.id, *_ticket_counts(tenant_id)).where(
                col(UploadSession.id).in_(session_ids), UploadSession.tenant_id == tenant_id
            )
            counts = {session_id: (total, exported) for session_id, total, exported in session.exec(query)}
            names = _file_names(session, session_ids, tenant_id=tenant_id)
        return {
            session_id: SessionContents(names[session_id], *counts.get(session_id, (0, 0)))
            for session_id in session_ids
        }

    def set_stage(self, session_id: int, *, tenant_id: int, stage: str) -> None:
        with self._sessions() as session:
            upload = session.exec(
                select(UploadSession).where(UploadSession.id == session_id, UploadSession.tenant_id == tenant_id)
            ).one()
            upload.stage, upload.last_activity_at = stage, utcnow()
            session.add(upload)
            session.commit()

    def rename(self, session_id: int, *, tenant_id: int, name: str | None) -> UploadSession:
        """`None` (or blank) goes back to the name made from the files. Raises: NotFoundError."""
        self.get(session_id, tenant_id=tenant_id)
        with self._sessions() as session:
            upload = session.exec(
                select(UploadSession).where(UploadSession.id == session_id, UploadSession.tenant_id == tenant_id)
            ).one()
            upload.name, upload.last_activity_at = (name or "").strip() or None, utcnow()
            session.add(upload)
            session.commit()
            return upload

    def set_choice(self, session_id: int, *, tenant_id: int, ticket_key: str, choice: str) -> None:
        """Record one conflict choice, keeping the others: the record is re-read and merged in one transaction that
        starts by writing the session row, which holds its lock (as `put_files`) until the commit, so two choices
        made at once are merged one after the other, never both into the same old record.
        Raises: NotFoundError when the session does not exist in this tenant."""
        mine = (col(UploadSession.id) == session_id, col(UploadSession.tenant_id) == tenant_id)
        with self._sessions() as session:
            locked = cast(
                CursorResult[Any], session.execute(update(UploadSession).where(*mine).values(last_activity_at=utcnow()))
            )
            if locked.rowcount != 1:
                raise _missing()
            revision = dict(session.exec(select(UploadSession.revision).where(*mine)).one() or {})
            revision["choices"] = {**(revision.get("choices") or {}), ticket_key: choice}
            session.execute(update(UploadSession).where(*mine).values(revision=revision))
            session.commit()

    def touch(self, session_id: int, *, tenant_id: int) -> None:
        """Record activity: a session is deleted 7 days after its last one (app/pipeline/retention.py)."""
        with self._sessions() as session:
            session.execute(
                update(UploadSession)
                .where(col(UploadSession.id) == session_id, col(UploadSession.tenant_id) == tenant_id)
                .values(last_activity_at=utcnow())
            )
            session.commit()

    def put_file(
        self,
        session_id: int,
        *,
        tenant_id: int,
        name: str,
        data: bytes,
        kind_override: str | None = None,
        tab_kinds: Mapping[str, str] | None = None,
    ) -> None:
        """Add a file, or replace the file of the same name (re-uploading a corrected export)."""
        self.get(session_id, tenant_id=tenant_id)
        with self._sessions() as session:
            stored = session.exec(
                select(SpecFile).where(
                    SpecFile.tenant_id == tenant_id, SpecFile.session_id == session_id, SpecFile.name == name
                )
            ).first() or SpecFile(tenant_id=tenant_id, session_id=session_id, name=name, data=b"", sha256="")
            stored.data, stored.sha256, stored.kind_override = data, hashlib.sha256(data).hexdigest(), kind_override
            stored.tab_kinds = dict(tab_kinds) if tab_kinds else None
            stored.created_at = utcnow()
            session.add(stored)
            session.commit()

    def put_files(
        self,
        session_id: int,
        *,
        tenant_id: int,
        files: Mapping[str, bytes],
        check: Callable[[dict[str, int]], None],
        stage: str,
        audit: tuple[str | None, str, dict[str, Any]],
    ) -> None:
        """Add or replace `files` all or nothing, in one transaction with the stage change and the audit event
        (`audit` = account id, action, detail).

        `check(sizes)` sees the byte size of every file the session would then hold, by name, and raises to refuse
        the lot. The transaction starts by writing the session row, which holds its lock (PostgreSQL's row lock,
        SQLite's write lock) until the commit: concurrent uploads to one session are checked one after the other,
        never against the same old state.
        Raises: NotFoundError when the session does not exist in this tenant; whatever `check` raises.
        """
        with self._sessions() as session:
            locked = cast(
                CursorResult[Any],
                session.execute(
                    update(UploadSession)
                    .where(col(UploadSession.id) == session_id, col(UploadSession.tenant_id) == tenant_id)
                    .values(stage=stage, last_activity_at=utcnow())
                ),
            )
            if locked.rowcount != 1:
                raise NotFoundError(f"This upload session does not exist (sessions are kept {SESSION_IDLE_DAYS} days).")
            query = select(SpecFile.name, func.length(SpecFile.data)).where(
                SpecFile.session_id == session_id, SpecFile.tenant_id == tenant_id
            )
            sizes: dict[str, int] = {name: size for name, size in session.exec(query)}
            check(sizes | {name: len(data) for name, data in files.items()})
            existing = {
                stored.name: stored
                for stored in session.exec(
                    select(SpecFile).where(
                        SpecFile.tenant_id == tenant_id,
                        SpecFile.session_id == session_id,
                        col(SpecFile.name).in_(list(files)),
                    )
                )
            }
            for name, data in files.items():
                stored = existing.get(name) or SpecFile(
                    tenant_id=tenant_id, session_id=session_id, name=name, data=b"", sha256=""
                )
                stored.data, stored.sha256, stored.kind_override = data, hashlib.sha256(data).hexdigest(), None
                stored.tab_kinds = None  # a new upload is recognised afresh, as its file's type is
                stored.created_at = utcnow()
                session.add(stored)
            account_id, action, detail = audit
            session.add(
                AuditEvent(
                    tenant_id=tenant_id, session_id=session_id, account_id=account_id, action=action, detail=detail
                )
            )
            session.commit()

    def remove_file(self, session_id: int, *, tenant_id: int, name: str) -> bool:
        with self._sessions() as session:
            stored = session.exec(
                select(SpecFile).where(
                    SpecFile.session_id == session_id, SpecFile.tenant_id == tenant_id, SpecFile.name == name
                )
            ).first()
            if stored is None:
                return False
            session.delete(stored)
            session.commit()
            return True

    def files_fingerprint(self, session_id: int, *, tenant_id: int) -> str:
        """One hash of the session's files as intake reads them (names, contents, chosen types): it changes when a
        file is added, replaced, removed or retyped, so drafts made before can be told out of date."""
        with self._sessions() as session:
            query = (
                select(SpecFile.name, SpecFile.sha256, SpecFile.kind_override, SpecFile.tab_kinds)
                .where(SpecFile.session_id == session_id, SpecFile.tenant_id == tenant_id)
                .order_by(col(SpecFile.name))
            )
            rows = [
                f"{name}\t{sha}\t{kind or ''}" + (f"\t{json.dumps(tabs, sort_keys=True)}" if tabs else "")
                for name, sha, kind, tabs in session.exec(query)
            ]
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()

    def file_types(self, session_id: int, *, tenant_id: int) -> list[StoredFile]:
        """The stored files with their chosen types but without their contents (`data` is empty)."""
        with self._sessions() as session:
            query = (
                select(SpecFile.name, SpecFile.kind_override, SpecFile.tab_kinds)
                .where(SpecFile.session_id == session_id, SpecFile.tenant_id == tenant_id)
                .order_by(col(SpecFile.name))
            )
            return [StoredFile(name, b"", kind, tabs or {}) for name, kind, tabs in session.exec(query)]

    def files(self, session_id: int, *, tenant_id: int) -> list[StoredFile]:
        with self._sessions() as session:
            query = (
                select(SpecFile)
                .where(SpecFile.session_id == session_id, SpecFile.tenant_id == tenant_id)
                .order_by(col(SpecFile.name))
            )
            return [StoredFile(f.name, f.data, f.kind_override, f.tab_kinds or {}) for f in session.exec(query)]


_NEWEST_FIRST = col(UploadSession.last_activity_at).desc()


def _in_project(tenant_id: int, project_key: str) -> tuple[ColumnElement[bool], ...]:
    return (col(UploadSession.tenant_id) == tenant_id, col(UploadSession.project_key) == project_key)


def _missing() -> NotFoundError:
    return NotFoundError(f"This upload session does not exist (sessions are kept {SESSION_IDLE_DAYS} days).")


def _ticket_counts(tenant_id: int | BindParameter[int]) -> tuple[ScalarSelect[int], ScalarSelect[int]]:
    """A session row's drafted tickets and those now in Jira, as two columns of the query that selects it."""
    mine = (TicketRecord.tenant_id == tenant_id, TicketRecord.session_id == UploadSession.id)
    total = select(func.count()).select_from(TicketRecord).where(*mine).scalar_subquery()
    exported = select(func.count(col(TicketRecord.jira_key))).where(*mine).scalar_subquery()
    return total, exported


# The reads every project-page request makes are built once, with bound parameters: building a select and its cache
# key took about 0.3 ms of CPU per query, more than sending it and reading its rows.
_TENANT: BindParameter[int] = bindparam("tenant_id", type_=Integer)
_THE_SESSION = (UploadSession.id == bindparam("session_id", type_=Integer), UploadSession.tenant_id == _TENANT)
_ONE = select(UploadSession).where(*_THE_SESSION)
_ONE_COUNTED = select(UploadSession, *_ticket_counts(_TENANT)).where(*_THE_SESSION)
_PROJECT_COUNTED = (
    select(UploadSession, *_ticket_counts(_TENANT))
    .where(UploadSession.tenant_id == _TENANT, UploadSession.project_key == bindparam("project_key", type_=String))
    .order_by(_NEWEST_FIRST)
)
_FILE_NAMES = (
    select(SpecFile.session_id, SpecFile.name)
    .where(SpecFile.tenant_id == _TENANT, col(SpecFile.session_id).in_(bindparam("session_ids", expanding=True)))
    .order_by(col(SpecFile.name))
)


def _file_names(session: Session, session_ids: list[int], *, tenant_id: int) -> dict[int, list[str]]:
    """Each session's file names in name order, in one query for the whole list."""
    files: dict[int, list[str]] = {session_id: [] for session_id in session_ids}
    for session_id, name in session.exec(_FILE_NAMES, params={"tenant_id": tenant_id, "session_ids": session_ids}):
        files[session_id].append(name)
    return files
