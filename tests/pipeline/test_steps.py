"""A use case does its whole step: the work, the session's stage, its activity and the audit event, or nothing."""

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
from app.db.tenants import TenantRepository
from app.domain.installation import InstallPayload
from app.encryption import SecretBox
from app.errors import AppError
from app.pipeline.intake import IncomingFile, add_files, open_session, remove_file
from app.pipeline.ports import SYSTEM, Actor, Scope
from tests.support import UWEC

pytestmark = [pytest.mark.integration, pytest.mark.db, pytest.mark.web]


@dataclass
class Ports:
    sessions: SessionRepository
    audit: AuditRepository


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Ports, Scope]]:
    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    upgrade(url)
    engine = create_db_engine(url)
    db = session_factory(engine)
    tenant = TenantRepository(db, SecretBox(Fernet.generate_key().decode())).save_installed(
        InstallPayload(client_key="site-a", shared_secret="x" * 40, base_url="https://a.atlassian.net")
    )
    ports = Ports(SessionRepository(db), AuditRepository(db))
    upload = open_session(ports, tenant.id, Actor("acc"), project_key="DTG", project_id="1")
    assert upload.id is not None
    files = [IncomingFile(p.name, p.read_bytes()) for p in sorted(UWEC.glob("UWEC_*.csv"))[:2]]
    add_files(ports, Scope(tenant.id, upload.id), SYSTEM, files)
    ports.sessions.set_stage(upload.id, tenant_id=tenant.id, stage="review")
    yield ports, Scope(tenant.id, upload.id)
    engine.dispose()


def _actions(ports: Ports, scope: Scope) -> list[tuple[str, str | None, dict[str, object]]]:
    events = ports.audit.list_for_session(tenant_id=scope.tenant_id, session_id=scope.session_id)
    return [(e.action, e.account_id, e.detail) for e in events]


def test_removing_a_file_sends_the_session_back_to_validation_and_is_audited(world: tuple[Ports, Scope]) -> None:
    ports, scope = world
    name = ports.sessions.files(scope.session_id, tenant_id=scope.tenant_id)[0].name
    before = ports.sessions.get(scope.session_id, tenant_id=scope.tenant_id).last_activity_at

    remove_file(ports, scope, Actor("acc-7"), name)

    upload = ports.sessions.get(scope.session_id, tenant_id=scope.tenant_id)
    assert upload.stage == "validate"
    assert upload.last_activity_at > before
    assert name not in [f.name for f in ports.sessions.files(scope.session_id, tenant_id=scope.tenant_id)]
    assert ("file_removed", "acc-7", {"file": name}) in _actions(ports, scope)


def test_removing_a_file_that_is_not_there_changes_nothing(world: tuple[Ports, Scope]) -> None:
    ports, scope = world
    audited = _actions(ports, scope)
    with pytest.raises(AppError, match=r"no file named Missing\.csv"):
        remove_file(ports, scope, Actor("acc-7"), "Missing.csv")
    assert ports.sessions.get(scope.session_id, tenant_id=scope.tenant_id).stage == "review"
    assert _actions(ports, scope) == audited
