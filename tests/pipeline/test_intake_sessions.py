"""Uploading spec files into a session: limits, replacement, type overrides, validation of what is stored."""

from __future__ import annotations

import io

import openpyxl
import pytest

from app.db.sessions import SessionRepository
from app.intake import IntakeLimits, SpecKind
from app.pipeline.intake import (
    IncomingFile,
    UnknownFileKindError,
    UploadRejectedError,
    add_files,
    safe_file_name,
    set_file_kind,
    validate_session,
)
from app.pipeline.ports import SYSTEM, Actor, Scope
from tests.pipeline.conftest import Workspace
from tests.support import UWEC

pytestmark = [pytest.mark.unit, pytest.mark.intake]


@pytest.fixture
def store(workspace: Workspace) -> tuple[SessionRepository, int, int]:
    return workspace.sessions, workspace.tenant_id, workspace.session_id


@pytest.fixture
def ports(workspace: Workspace) -> Workspace:
    return workspace


def _uwec() -> list[IncomingFile]:
    return [IncomingFile(p.name, p.read_bytes()) for p in sorted(UWEC.glob("*.csv"))]


def test_the_uwec_set_is_stored_and_validated(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    repo, tenant, session = store
    names = add_files(ports, Scope(tenant, session), SYSTEM, _uwec())
    assert len(names) == 11

    result = validate_session(ports, tenant_id=tenant, session_id=session)
    assert {f.kind for f in result.files if f.kind} >= {SpecKind.BUNDLES, SpecKind.FIELDS, SpecKind.WORKFLOWS}
    assert sum(f.record_count for f in result.files) == 966
    assert repo.get(session, tenant_id=tenant).stage == "validate"


def test_a_corrected_file_replaces_the_old_one(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    repo, tenant, session = store
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("Roles.csv", b"ID,Name\n")])
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("Roles.csv", b"ID,Name,Machine name\n")])
    assert [(f.name, f.data) for f in repo.files(session, tenant_id=tenant)] == [
        ("Roles.csv", b"ID,Name,Machine name\n")
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([IncomingFile("big.csv", b"x" * 101)], "at most 100"),
        ([IncomingFile(f"f{i}.csv", b"x") for i in range(4)], "at most 3 files"),
        ([IncomingFile("a.csv", b"x" * 60), IncomingFile("b.csv", b"x" * 60)], "at most 110"),
    ],
)
def test_limits_reject_the_whole_upload(
    store: tuple[SessionRepository, int, int], ports: Workspace, files: list[IncomingFile], message: str
) -> None:
    repo, tenant, session = store
    limits = IntakeLimits(max_file_bytes=100, max_files=3, max_total_bytes=110)
    with pytest.raises(UploadRejectedError, match=message):
        add_files(ports, Scope(tenant, session), SYSTEM, files, limits=limits)
    assert repo.files(session, tenant_id=tenant) == []


def test_path_traversal_in_file_names_is_stripped(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    repo, tenant, session = store
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("../../etc/Roles.csv", b"ID\n")])
    assert [f.name for f in repo.files(session, tenant_id=tenant)] == ["Roles.csv"]
    assert safe_file_name("C:\\Users\\dana\\Fields.csv") == "Fields.csv"
    with pytest.raises(UploadRejectedError):
        safe_file_name("../")


def test_type_override_is_kept_and_used(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    _, tenant, session = store
    roles = (UWEC / "UWEC_Userroles.csv").read_bytes()
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("Sheet7.csv", roles)])
    scope = Scope(tenant, session)
    set_file_kind(ports, scope, Actor("acc-2"), "Sheet7.csv", "roles")
    (report,) = validate_session(ports, tenant_id=tenant, session_id=session).files
    assert report.kind is SpecKind.ROLES
    with pytest.raises(UnknownFileKindError):
        set_file_kind(ports, scope, Actor("acc-2"), "Sheet7.csv", "spreadsheet")
    with pytest.raises(UnknownFileKindError):
        set_file_kind(ports, scope, Actor("acc-2"), "Missing.csv", "roles")
    events = ports.audit.list_for_session(tenant_id=tenant, session_id=session)
    assert [(e.action, e.account_id, e.detail) for e in events if e.action == "file_type_set"] == [
        ("file_type_set", "acc-2", {"file": "Sheet7.csv", "kind": "roles"})
    ]


def test_the_admins_status_mapping_is_applied(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    _, tenant, session = store
    roles = (UWEC / "UWEC_Userroles.csv").read_bytes()
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("UWEC_Userroles.csv", roles)])
    default = {
        r.machine_name: r.action for r in validate_session(ports, tenant_id=tenant, session_id=session).model.roles
    }
    assert default["administrator"] == "none"

    # This agency marks finished rows with "x" but wants them re-checked as change work.
    mapping = {"a": "build", "c": "change", "w": "hold", "d": "remove", "x": "change", "": "none"}
    ports.tenant_settings.save(
        tenant,
        provider="offline",
        model="",
        base_url=None,
        status_mapping=mapping,
        default_labels=[],
        updated_by="admin",
    )
    mapped = {
        r.machine_name: r.action for r in validate_session(ports, tenant_id=tenant, session_id=session).model.roles
    }
    assert mapped["administrator"] == "change"


def test_a_workbook_is_stored_whole_and_validated_tab_by_tab(
    store: tuple[SessionRepository, int, int], ports: Workspace
) -> None:
    _, tenant, session = store
    book = openpyxl.Workbook()
    book.active.title = "User roles"
    for line in (UWEC / "UWEC_Userroles.csv").read_text("utf-8").splitlines():
        book.active.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("spec.xlsx", buffer.getvalue())])
    result = validate_session(ports, tenant_id=tenant, session_id=session)
    assert [(f.name, f.kind) for f in result.files] == [("spec.xlsx [User roles]", SpecKind.ROLES)]
    assert len(result.model.roles) == 8


def test_a_workbook_has_its_own_size_limit(store: tuple[SessionRepository, int, int], ports: Workspace) -> None:
    repo, tenant, session = store
    limits = IntakeLimits(max_file_bytes=100, max_workbook_bytes=1000)
    add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("a.xlsx", b"x" * 900)], limits=limits)
    with pytest.raises(UploadRejectedError, match="a CSV file may have at most 100"):
        add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("b.csv", b"x" * 900)], limits=limits)
    with pytest.raises(UploadRejectedError, match="a workbook may have at most 1,000"):
        add_files(ports, Scope(tenant, session), SYSTEM, [IncomingFile("c.ods", b"x" * 1001)], limits=limits)
    assert [f.name for f in repo.files(session, tenant_id=tenant)] == ["a.xlsx"]
