"""NUL and other control characters in cells are removed with a warning, wherever they are in the file, so a spec
that PostgreSQL could not store as text never reaches generation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.intake import UploadedFile, intake_files
from app.intake.findings import Code, Severity
from app.llm import LLMConfig, build_writer
from app.pipeline.generation import run_generation, start_generation
from app.pipeline.intake import IncomingFile, add_files
from app.pipeline.ports import SYSTEM
from tests.pipeline.conftest import Workspace, make_workspace

pytestmark = [pytest.mark.intake]

HEADER = "ID,Name,Machine name,X,Dev,QA,Description,Type,Settings/notes\n"
# Past the first 64 KB, where the binary sniffing does not look.
FILLER = "".join(f",Page {i},page_{i},a,,,A page.,Content type,-\n" for i in range(2_000))
BUNDLES = HEADER + FILLER + ",Evil\x00 page,evil_page,a,,,Bell\x07 and NUL\x00,Content type,-\n"


@pytest.mark.unit
def test_control_characters_past_the_sniffed_part_are_removed_with_a_warning() -> None:
    assert len(FILLER) > 64 * 1024
    result = intake_files([UploadedFile("bundles.csv", BUNDLES.encode())])

    [finding] = [f for f in result.findings if f.code == Code.CONTROL_CHARACTERS]
    assert finding.severity is Severity.WARNING and finding.record == 2_001 and "3 invisible" in finding.message
    evil = next(bundle for bundle in result.model.bundles if bundle.machine_name == "evil_page")
    assert (evil.label, evil.description) == ("Evil page", "Bell and NUL")
    assert not result.blocking


@pytest.fixture
def postgres_workspace(postgres_url: str) -> Iterator[Workspace]:
    yield from make_workspace(postgres_url)


@pytest.mark.integration
def test_a_spec_with_nul_generates_on_postgresql(postgres_workspace: Workspace) -> None:
    workspace = postgres_workspace
    files = [IncomingFile("bundles.csv", BUNDLES.encode())]
    add_files(workspace, workspace.scope, SYSTEM, files)
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)

    asyncio.run(run_generation(workspace, task_id, writer=build_writer(LLMConfig())))

    task = workspace.tasks.find(task_id)
    assert task is not None and task.state == "done", task.message if task else None
    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert any("Evil page" in t.title for t in tickets) and not any("\x00" in t.title for t in tickets)
