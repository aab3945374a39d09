"""Repositories keep every row inside its tenant, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from app.db.audit import AuditRepository
from app.db.engine import create_db_engine, session_factory
from app.db.export_settings import ExportSettingsRepository
from app.db.exports import ExportRepository
from app.db.migrate import upgrade
from app.db.models import TicketRecord
from app.db.retention import RetentionRepository
from app.db.sessions import SessionContents, SessionRepository
from app.db.tasks import TaskAlreadyRunningError, TaskRepository
from app.db.tenant_settings import TenantSettingsRepository
from app.db.tenants import TenantRepository
from app.db.tickets import StaleTicketError, TicketRepository
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


def test_a_session_created_from_another_copies_its_files_within_the_tenant_only(repos: Repos) -> None:
    tenants, sessions, _ = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    first = sessions.create(tenant_id=a, project_key="DTG")
    assert first.id is not None
    sessions.put_file(first.id, tenant_id=a, name="spec.xlsx", data=b"book", tab_kinds={"Sheet1": "menus"})
    sessions.put_file(first.id, tenant_id=a, name="Fields.csv", data=b"ID,Bundle\n", kind_override="fields")

    copy = sessions.create(tenant_id=a, project_key="DTG", files_from=first.id)
    stranger = sessions.create(tenant_id=b, project_key="DTG", files_from=first.id)
    assert copy.id is not None and stranger.id is not None

    def held(session_id: int, tenant_id: int) -> list[tuple[object, ...]]:
        return [
            (f.name, f.data, f.kind_override, dict(f.tab_kinds))
            for f in sessions.files(session_id, tenant_id=tenant_id)
        ]

    assert (
        held(copy.id, a)
        == held(first.id, a)
        == [
            ("Fields.csv", b"ID,Bundle\n", "fields", {}),
            ("spec.xlsx", b"book", None, {"Sheet1": "menus"}),
        ]
    )
    assert sessions.files_fingerprint(copy.id, tenant_id=a) == sessions.files_fingerprint(first.id, tenant_id=a)
    assert copy.stage == "validate"
    assert held(stranger.id, b) == [] and stranger.stage == "upload"
    # A revision that starts with the copies names them in its record, written with them.
    revision = sessions.create(tenant_id=a, project_key="DTG", revision={"of": first.id}, files_from=first.id)
    assert revision.id is not None
    carried = {"of": first.id, "carried": ["Fields.csv", "spec.xlsx"]}
    assert revision.revision == sessions.get(revision.id, tenant_id=a).revision == carried
    empty = sessions.create(tenant_id=a, project_key="DTG", revision={"of": stranger.id}, files_from=stranger.id)
    assert empty.revision == {"of": stranger.id}


def test_a_conflict_choice_is_merged_into_the_revision_record_within_its_tenant(repos: Repos) -> None:
    tenants, sessions, _ = repos
    a, b = _tenant(tenants, "a"), _tenant(tenants, "b")
    upload = sessions.create(tenant_id=a, project_key="DTG", revision={"of": 1, "lineage": [1], "choices": {}})
    assert upload.id is not None
    sessions.set_choice(upload.id, tenant_id=a, ticket_key="t-0005", choice="overwrite")
    sessions.set_choice(upload.id, tenant_id=a, ticket_key="t-0007", choice="comment")
    sessions.set_choice(upload.id, tenant_id=a, ticket_key="t-0005", choice="keep")
    with pytest.raises(NotFoundError):
        sessions.set_choice(upload.id, tenant_id=b, ticket_key="t-0005", choice="overwrite")
    assert sessions.get(upload.id, tenant_id=a).revision == {
        "of": 1,
        "lineage": [1],
        "choices": {"t-0005": "keep", "t-0007": "comment"},
    }


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


def _world(database_url: str) -> tuple[Any, dict[str, Any]]:
    """Every repository that takes a tenant, on one engine, and two tenants: `a` owns a session with a file, a
    drafted ticket, a task, an epic, a link and an audit event; `b` owns nothing but itself."""
    upgrade(database_url)
    engine = create_db_engine(database_url)
    db = session_factory(engine)
    box = SecretBox(Fernet.generate_key().decode())
    r: dict[str, Any] = {
        "tenants": TenantRepository(db, box),
        "sessions": SessionRepository(db),
        "tasks": TaskRepository(db),
        "tickets": TicketRepository(db),
        "exports": ExportRepository(db),
        "audit": AuditRepository(db),
        "retention": RetentionRepository(db),
        "settings": TenantSettingsRepository(db, box),
        "export_settings": ExportSettingsRepository(db),
    }
    r["a"], r["b"] = _tenant(r["tenants"], "a"), _tenant(r["tenants"], "b")
    upload = r["sessions"].create(tenant_id=r["a"], project_key="DTG")
    r["upload"] = upload.id
    r["sessions"].put_file(upload.id, tenant_id=r["a"], name="Fields.csv", data=b"ID,Bundle\n")
    r["tickets"].save_drafts(tenant_id=r["a"], session_id=upload.id, drafts=[_draft("t1")])
    r["task"] = r["tasks"].create(tenant_id=r["a"], session_id=upload.id, kind="generate").id
    r["exports"].record_epics(tenant_id=r["a"], session_id=upload.id, epics={"content": ("DTG-1", "1")})
    r["exports"].mark_links(tenant_id=r["a"], session_id=upload.id, links=[("blocks", "t1", "t1")], state="sent")
    r["audit"].record(tenant_id=r["a"], session_id=upload.id, account_id="acc-1", action="files_added")
    return engine, r


def _calls(r: dict[str, Any], tenant: int) -> dict[str, Callable[[], object]]:
    """Each repository method that takes a tenant and an id, called with `tenant` and the ids of tenant a's rows."""
    s, t, e, upload = r["sessions"], r["tickets"], r["exports"], r["upload"]
    ids = {"tenant_id": tenant, "session_id": upload}

    def quietly(call: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            try:
                return call()
            except (NotFoundError, StaleTicketError):
                return None

        return run

    calls: dict[str, Callable[[], object]] = {
        "sessions.get": lambda: s.get(upload, tenant_id=tenant),
        "sessions.contents": lambda: s.contents([upload], tenant_id=tenant),
        "sessions.get_with_contents": lambda: s.get_with_contents(upload, tenant_id=tenant),
        "sessions.with_contents": lambda: s.with_contents(tenant_id=tenant, project_key="DTG"),
        "sessions.rename": lambda: s.rename(upload, tenant_id=tenant, name="Theirs"),
        "sessions.set_choice": lambda: s.set_choice(upload, tenant_id=tenant, ticket_key="t1", choice="overwrite"),
        "sessions.touch": lambda: s.touch(upload, tenant_id=tenant),
        "sessions.put_file": lambda: s.put_file(upload, tenant_id=tenant, name="Fields.csv", data=b"theirs"),
        "sessions.put_files": lambda: s.put_files(
            upload,
            tenant_id=tenant,
            files={"Fields.csv": b"theirs"},
            check=lambda sizes: None,
            stage="validated",
            audit=(None, "files_added", {}),
        ),
        "sessions.remove_file": lambda: s.remove_file(upload, tenant_id=tenant, name="Fields.csv"),
        "sessions.files_fingerprint": lambda: s.files_fingerprint(upload, tenant_id=tenant),
        "sessions.file_types": lambda: s.file_types(upload, tenant_id=tenant),
        "sessions.files": lambda: s.files(upload, tenant_id=tenant),
        "sessions.list_for_project": lambda: s.list_for_project(tenant_id=tenant, project_key="DTG"),
        "tickets.list": lambda: t.list(**ids),
        "tickets.get": lambda: t.get(**ids, key="t1"),
        "tickets.find_exported": lambda: t.find_exported(tenant_id=tenant, jira_key="DTG-1"),
        "tickets.update": lambda: t.update(**ids, key="t1", expected_version=1, changes={"title": "Theirs"}),
        "tickets.save_generated": lambda: t.save_generated(
            **ids, record={"key": "t1", "title": "Theirs"}, expected_version=1
        ),
        "tickets.delete_except": lambda: t.delete_except(**ids, keys=set()),
        "tickets.save_drafts": lambda: t.save_drafts(**ids, drafts=[_draft("t1", title="Theirs"), _draft("t9")]),
        "exports.tickets": lambda: e.tickets(**ids),
        "exports.record_issues": lambda: e.record_issues(**ids, issues={"t1": ("EVIL-1", "9")}),
        "exports.record_errors": lambda: e.record_errors(**ids, errors={"t1": ("no", "nobody")}),
        "exports.clear_errors": lambda: e.clear_errors(**ids),
        "exports.epics": lambda: e.epics(**ids),
        "exports.record_epics": lambda: e.record_epics(**ids, epics={"views": ("EVIL-2", "8")}),
        "exports.mark_attachments_done": lambda: e.mark_attachments_done(**ids, key="t1"),
        "exports.link_states": lambda: e.link_states(**ids),
        "exports.mark_links": lambda: e.mark_links(**ids, links=[("blocks", "t1", "t1")], state="done"),
        "audit.list_for_session": lambda: r["audit"].list_for_session(**ids),
        "audit.record": lambda: r["audit"].record(**ids, account_id="acc-2", action="files_added"),
        "tasks.create": lambda: r["tasks"].create(**ids, kind="export"),
        "tasks.get": lambda: r["tasks"].get(r["task"], tenant_id=tenant),
        "tasks.latest": lambda: r["tasks"].latest(**ids, kind="generate"),
        "tasks.request_cancel": lambda: r["tasks"].request_cancel(r["task"], tenant_id=tenant),
        "tasks.claim_stale": lambda: r["tasks"].claim_stale(
            **ids, kind="generate", stale_before=datetime.now(UTC) + timedelta(days=1)
        ),
        "tasks.active_at_step": lambda: r["tasks"].active_at_step(tenant_id=tenant, kind="generate", current=""),
        "retention.delete_session": lambda: r["retention"].delete_session(
            upload, tenant_id=tenant, idle_before=datetime.now(UTC) + timedelta(days=1)
        ),
        "retention.export_summaries": lambda: r["retention"].export_summaries(tenant_id=tenant, project_key="DTG"),
        "settings.get": lambda: r["settings"].get(tenant),
        "settings.api_key": lambda: r["settings"].api_key(tenant),
        "export_settings.get": lambda: r["export_settings"].get(tenant),
    }
    return {name: quietly(call) for name, call in calls.items()}


_TABLE = re.compile(r'\b(?:from|update|join|into)\s+"?(\w+)"?', re.IGNORECASE)


def test_every_query_a_repository_runs_for_a_tenant_names_the_tenant_in_its_where_clause(database_url: str) -> None:
    """Not only the method's first check: each statement itself. A query by id alone depends on the check before
    it (put_file looked its file up by session and name; the retention delete and the ticket edits by id)."""
    engine, r = _world(database_url)
    tenant_tables = {t.name for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.c}
    statements: list[tuple[str, bool]] = []
    flushing = [False]
    # The ORM writing back a row the method loaded (through a query checked here) names it by primary key only...
    hooks: list[tuple[str, Callable[..., None]]] = [
        ("before_flush", lambda *args: flushing.__setitem__(0, True)),
        ("after_flush", lambda *args: flushing.__setitem__(0, False)),
    ]
    for hook, listener in hooks:
        event.listen(Session, hook, listener)
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append((args[2], flushing[0])))
    unscoped = {}
    try:
        for name, call in _calls(r, r["a"]).items():
            statements.clear()
            call()
            inserted: set[str] = set()
            for statement, flushed in statements:
                verb = statement.lstrip().split(None, 1)[0].upper()
                touched = {table for table in _TABLE.findall(statement) if table in tenant_tables}
                where = re.split(r"\bWHERE\b", statement.upper(), maxsplit=1)[1:]
                by_key = bool(where) and re.fullmatch(r"\s*\w+\.ID = \S+\s*", where[0]) is not None
                # ...or reading back (refresh) a row it has just inserted
                own = by_key and (
                    (flushed and verb in ("UPDATE", "DELETE")) or (verb == "SELECT" and touched <= inserted)
                )
                if verb == "INSERT":
                    inserted |= touched
                elif verb in ("SELECT", "UPDATE", "DELETE") and touched and not own and "TENANT_ID" not in where[0]:
                    unscoped[name] = statement
    finally:
        for hook, listener in hooks:
            event.remove(Session, hook, listener)
    engine.dispose()
    assert unscoped == {}


def test_a_cross_tenant_id_changes_nothing(database_url: str) -> None:
    """Tenant b calls every method with tenant a's ids: each finds nothing, and tenant a's rows are as they were."""
    engine, r = _world(database_url)
    a, upload = r["a"], r["upload"]

    def snapshot() -> tuple[object, ...]:
        sessions, tickets = r["sessions"], r["tickets"]
        return (
            sessions.get(upload, tenant_id=a).model_dump(),
            [(f.name, f.data) for f in sessions.files(upload, tenant_id=a)],
            [t.model_dump() for t in tickets.list(tenant_id=a, session_id=upload)],
            r["exports"].epics(tenant_id=a, session_id=upload),
            r["exports"].link_states(tenant_id=a, session_id=upload),
            r["tasks"].get(r["task"], tenant_id=a).model_dump(),
            len(r["audit"].list_for_session(tenant_id=a, session_id=upload)),
        )

    def rows_of(tenant: int) -> dict[str, int]:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(select(func.count()).where(table.c.tenant_id == tenant)).scalar_one()
                for table in SQLModel.metadata.sorted_tables
                if "tenant_id" in table.c and table.name != "tenants"
            }

    before = snapshot()
    answers = {name: call() for name, call in _calls(r, r["b"]).items()}
    assert snapshot() == before
    assert set(rows_of(r["b"]).values()) == {0}  # nothing of b's hangs under a's session either
    assert answers["retention.delete_session"] is False and answers["sessions.remove_file"] is False
    assert answers["sessions.files"] == [] and answers["tickets.list"] == [] and answers["tasks.get"] is None
    assert answers["tasks.claim_stale"] is None and answers["tasks.request_cancel"] is False
    # Tenant a's own calls do reach its rows (the same calls, so the cross-tenant ones were not vacuous).
    assert r["retention"].delete_session(upload, tenant_id=a, idle_before=datetime.now(UTC) + timedelta(days=1)) is (
        False  # its generation task is still active
    )
    r["tasks"].finish(r["task"], "done")
    assert r["retention"].delete_session(upload, tenant_id=a, idle_before=datetime.now(UTC) + timedelta(days=1))
    engine.dispose()
