"""Uploads are all or nothing (files, stage and audit event in one transaction), a process killed in the middle of
one leaves nothing behind, and the session limits hold when uploads to one session race, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import create_db_engine
from app.intake import IntakeLimits
from app.pipeline.intake import IncomingFile, UploadRejectedError, add_files
from app.pipeline.ports import SYSTEM, Actor
from tests.pipeline.conftest import Workspace, make_workspace
from tests.support import REPO

pytestmark = [pytest.mark.intake, pytest.mark.db]

RACERS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Workspace]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    for workspace in make_workspace(url):
        yield url, workspace


def _race(workspace: Workspace, uploads: list[list[IncomingFile]], limits: IntakeLimits) -> list[bool]:
    """Run the uploads at once (released together by a barrier); True for each one that was stored."""
    start = threading.Barrier(len(uploads))

    def upload(files: list[IncomingFile]) -> bool:
        start.wait()
        try:
            add_files(workspace, workspace.scope, SYSTEM, files, limits=limits)
        except UploadRejectedError:
            return False
        return True

    with ThreadPoolExecutor(len(uploads)) as pool:
        return list(pool.map(upload, uploads))


def _stored(workspace: Workspace) -> dict[str, bytes]:
    return {f.name: f.data for f in workspace.sessions.files(workspace.session_id, tenant_id=workspace.tenant_id)}


@pytest.mark.unit
def test_racing_uploads_cannot_pass_the_file_count(database: tuple[str, Workspace]) -> None:
    _, workspace = database
    uploads = [
        [IncomingFile(f"r{i}-a.csv", b"ID\n1\n"), IncomingFile(f"r{i}-b.csv", b"ID\n2\n")] for i in range(RACERS)
    ]

    stored_ok = _race(workspace, uploads, IntakeLimits(max_files=5))

    assert stored_ok.count(True) == 2  # 2 x 2 files fit in 5, a third pair would not
    winners = {f.name for files, ok in zip(uploads, stored_ok, strict=True) if ok for f in files}
    assert set(_stored(workspace)) == winners  # each upload entirely or not at all


@pytest.mark.unit
def test_racing_uploads_cannot_pass_the_total_size(database: tuple[str, Workspace]) -> None:
    _, workspace = database
    uploads = [[IncomingFile(f"r{i}.csv", b"x" * 100)] for i in range(RACERS)]

    stored_ok = _race(workspace, uploads, IntakeLimits(max_total_bytes=350))

    assert stored_ok.count(True) == 3 and sum(map(len, _stored(workspace).values())) == 300


@pytest.mark.unit
def test_an_upload_and_its_audit_event_are_stored_together(database: tuple[str, Workspace]) -> None:
    url, workspace = database
    add_files(workspace, workspace.scope, Actor("acc-1"), [IncomingFile("Roles.csv", b"ID,Name\n")])
    with create_db_engine(url).connect() as connection:
        events = connection.execute(
            text("SELECT session_id, account_id, action FROM audit_events WHERE action != 'opened'")
        ).all()
    assert [tuple(event) for event in events] == [(workspace.session_id, "acc-1", "uploaded")]
    assert workspace.sessions.get(workspace.session_id, tenant_id=workspace.tenant_id).stage == "validate"


# The child stores 25 files and stops dead once their rows are written, before the commit; the test kills it there.
KILLED_UPLOAD = """
import sys, time
from dataclasses import dataclass
from sqlalchemy import event
from app.db.engine import create_db_engine, session_factory
from app.db.sessions import SessionRepository
from app.pipeline.intake import IncomingFile, add_files
from app.pipeline.ports import SYSTEM, Scope

@dataclass
class Ports:
    sessions: SessionRepository

url, tenant_id, session_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
engine = create_db_engine(url)

@event.listens_for(engine, "after_cursor_execute")
def stall(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("INSERT INTO SPEC_FILES"):
        print("rows written", flush=True)
        time.sleep(120)

files = [IncomingFile(f"f{i:02}.csv", b"ID,Name\\n1,x\\n") for i in range(25)]
add_files(Ports(SessionRepository(session_factory(engine))), Scope(tenant_id, session_id), SYSTEM, files)
"""


@pytest.mark.integration
def test_a_process_killed_during_an_upload_leaves_nothing_stored(database: tuple[str, Workspace]) -> None:
    url, workspace = database
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_UPLOAD, url, str(workspace.tenant_id), str(workspace.session_id)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "rows written\n", child.stderr.read() if child.stderr else ""
    finally:
        child.kill()
        child.wait(timeout=30)

    assert _stored(workspace) == {}
    with create_db_engine(url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events WHERE action != 'opened'")).scalar() == 0
    # The session is not left locked: the next upload goes through.
    add_files(workspace, workspace.scope, SYSTEM, [IncomingFile("after.csv", b"ID\n")])
    assert list(_stored(workspace)) == ["after.csv"]
