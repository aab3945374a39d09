"""A tenant and an upload session on a fresh SQLite database, with repositories and a recording job queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.db.audit import AuditRepository
from app.db.engine import create_db_engine, session_factory
from app.db.migrate import upgrade
from app.db.sessions import SessionRepository
from app.db.tasks import TaskRepository
from app.db.tenant_settings import TenantSettingsRepository
from app.db.tenants import TenantRepository
from app.db.tickets import TicketRepository
from app.domain.installation import InstallPayload
from app.encryption import SecretBox
from app.pipeline.intake import IncomingFile, add_files, open_session
from app.pipeline.ports import SYSTEM, Actor, Scope
from tests.support import UWEC, RecordingQueue


@dataclass
class OpeningPorts:
    sessions: SessionRepository
    audit: AuditRepository


@dataclass
class Workspace:
    sessions: SessionRepository
    tenant_settings: TenantSettingsRepository
    tickets: TicketRepository
    tasks: TaskRepository
    jobs: RecordingQueue
    tenant_id: int
    session_id: int
    audit: AuditRepository

    @property
    def scope(self) -> Scope:
        return Scope(self.tenant_id, self.session_id)

    def upload_uwec(self) -> None:
        files = [IncomingFile(p.name, p.read_bytes()) for p in sorted(UWEC.glob("*.csv"))]
        add_files(self, self.scope, SYSTEM, files)


def make_workspace(database_url: str) -> Iterator[Workspace]:
    upgrade(database_url)
    engine = create_db_engine(database_url)
    db = session_factory(engine)
    secrets = SecretBox(Fernet.generate_key().decode())
    tenant = TenantRepository(db, secrets).save_installed(
        InstallPayload(client_key="site-a", shared_secret="x" * 40, base_url="https://a.atlassian.net")
    )
    sessions, audit = SessionRepository(db), AuditRepository(db)
    upload = open_session(OpeningPorts(sessions, audit), tenant.id, Actor("acc"), project_key="DTG", project_id="10000")
    assert upload.id is not None
    yield Workspace(
        sessions,
        TenantSettingsRepository(db, secrets),
        TicketRepository(db),
        TaskRepository(db),
        RecordingQueue(),
        tenant.id,
        upload.id,
        audit,
    )
    engine.dispose()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(f"sqlite:///{tmp_path / 'db.sqlite3'}")
