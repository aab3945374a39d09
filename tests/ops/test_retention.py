"""The clean-up deletes exactly what is past its retention, keeps export summaries, and is safe to run twice at once.

Also the uninstall: the tenant stops at once, is purged after the 30-day grace, and a re-install within the grace
keeps its data and takes the new shared secret.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from app.container import CleanupServices
from app.db.audit import AuditRepository
from app.db.engine import SessionFactory, create_db_engine, session_factory
from app.db.exports import ExportRepository
from app.db.heartbeats import HeartbeatRepository
from app.db.migrate import upgrade
from app.db.models import AuditEvent, ExportSummary, Task, TicketRecord, UploadSession, utcnow
from app.db.retention import RetentionRepository
from app.db.sessions import SessionRepository
from app.db.tasks import TaskRepository
from app.db.tenants import TenantRepository
from app.db.tickets import TicketRepository
from app.domain.installation import InstallPayload
from app.domain.retention import SESSION_IDLE_DAYS
from app.encryption import SecretBox
from app.pipeline.retention import AUDIT_KEPT, SESSION_IDLE, UNINSTALL_GRACE, _one, run_cleanup
from tests.support import remember_secret

pytestmark = [pytest.mark.ops, pytest.mark.db]

NOW = utcnow()


@dataclass
class Site:
    db: SessionFactory
    tenants: TenantRepository
    sessions: SessionRepository
    tasks: TaskRepository
    tenant_id: int
    client_key: str = "site-a"

    def session_with_export(self, *, idle_for: timedelta, exported: bool = True) -> int:
        """A session with a file, two tickets (one exported), an ended export task and an audit event."""
        upload = self.sessions.create(tenant_id=self.tenant_id, project_key="DTG")
        assert upload.id is not None
        self.sessions.put_file(upload.id, tenant_id=self.tenant_id, name="bundles.csv", data=b"ID,Name\n")
        drafts = [{"key": k, "title": k, "area": "content", "action": "build"} for k in ("bundle:a", "bundle:b")]
        TicketRepository(self.db).save_drafts(tenant_id=self.tenant_id, session_id=upload.id, drafts=drafts)
        if exported:
            ExportRepository(self.db).record_issues(
                tenant_id=self.tenant_id, session_id=upload.id, issues={"bundle:a": ("DTG-1", "10001")}
            )
            task = self.tasks.create(tenant_id=self.tenant_id, kind="export", session_id=upload.id, total=2)
            assert task.id is not None
            self.tasks.finish(task.id, "Exported.")
        AuditRepository(self.db).record(
            tenant_id=self.tenant_id, session_id=upload.id, account_id="acc-1", action="exported"
        )
        self.age_session(upload.id, idle_for)
        return upload.id

    @property
    def cleanup(self) -> CleanupServices:
        return CleanupServices(retention=RetentionRepository(self.db), heartbeats=HeartbeatRepository(self.db))

    def age_session(self, session_id: int, idle_for: timedelta) -> None:
        with self.db() as session:
            session.execute(
                update(UploadSession)
                .where(UploadSession.id == session_id)  # type: ignore[arg-type]
                .values(last_activity_at=NOW - idle_for)
            )
            session.commit()

    def count(self, model: type, **where: object) -> int:
        with self.db() as session:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.exec(query).one())


def make_site(url: str) -> Iterator[Site]:
    upgrade(url)
    engine = create_db_engine(url)
    db = session_factory(engine)
    tenants = TenantRepository(db, SecretBox(remember_secret(Fernet.generate_key().decode())))
    tenant = tenants.save_installed(
        InstallPayload(
            client_key="site-a",
            shared_secret=remember_secret("first-secret-" + "a" * 30),
            base_url="https://a.atlassian.net",
        )
    )
    yield Site(db, tenants, SessionRepository(db), TaskRepository(db), tenant.id)
    engine.dispose()


@pytest.fixture
def site(tmp_path: object) -> Iterator[Site]:
    yield from make_site(f"sqlite:///{tmp_path}/dtg.sqlite3")


@pytest.mark.unit
def test_the_pages_promise_the_retention_the_clean_up_applies() -> None:
    assert timedelta(days=SESSION_IDLE_DAYS) == SESSION_IDLE


@pytest.mark.unit
def test_an_idle_session_goes_with_everything_under_it_but_its_export_summary_and_audit(site: Site) -> None:
    stale = site.session_with_export(idle_for=SESSION_IDLE + timedelta(hours=1))
    fresh = site.session_with_export(idle_for=SESSION_IDLE - timedelta(hours=1))

    report = run_cleanup(site.cleanup, now=NOW)

    assert report.sessions == 1
    assert site.count(UploadSession, id=stale) == 0
    for model in (TicketRecord, Task):
        assert site.count(model, session_id=stale) == 0
        assert site.count(model, session_id=fresh) > 0
    with site.db() as session:
        summary = session.exec(select(ExportSummary).where(ExportSummary.session_id == stale)).one()
    assert summary.summary["state"] == "done"
    assert summary.summary["issues"] == [{"ticket": "bundle:a", "jiraKey": "DTG-1"}]
    assert site.count(ExportSummary, session_id=fresh) == 0
    # Audit events of the deleted session stay (90 days), still naming the session.
    assert site.count(AuditEvent, session_id=stale) == 1
    assert run_cleanup(site.cleanup, now=NOW).sessions == 0  # idempotent


@pytest.mark.unit
def test_a_session_without_export_leaves_no_summary_and_a_running_one_is_kept(site: Site) -> None:
    plain = site.session_with_export(idle_for=SESSION_IDLE * 2, exported=False)
    busy = site.session_with_export(idle_for=SESSION_IDLE * 2, exported=False)
    site.tasks.create(tenant_id=site.tenant_id, kind="generation", session_id=busy)

    run_cleanup(site.cleanup, now=NOW)

    assert site.count(UploadSession, id=plain) == 0 and site.count(ExportSummary) == 0
    assert site.count(UploadSession, id=busy) == 1


@pytest.mark.unit
def test_activity_postpones_the_deletion(site: Site) -> None:
    upload = site.session_with_export(idle_for=SESSION_IDLE * 2)
    site.sessions.touch(upload, tenant_id=site.tenant_id)
    assert run_cleanup(site.cleanup, now=NOW).sessions == 0
    site.age_session(upload, SESSION_IDLE * 2)
    site.sessions.set_stage(upload, tenant_id=site.tenant_id, stage="review")
    assert run_cleanup(site.cleanup, now=NOW).sessions == 0


@pytest.mark.unit
def test_audit_events_are_kept_ninety_days(site: Site) -> None:
    audit = AuditRepository(site.db)
    old = audit.record(tenant_id=site.tenant_id, session_id=None, account_id="a", action="configured")
    audit.record(tenant_id=site.tenant_id, session_id=None, account_id="a", action="configured")
    with site.db() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == old.id).values(created_at=NOW - AUDIT_KEPT - timedelta(days=1))  # type: ignore[arg-type]
        )
        session.commit()
    assert run_cleanup(site.cleanup, now=NOW).audit_events == 1
    assert site.count(AuditEvent) == 1


def _uninstall(site: Site, days_ago: timedelta) -> None:
    assert site.tenants.mark_uninstalled(site.client_key)
    with site.db() as session:
        session.execute(text("UPDATE tenants SET uninstalled_at = :at"), {"at": NOW - days_ago})
        session.commit()


@pytest.mark.unit
def test_an_uninstalled_tenant_stops_at_once_and_is_purged_after_the_grace(site: Site) -> None:
    upload = site.session_with_export(idle_for=timedelta(0))
    task = site.tasks.create(tenant_id=site.tenant_id, kind="export", session_id=upload)
    assert task.id is not None and not site.tasks.cancel_requested(task.id)

    _uninstall(site, UNINSTALL_GRACE - timedelta(days=1))

    # No verifier finds it, no worker gets it, and a run in progress stops at its next checkpoint.
    assert site.tenants.find(site.client_key) is None and site.tenants.get(site.tenant_id) is None
    assert site.tasks.cancel_requested(task.id)
    assert run_cleanup(site.cleanup, now=NOW).tenants == 0  # still within the grace
    site.tasks.finish(task.id, state="cancelled")

    _uninstall(site, UNINSTALL_GRACE + timedelta(days=1))
    assert run_cleanup(site.cleanup, now=NOW).tenants == 1
    assert site.tenants.find(site.client_key, include_uninstalled=True) is None
    for model in (UploadSession, TicketRecord, Task, AuditEvent, ExportSummary):
        assert site.count(model, tenant_id=site.tenant_id) == 0


@pytest.mark.unit
def test_a_reinstall_within_the_grace_keeps_the_data_and_takes_the_new_secret(site: Site) -> None:
    upload = site.session_with_export(idle_for=timedelta(0))
    _uninstall(site, UNINSTALL_GRACE - timedelta(days=1))
    new_secret = remember_secret("second-secret-" + "b" * 30)

    again = site.tenants.save_installed(
        InstallPayload(client_key=site.client_key, shared_secret=new_secret, base_url="https://a.atlassian.net")
    )

    assert again.id == site.tenant_id and again.shared_secret == new_secret
    found = site.tenants.find(site.client_key)
    assert found is not None and found.shared_secret == new_secret
    # Past the day the purge would have come, nothing of the tenant goes.
    assert run_cleanup(site.cleanup, now=NOW + timedelta(days=2)).tenants == 0
    assert site.count(TicketRecord, session_id=upload) == 2


@pytest.mark.unit
def test_sqlite_never_hands_a_deleted_sessions_id_to_a_new_one(site: Site) -> None:
    # A reused id would adopt the deleted session's Jira issues, export summary and audit events.
    ids = [site.session_with_export(idle_for=timedelta(0)) for _ in range(3)]
    assert ids == [1, 2, 3]
    site.age_session(3, SESSION_IDLE * 2)
    assert run_cleanup(site.cleanup, now=NOW).sessions == 1

    again = site.sessions.create(tenant_id=site.tenant_id, project_key="DTG")

    assert again.id == 4
    assert site.count(ExportSummary, session_id=4) == 0 and site.count(AuditEvent, session_id=4) == 0
    site.age_session(4, SESSION_IDLE * 2)
    assert run_cleanup(site.cleanup, now=NOW).sessions == 1  # its own summary cannot collide with session 3's


@pytest.mark.unit
def test_sqlite_never_hands_a_deleted_tasks_id_to_a_new_one(site: Site) -> None:
    ids = [site.tasks.create(tenant_id=site.tenant_id, kind=f"k{n}").id for n in range(3)]
    assert ids == [1, 2, 3]
    with site.db() as session:
        session.execute(text("DELETE FROM tasks WHERE id = 3"))
        session.commit()

    assert site.tasks.create(tenant_id=site.tenant_id, kind="k3").id == 4


@pytest.mark.unit
def test_a_session_whose_summary_conflicts_is_rolled_back_and_the_clean_up_goes_on(site: Site) -> None:
    blocked, other = (site.session_with_export(idle_for=SESSION_IDLE * 2) for _ in range(2))
    # What a reused id left behind before the fix: a summary already kept under this session's id.
    with site.db() as session:
        session.add(ExportSummary(tenant_id=site.tenant_id, session_id=blocked, project_key="OLD"))
        session.commit()

    report = run_cleanup(site.cleanup, now=NOW)

    assert report.sessions == 1
    assert site.count(UploadSession, id=other) == 0 and site.count(ExportSummary, session_id=other) == 1
    # Nothing of the blocked session went: its deletes were rolled back with the summary's insert.
    assert site.count(UploadSession, id=blocked) == 1 and site.count(TicketRecord, session_id=blocked) == 2
    assert run_cleanup(site.cleanup, now=NOW).sessions == 0  # later clean-ups still run


@pytest.mark.unit
def test_a_constraint_error_on_one_row_is_logged_and_skipped() -> None:
    def broken(row_id: int, **cutoff: object) -> bool:
        raise IntegrityError("DELETE ...", {}, Exception("FOREIGN KEY constraint failed"))

    assert _one(broken, 7, before=NOW) == 0


@pytest.mark.integration
def test_two_clean_ups_at_once_on_postgresql_delete_each_row_once(postgres_url: str) -> None:
    sites = make_site(postgres_url)
    site = next(sites)
    stale = [site.session_with_export(idle_for=SESSION_IDLE * 2) for _ in range(12)]
    kept = site.session_with_export(idle_for=timedelta(0))
    barrier = threading.Barrier(2)
    reports = []
    errors: list[BaseException] = []

    def clean() -> None:
        barrier.wait()
        try:
            reports.append(run_cleanup(site.cleanup, now=NOW))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=clean) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r.sessions for r in reports) == len(stale)
    assert site.count(UploadSession) == 1 and site.count(UploadSession, id=kept) == 1
    assert site.count(ExportSummary) == len(stale)
    assert site.count(TicketRecord) == 2
    sites.close()
