"""Repositories keep every row inside its tenant, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session

from app.db.engine import create_db_engine, session_factory
from app.db.migrate import upgrade
from app.db.models import TicketRecord
from app.db.sessions import SessionContents, SessionRepository
from app.db.tasks import TaskAlreadyRunningError, TaskRepository
from app.db.tenants import TenantRepository
from app.domain.installation import InstallPayload
from app.encryption import SecretBox
from app.errors import NotFoundError

pytestmark = [pytest.mark.db]

Repos = tuple[TenantRepository, SessionRepository, TaskRepository]


@pytest.fixture(
    params=[pytest.param("sqlite", marks=pytest.mark.unit), pytest.param("postgresql", marks=pytest.mark.integration)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'repo.sqlite3'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def repos(database_url: str) -> Iterator[Repos]:
    upgrade(database_url)
    engine = create_db_engine(database_url)
    sessions = session_factory(engine)
    box = SecretBox(Fernet.generate_key().decode())
    yield TenantRepository(sessions, box), SessionRepository(sessions), TaskRepository(sessions)
    engine.dispose()


def _tenant(tenants: TenantRepository, name: str) -> int:
    return tenants.save_installed(
        InstallPayload(client_key=name, shared_secret="s" * 40, base_url=f"https://{name}.atlassian.net")
    ).id


def test_sessions_and_files_are_scoped_to_their_tenant(repos: Repos) -> None:
    tenants, sessions, _ = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    upload = sessions.create(tenant_id=a, project_key="DTG", created_by="acc-1")
    assert upload.id is not None
    sessions.put_file(upload.id, tenant_id=a, name="Fields.csv", data=b"ID,Bundle\n")
    sessions.put_file(upload.id, tenant_id=a, name="Fields.csv", data=b"ID,Bundle,X\n", kind_override="fields")

    assert [(f.name, f.data, f.kind_override) for f in sessions.files(upload.id, tenant_id=a)] == [
        ("Fields.csv", b"ID,Bundle,X\n", "fields")
    ]
    assert sessions.files(upload.id, tenant_id=b) == []
    with pytest.raises(NotFoundError):
        sessions.get(upload.id, tenant_id=b)
    with pytest.raises(NotFoundError):
        sessions.put_file(upload.id, tenant_id=b, name="Evil.csv", data=b"x")
    assert sessions.remove_file(upload.id, tenant_id=b, name="Fields.csv") is False
    assert [s.id for s in sessions.list_for_project(tenant_id=a, project_key="DTG")] == [upload.id]
    assert sessions.list_for_project(tenant_id=b, project_key="DTG") == []


def test_what_sessions_hold_is_read_with_them_within_their_tenant(repos: Repos, database_url: str) -> None:
    tenants, sessions, _ = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    empty, full = (sessions.create(tenant_id=a, project_key="DTG").id for _ in range(2))
    assert empty is not None and full is not None
    sessions.create(tenant_id=a, project_key="OTHER")
    for name in ("Views.csv", "Bundles.csv"):
        sessions.put_file(full, tenant_id=a, name=name, data=b"ID\n")
    engine = create_db_engine(database_url)
    with Session(engine) as db:
        for n, jira_key in enumerate(["DTG-1", None, None]):
            db.add(
                TicketRecord(
                    tenant_id=a, session_id=full, key=f"t{n}", title="T", area="a", action="create", jira_key=jira_key
                )
            )
        db.commit()
    engine.dispose()
    held = SessionContents(["Bundles.csv", "Views.csv"], 3, 1)
    nothing = SessionContents([], 0, 0)

    listed = sessions.with_contents(tenant_id=a, project_key="DTG")
    assert sorted((upload.id, contents) for upload, contents in listed) == sorted([(empty, nothing), (full, held)])
    assert [upload.id for upload, _ in listed] == [
        u.id for u in sessions.list_for_project(tenant_id=a, project_key="DTG")
    ]
    assert sessions.get_with_contents(full, tenant_id=a)[1] == held
    assert sessions.contents([full, empty], tenant_id=a) == {full: held, empty: nothing}
    assert sessions.with_contents(tenant_id=b, project_key="DTG") == []
    assert sessions.contents([full], tenant_id=b) == {full: nothing}
    with pytest.raises(NotFoundError):
        sessions.get_with_contents(full, tenant_id=b)


def test_two_runs_of_one_kind_cannot_overlap_for_a_session(repos: Repos) -> None:
    tenants, sessions, tasks = repos
    a = _tenant(tenants, "a")
    upload = sessions.create(tenant_id=a, project_key="DTG")
    first = tasks.create(tenant_id=a, session_id=upload.id, kind="generate", total=10)
    with pytest.raises(TaskAlreadyRunningError):
        tasks.create(tenant_id=a, session_id=upload.id, kind="generate")
    # Another kind, or the same kind once the first ended, may start.
    tasks.create(tenant_id=a, session_id=upload.id, kind="export")
    tasks.finish(first.id, "cancelled", state="cancelled")
    second = tasks.create(tenant_id=a, session_id=upload.id, kind="generate")
    assert second.id != first.id
    assert tasks.latest(tenant_id=a, session_id=upload.id, kind="generate").id == second.id


def test_progress_cancel_and_finish(repos: Repos) -> None:
    tenants, sessions, tasks = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    upload = sessions.create(tenant_id=a, project_key="DTG")
    task = tasks.create(tenant_id=a, session_id=upload.id, kind="generate", total=3)

    tasks.progress(task.id, done=1, total=3, current="Build Event content type", detail={"tokens": 10})
    assert tasks.request_cancel(task.id, tenant_id=b) is False
    assert tasks.cancel_requested(task.id) is False
    assert tasks.request_cancel(task.id, tenant_id=a) is True
    assert tasks.cancel_requested(task.id) is True
    tasks.finish(task.id, "Cancelled after 1 of 3 tickets.", state="cancelled")
    tasks.finish(task.id, "late duplicate")
    stored = tasks.get(task.id, tenant_id=a)
    assert (stored.state, stored.done, stored.current, stored.detail, stored.message) == (
        "cancelled",
        1,
        "Build Event content type",
        {"tokens": 10},
        "Cancelled after 1 of 3 tickets.",
    )
    assert tasks.get(task.id, tenant_id=b) is None


def _draft(key: str, **fields: object) -> dict[str, object]:
    return {"key": key, "title": f"Build {key}", "area": "content", "action": "build", **fields}


def test_drafts_upsert_by_key_and_edits_are_guarded_by_version(repos: Repos, database_url: str) -> None:
    from app.db.engine import create_db_engine, session_factory
    from app.db.tickets import StaleTicketError, TicketRepository

    tenants, sessions, _ = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    upload = sessions.create(tenant_id=a, project_key="DTG")
    engine = create_db_engine(database_url)
    tickets = TicketRepository(session_factory(engine))

    tickets.save_drafts(tenant_id=a, session_id=upload.id, drafts=[_draft("t1", position=1), _draft("t2", position=0)])
    tickets.save_drafts(tenant_id=a, session_id=upload.id, drafts=[_draft("t1", title="Build t1 again", position=1)])
    assert [(t.key, t.title) for t in tickets.list(tenant_id=a, session_id=upload.id)] == [
        ("t2", "Build t2"),
        ("t1", "Build t1 again"),
    ]
    assert tickets.list(tenant_id=b, session_id=upload.id) == []
    with pytest.raises(NotFoundError):
        tickets.get(tenant_id=b, session_id=upload.id, key="t1")

    edited = tickets.update(tenant_id=a, session_id=upload.id, key="t1", expected_version=1, changes={"title": "Mine"})
    assert (edited.title, edited.version) == ("Mine", 2)
    with pytest.raises(StaleTicketError, match="version 2, yours 1"):
        tickets.update(tenant_id=a, session_id=upload.id, key="t1", expected_version=1, changes={"title": "Theirs"})
    assert tickets.get(tenant_id=a, session_id=upload.id, key="t1").title == "Mine"
    engine.dispose()
