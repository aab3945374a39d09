"""Generation runs: stored drafts, prose filled in, resumable after a crash, cancellable, never overlapping."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.db.tasks import TaskAlreadyRunningError, TaskRepository
from app.db.tenant_settings import TenantSettingsRepository
from app.generation.generate import GenerationBlockedError
from app.llm import LLMConfig, TicketBrief, WriteResult, build_writer
from app.pipeline.generation import NothingToDraftError, run_generation, start_generation, writer_for_task
from app.pipeline.intake import IncomingFile, add_files
from app.pipeline.ports import SYSTEM
from app.settings import Settings
from app.web.errors import rule_for
from tests.pipeline.conftest import Workspace
from tests.support import UWEC, LoopbackServer, make_settings

pytestmark = [pytest.mark.unit, pytest.mark.generation]


class CountingWriter:
    """The offline writer, counting calls; optionally crashing (like a killed worker) after `crash_after` calls."""

    def __init__(self, crash_after: int | None = None, on_call=None) -> None:  # type: ignore[no-untyped-def]
        self.inner = build_writer(LLMConfig())
        self.calls: list[str] = []
        self.crash_after = crash_after
        self.on_call = on_call

    async def write(self, brief: TicketBrief) -> WriteResult:
        if self.crash_after is not None and len(self.calls) >= self.crash_after:
            raise RuntimeError("worker killed")
        self.calls.append(brief.key)
        if self.on_call is not None:
            self.on_call()
        return await self.inner.write(brief)


@pytest.mark.anyio
async def test_a_run_stores_every_ticket_once_with_its_prose(workspace: Workspace) -> None:
    workspace.upload_uwec()
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert workspace.jobs.generations == [task_id]

    writer = CountingWriter()
    await run_generation(workspace, task_id, writer=writer, concurrency=4)

    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert 60 <= len(tickets) <= 160
    assert len({t.key for t in tickets}) == len(tickets) == len(writer.calls)
    assert all(t.prose_written and t.description["type"] == "doc" for t in tickets)
    task = workspace.tasks.get(task_id, tenant_id=workspace.tenant_id)
    assert (task.state, task.done, task.total) == ("done", len(tickets), len(tickets))
    assert workspace.sessions.get(workspace.session_id, tenant_id=workspace.tenant_id).stage == "review"

    # A redelivered message for a finished task does nothing.
    await run_generation(workspace, task_id, writer=writer)
    assert len(writer.calls) == len(tickets)


@pytest.mark.anyio
async def test_a_crashed_run_resumes_without_rewriting_or_duplicating(workspace: Workspace) -> None:
    workspace.upload_uwec()
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    crashing = CountingWriter(crash_after=25)
    with pytest.raises(RuntimeError, match="worker killed"):
        await run_generation(workspace, task_id, writer=crashing, concurrency=1)
    stored = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert sum(t.prose_written for t in stored) == 25

    resumed = CountingWriter()
    await run_generation(workspace, task_id, writer=resumed, concurrency=4)
    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert len(resumed.calls) == len(tickets) - 25
    assert set(resumed.calls).isdisjoint(crashing.calls)
    assert all(t.prose_written for t in tickets)
    assert workspace.tasks.get(task_id, tenant_id=workspace.tenant_id).state == "done"


@pytest.mark.anyio
async def test_cancel_stops_new_tickets_and_keeps_the_offline_text(workspace: Workspace) -> None:
    workspace.upload_uwec()
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    writer = CountingWriter(on_call=lambda: workspace.tasks.request_cancel(task_id, tenant_id=workspace.tenant_id))
    await run_generation(workspace, task_id, writer=writer, concurrency=1)

    task = workspace.tasks.get(task_id, tenant_id=workspace.tenant_id)
    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert task.state == "cancelled" and "Cancelled" in task.message
    assert len(writer.calls) < len(tickets)
    # Every ticket is still reviewable: the ones not written keep the offline placeholder text.
    assert all(t.description["type"] == "doc" for t in tickets)
    assert sum(t.prose_written for t in tickets) == len(writer.calls)


def test_two_runs_for_one_session_cannot_overlap(workspace: Workspace) -> None:
    workspace.upload_uwec()
    start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    with pytest.raises(TaskAlreadyRunningError):
        start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert len(workspace.jobs.generations) == 1


def test_blocking_findings_stop_a_run_from_starting(workspace: Workspace) -> None:
    add_files(workspace, workspace.scope, SYSTEM, [IncomingFile("Fields.csv", b"\x00\x01\x02binary\xff" * 50)])
    with pytest.raises(GenerationBlockedError, match="cannot be turned into tickets"):
        start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert workspace.jobs.generations == []


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        (b"ID,Name,Machine name,X,Dev,QA,Notes\n", "have no records"),
        (b"ID,Name,Machine name,X,Dev,QA,Notes\n,Editor,editor,x,,,\n,Author,author,,,,\n", "None of the 2 rows"),
    ],
    ids=["headers only", "nothing approved"],
)
def test_a_run_that_would_draft_nothing_says_why_and_does_not_start(
    workspace: Workspace, roles: bytes, reason: str
) -> None:
    add_files(workspace, workspace.scope, SYSTEM, [IncomingFile("Userroles.csv", roles)])
    with pytest.raises(NothingToDraftError, match=reason) as refused:
        start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert rule_for(type(refused.value)).status == 422
    assert workspace.jobs.generations == []
    assert (
        workspace.tasks.latest(tenant_id=workspace.tenant_id, session_id=workspace.session_id, kind="generate") is None
    )


@pytest.mark.anyio
async def test_a_rerun_after_the_spec_changed_rewrites_only_what_changed(workspace: Workspace) -> None:
    workspace.upload_uwec()
    first = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    await run_generation(workspace, first, writer=CountingWriter())
    before = {t.key for t in workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)}

    # One role's note changes; the roles stay, so the stories that name a role (a bundle "Market editors ... only"
    # is written for a marketing editor) keep their persona and only the roles ticket has new input.
    roles = (UWEC / "UWEC_Userroles.csv").read_bytes().replace(b"Access to all content on all domains.", b"Everything.")
    add_files(workspace, workspace.scope, SYSTEM, [IncomingFile("UWEC_Userroles.csv", roles)])
    second = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    writer = CountingWriter()
    await run_generation(workspace, second, writer=writer)
    after = {t.key for t in workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)}
    roles_tickets = {key for key in after if "role" in key}
    assert roles_tickets and set(writer.calls) == roles_tickets | (after - before)
    assert len(writer.calls) < 5 and before == after


@dataclass
class ProviderPorts:
    settings: Settings
    tenant_settings: TenantSettingsRepository
    audit: None
    tasks: TaskRepository


def test_the_worker_writes_with_the_provider_chosen_at_start(workspace: Workspace, tmp_path: Path) -> None:
    workspace.upload_uwec()
    scope = {"tenant_id": workspace.tenant_id, "session_id": workspace.session_id}
    task_id = start_generation(workspace, **scope, provider="anthropic")
    detail = workspace.tasks.get(task_id, tenant_id=workspace.tenant_id).detail
    assert detail is not None and detail["provider"] == "anthropic"
    assert set(detail) == {"provider", "files", "settings"}  # what the drafts were made from, to tell them stale
    ports = ProviderPorts(make_settings(tmp_path), workspace.tenant_settings, None, workspace.tasks)

    # This site offers no Anthropic provider: the run fails with a message instead of writing with another one.
    assert writer_for_task(ports, task_id) is None
    task = workspace.tasks.get(task_id, tenant_id=workspace.tenant_id)
    assert task.state == "failed" and "not set up" in task.message

    workspace.tenant_settings.save(
        workspace.tenant_id,
        provider="anthropic",
        model="claude-3-5-haiku-latest",
        base_url=None,
        status_mapping={},
        default_labels=[],
        updated_by="admin",
        new_api_key="sk-ant-test-key",
    )
    writer = writer_for_task(ports, start_generation(workspace, **scope, provider="anthropic"))
    assert writer is not None and writer.provider.name == "anthropic"


class EditingWriter(CountingWriter):
    """The director edits the first ticket while the model is still writing it."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.edited: str | None = None

    async def write(self, brief: TicketBrief) -> WriteResult:
        if self.edited is None:
            self.edited = brief.key
            self.workspace.tickets.update(
                tenant_id=self.workspace.tenant_id,
                session_id=self.workspace.session_id,
                key=brief.key,
                expected_version=1,
                changes={"title": "The director's own title", "labels": ["keep-me"]},
            )
        return await super().write(brief)


@pytest.mark.anyio
async def test_review_edits_made_during_a_run_are_kept_and_a_rerun_keeps_them_too(workspace: Workspace) -> None:
    workspace.upload_uwec()
    scope = {"tenant_id": workspace.tenant_id, "session_id": workspace.session_id}
    writer = EditingWriter(workspace)
    await run_generation(workspace, start_generation(workspace, **scope), writer=writer, concurrency=1)

    edited = workspace.tickets.get(**scope, key=writer.edited)
    assert (edited.title, edited.labels, edited.prose_written) == ("The director's own title", ["keep-me"], True)
    others = [t for t in workspace.tickets.list(**scope) if t.key != writer.edited]
    # The model's text bumped their version, so a tab still showing the placeholder gets a conflict, not a loss.
    assert {t.version for t in others} == {2}

    rerun = CountingWriter()
    await run_generation(workspace, start_generation(workspace, **scope), writer=rerun)
    assert rerun.calls == []
    assert workspace.tickets.get(**scope, key=writer.edited).title == "The director's own title"


@pytest.mark.anyio
async def test_a_run_calls_a_stored_base_url_only_through_the_egress_guard(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A base URL stored while the operator allowed it (or before the guard) is checked again when a run starts."""
    workspace.upload_uwec()
    scope = {"tenant_id": workspace.tenant_id, "session_id": workspace.session_id}
    with LoopbackServer(body=_completion()) as endpoint:
        workspace.tenant_settings.save(
            workspace.tenant_id,
            provider="openai_compatible",
            model="llama3.1:8b",
            base_url=f"{endpoint.url}/v1",
            status_mapping={},
            default_labels=[],
            updated_by="admin",
            new_api_key="sk-local-key",
        )
        closed = ProviderPorts(
            make_settings(tmp_path, DTG_LLM_ALLOW_HTTP="1"), workspace.tenant_settings, None, workspace.tasks
        )
        refused_task = start_generation(workspace, **scope, provider="openai_compatible")
        assert writer_for_task(closed, refused_task) is None
        task = workspace.tasks.get(refused_task, tenant_id=workspace.tenant_id)
        assert task.state == "failed" and "internal address (127.0.0.1)" in task.message
        assert endpoint.requests == []

        allowing = make_settings(tmp_path, DTG_ALLOWED_LLM_HOSTS="127.0.0.1", DTG_LLM_ALLOW_HTTP="1")
        ports = ProviderPorts(allowing, workspace.tenant_settings, None, workspace.tasks)
        writer = writer_for_task(ports, start_generation(workspace, **scope, provider="openai_compatible"))
        assert writer is not None
        await writer.provider.ping()
        await writer.provider.aclose()
        [(_, path, headers, _)] = endpoint.requests
        assert (path, headers["Authorization"]) == ("/v1/chat/completions", "Bearer sk-local-key")


def _completion() -> bytes:
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "OK"}}
    return json.dumps(
        {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}
    ).encode()


@pytest.mark.anyio
async def test_the_admins_existing_site_setting_turns_rows_marked_d_into_removals(workspace: Workspace) -> None:
    """Saved per tenant on the configure page, read by every run: on an existing site a row marked d exists."""
    workspace.upload_uwec()
    workspace.tenant_settings.save(
        workspace.tenant_id,
        provider="offline",
        model="",
        base_url=None,
        status_mapping={},
        default_labels=[],
        updated_by=None,
        existing_site=True,
    )
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    await run_generation(workspace, task_id, writer=CountingWriter())

    tickets = {t.key: t for t in workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)}
    announcement = tickets["bundle.node.announcement.build"].draft["criteria"]
    assert not any(c.startswith("Do not build") for c in announcement)
    assert (
        "Field Sitewide (field_sitewide) is removed from Announcement (content type), with nothing left referring "
        "to it." in tickets["remove.fields"].draft["criteria"]
    )
