"""The UWEC spec exported, then revised as a director would (a field retyped, one removed, one added, one moved to
another bundle, a bundle deleted, a bundle marked `d`, a bundle renamed, a view display added) with an issue edited
in Jira in between, applied through a worker killed mid-apply, then applied again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.jira.client import JiraClient
from app.pipeline.export import export_csvs, run_export, start_export
from app.pipeline.intake import open_session
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.revision_plan import CHANGED, CONFLICT, FLAG_LABEL, GONE, OVERWRITE, UNCHANGED, Move
from app.pipeline.revisions import choose, revision_plan, start_revision
from app.sandbox.models import DEVELOPER_USER, user_actor
from app.sandbox.rest.issues import apply_edit
from tests.export.helpers import FAST, Crash, World, draft_tickets, jira_issues_by_ticket, no_sleep, revised_uwec
from tests.support import UWEC

pytestmark = [pytest.mark.unit, pytest.mark.export]

JOB, COLLEGE, PROFILE = "bundle.node.job.build", "bundle.node.college.build", "bundle.node.bio.build"
HOURS, FACT, FACTS_VIEW = "bundle.node.hours.build", "bundle.node.fact.build", "view.facts.build"
ANNOUNCEMENT = "bundle.node.announcement.build"


async def run(world: World, session_id: int) -> dict[str, Any]:
    task_id = start_export(world.services, world.tenant_id, session_id)
    await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)
    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "done", task.message if task else None
    return dict(task.detail["summary"])


@pytest.mark.anyio
async def test_a_revised_uwec_spec_updates_flags_and_creates_exactly_once(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = world.runtime.store
    upload = open_session(world.services, world.tenant_id, SYSTEM, project_key="DTG", project_id="10000")
    assert upload.id is not None
    first = upload.id
    await draft_tickets(world.services, Scope(world.tenant_id, first), UWEC)
    assert (await run(world, first))["created"] == 109
    issue_of = {i.properties["dtg-ticket"]["ticketKey"]: i for i in store.issues.values()}
    # A developer renames the Job issue in Jira; the revision changes that ticket too.
    await apply_edit(
        world.runtime, issue_of[JOB], {"fields": {"summary": "Job (our name)"}}, user_actor(DEVELOPER_USER)
    )

    revision = start_revision(world.services, Scope(world.tenant_id, first), SYSTEM)
    assert revision.id is not None
    await draft_tickets(world.services, Scope(world.tenant_id, revision.id), revised_uwec(tmp_path / "revised"))
    installation = world.services.tenants.get(world.tenant_id)
    assert installation is not None
    jira = JiraClient(world.http, installation, world.settings.app_key)
    plan = await revision_plan(world.services, jira, tenant_id=world.tenant_id, session_id=revision.id)
    kinds = {c.ticket_key: c for c in plan.changes}
    assert kinds[JOB].kind == CONFLICT and kinds[COLLEGE].kind == CHANGED and kinds[FACTS_VIEW].kind == CHANGED
    assert (kinds[HOURS].kind, kinds[FACT].kind) == (GONE, GONE)
    assert "+# Views: Build Facts view (4 displays)" in kinds[FACTS_VIEW].diff  # the display added
    assert any(line.startswith("+| Latest | latest |") for line in kinds[FACTS_VIEW].diff)
    assert any(line.startswith("-| Subtitle | field_subtitle |") for line in kinds[COLLEGE].diff)
    assert kinds[ANNOUNCEMENT].kind == CHANGED and any("Site announcement" in line for line in kinds[ANNOUNCEMENT].diff)
    assert Move("field_athena_id", PROFILE, JOB) in plan.moves and len(plan.moves) == 1
    # Jira stores descriptions its own way; only the issue someone edited is a conflict.
    assert plan.counts()[CONFLICT] == 1 and plan.counts()[UNCHANGED] > 0
    await choose(world.services, jira, Scope(world.tenant_id, revision.id), SYSTEM, JOB, OVERWRITE)

    original = JiraClient.edit_issue
    calls = {"n": 0}

    async def killed_after_the_tenth(self: JiraClient, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        await original(self, *args, **kwargs)
        if calls["n"] == 10:
            raise Crash

    monkeypatch.setattr(JiraClient, "edit_issue", killed_after_the_tenth)
    task_id = start_export(world.services, world.tenant_id, revision.id)
    with pytest.raises(Crash):
        await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)
    monkeypatch.setattr(JiraClient, "edit_issue", original)
    await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)

    counts = jira_issues_by_ticket(store)
    assert max(counts.values()) == 1 and sum(counts.values()) == 109  # nothing duplicated, nothing deleted
    assert world.runtime.stats.deletes_refused == 0
    revised = world.services.tickets.list(tenant_id=world.tenant_id, session_id=revision.id)
    issue_of = {i.properties["dtg-ticket"]["ticketKey"]: i for i in store.issues.values()}
    assert {t.key: t.jira_key for t in revised} == {t.key: issue_of[t.key].key for t in revised}  # write-back
    job = next(t for t in revised if t.key == JOB)
    assert issue_of[JOB].summary == job.title != "Job (our name)"
    for gone in (HOURS, FACT):
        assert FLAG_LABEL in issue_of[gone].labels and len(issue_of[gone].comments) == 1

    # The revised spec downloads with each row's issue key, the rows that existed before included.
    csvs = export_csvs(world.services, world.tenant_id, revision.id)
    assert issue_of[JOB].key in csvs["UWEC_Bundles.csv"].decode()
    assert issue_of[COLLEGE].key in csvs["UWEC_Bundles.csv"].decode()

    history = {i.key: (len(i.changelog), len(i.comments), tuple(i.labels)) for i in store.issues.values()}
    again = await run(world, revision.id)
    assert (again["created"], again["links"]) == (0, 0)
    assert (again["revision"]["updated"], again["revision"]["flagged"], again["revision"]["links_removed"]) == (0, 0, 0)
    assert {i.key: (len(i.changelog), len(i.comments), tuple(i.labels)) for i in store.issues.values()} == history
