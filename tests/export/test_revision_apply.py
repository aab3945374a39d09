"""Applying a revised spec: changed issues updated, gone ones commented and labelled, new ones created, links
matched; exactly once whatever fails, twice changing nothing, and never over an edit made in Jira."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.db.export_settings import StoredExportSettings
from app.jira.client import JiraClient
from app.pipeline.export import run_export, start_export
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.revision_plan import CHANGED, CONFLICT, FLAG_LABEL, GONE, NEW, OVERWRITE, UNCHANGED
from app.pipeline.revisions import NoConflictError, choose, revision_plan, start_revision
from app.sandbox.models import DEVELOPER_USER, user_actor
from app.sandbox.rest.issues import apply_edit
from app.sandbox.store import SandboxStore
from tests.export.helpers import (
    FAST,
    Crash,
    World,
    adf,
    jira_epics,
    jira_issues_by_ticket,
    no_sleep,
    synthetic_tickets,
)

pytestmark = [pytest.mark.unit, pytest.mark.export]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    world = World(tmp_path)
    await world.install()
    world.add_tickets(synthetic_tickets(30, attachments_every=0))
    await run_export(world.services, world.start(), http=world.http, sleep=no_sleep, policy=FAST)
    yield world
    await world.aclose()


def revised_drafts() -> list[dict[str, Any]]:
    """The spec revised: two tickets changed, one gone, one new, one dependency dropped and one added."""
    drafts = {d["key"]: d for d in copy.deepcopy(synthetic_tickets(30, attachments_every=0))}
    drafts["t-0005"]["title"] = "Content model: Build bundle 5 (renamed)"
    drafts["t-0007"]["description"] = adf("As an editor I can manage bundle 7 and its new field.")
    del drafts["t-0009"]
    for draft in drafts.values():
        draft["blocked_by"] = [k for k in draft["blocked_by"] if k != "t-0009"]
        draft["relates_to"] = [k for k in draft["relates_to"] if k != "t-0009"]
    dropped = next(d for d in drafts.values() if d["blocked_by"] and d["key"] not in ("t-0001", "t-0002", "t-0003"))
    dropped["blocked_by"] = dropped["blocked_by"][1:]
    drafts["t-0020"]["blocked_by"] = sorted({*drafts["t-0020"]["blocked_by"], "t-0019"})
    new = copy.deepcopy(drafts["t-0010"])
    new.update(key="t-0100", title="Content model: Build bundle 100", blocked_by=["t-0010"], relates_to=[])
    return [*drafts.values(), new]


def revise(world: World) -> int:
    upload = start_revision(world.services, Scope(world.tenant_id, world.session_id), SYSTEM)
    assert upload.id is not None
    world.services.tickets.save_drafts(tenant_id=world.tenant_id, session_id=upload.id, drafts=revised_drafts())
    return upload.id


async def apply(world: World, session_id: int) -> dict[str, Any]:
    task_id = start_export(world.services, world.tenant_id, session_id)
    await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)
    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "done", task.message if task else None
    return dict(task.detail["summary"])


def client(world: World) -> JiraClient:
    installation = world.services.tenants.get(world.tenant_id)
    assert installation is not None
    return JiraClient(world.http, installation, world.settings.app_key)


def by_ticket(store: SandboxStore, ticket_key: str) -> Any:
    return next(i for i in store.issues.values() if i.properties["dtg-ticket"]["ticketKey"] == ticket_key)


def links_by_ticket(store: SandboxStore) -> Counter[tuple[str, str, str]]:
    ticket_of = {i.id: i.properties["dtg-ticket"]["ticketKey"] for i in store.issues.values()}
    names = {"10000": "Blocks", "10003": "Relates"}
    return Counter((names[k.type_id], ticket_of[k.inward_issue_id], ticket_of[k.outward_issue_id]) for k in store.links)


def assert_revised_exactly(world: World, session_id: int) -> None:
    store = world.runtime.store
    counts = jira_issues_by_ticket(store)
    assert max(counts.values()) == 1 and set(counts) == {f"t-{i:04d}" for i in range(30)} | {"t-0100"}
    assert by_ticket(store, "t-0005").summary == "Content model: Build bundle 5 (renamed)"
    gone = by_ticket(store, "t-0009")
    assert FLAG_LABEL in gone.labels and len(gone.comments) == 1
    assert "no longer has this ticket" in str(gone.comments[0].body)
    revised = world.services.tickets.list(tenant_id=world.tenant_id, session_id=session_id)
    # Write-back: every ticket of the revised session carries its issue key, old or new.
    keys = {t.key: t.jira_key for t in revised}
    assert keys == {t: by_ticket(store, t).key for t in keys}
    links = links_by_ticket(store)
    assert ("Blocks", "t-0019", "t-0020") in links and ("Blocks", "t-0010", "t-0100") in links
    assert not [link for link in links if "t-0009" in link[1:]]
    assert max(links.values()) == 1


@pytest.mark.anyio
async def test_the_plan_shows_each_ticket_and_applying_it_twice_changes_nothing_the_second_time(world: World) -> None:
    # A label given in Jira changes no content: not a conflict, and the update keeps it.
    sprint = {"update": {"labels": [{"add": "sprint-3"}]}}
    await apply_edit(world.runtime, by_ticket(world.runtime.store, "t-0005"), sprint, user_actor(DEVELOPER_USER))
    session_id = revise(world)
    plan = await revision_plan(world.services, client(world), tenant_id=world.tenant_id, session_id=session_id)
    kinds = {c.ticket_key: c.kind for c in plan.changes}
    assert (kinds["t-0005"], kinds["t-0007"], kinds["t-0009"], kinds["t-0100"]) == (CHANGED, CHANGED, GONE, NEW)
    assert plan.counts() == {UNCHANGED: 27, CHANGED: 2, GONE: 1, NEW: 1}
    [retitled] = [c for c in plan.changes if c.ticket_key == "t-0005"]
    assert "+# Content model: Build bundle 5 (renamed)" in retitled.diff

    first = await apply(world, session_id)
    assert (first["created"], first["revision"]["updated"], first["revision"]["flagged"]) == (1, 2, 1)
    assert first["revision"]["links_removed"] >= 2  # the gone ticket's links, and the dropped dependency
    assert_revised_exactly(world, session_id)
    assert "sprint-3" in by_ticket(world.runtime.store, "t-0005").labels
    history = {i.key: (len(i.changelog), len(i.comments)) for i in world.runtime.store.issues.values()}
    link_count = len(world.runtime.store.links)

    second = await apply(world, session_id)
    assert second["created"] == 0 and second["links"] == 0
    assert {k: second["revision"][k] for k in ("updated", "flagged", "commented", "links_removed")} == dict.fromkeys(
        ("updated", "flagged", "commented", "links_removed"), 0
    )
    again = await revision_plan(world.services, client(world), tenant_id=world.tenant_id, session_id=session_id)
    assert again.counts() == {UNCHANGED: 30, GONE: 1} and again.of_kind(GONE)[0].flagged
    assert {i.key: (len(i.changelog), len(i.comments)) for i in world.runtime.store.issues.values()} == history
    assert len(world.runtime.store.links) == link_count
    assert world.runtime.stats.deletes_refused == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "after_calls"),
    [
        ("edit_issue", 1),
        ("edit_issue", 3),
        ("add_comment", 1),
        ("bulk_create", 1),
        ("delete_link", 1),
        ("create_link", 1),
    ],
)
async def test_a_worker_killed_mid_apply_resumes_and_applies_each_change_exactly_once(
    world: World, monkeypatch: pytest.MonkeyPatch, method: str, after_calls: int
) -> None:
    session_id = revise(world)
    task_id = start_export(world.services, world.tenant_id, session_id)
    original = getattr(JiraClient, method)
    calls = {"n": 0}

    async def crashing(self: JiraClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        number = calls["n"]
        result = await original(self, *args, **kwargs)  # Jira did the work...
        if number == after_calls:
            raise Crash  # ...and the worker died before recording it
        return result

    monkeypatch.setattr(JiraClient, method, crashing)
    with pytest.raises(Crash):
        await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)
    monkeypatch.setattr(JiraClient, method, original)
    await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)  # redelivered
    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "done"
    assert_revised_exactly(world, session_id)


@pytest.mark.anyio
async def test_an_issue_edited_in_jira_since_is_a_conflict_kept_unless_the_director_overwrites_it(
    world: World,
) -> None:
    store = world.runtime.store
    edited = by_ticket(store, "t-0007")
    await apply_edit(
        world.runtime, edited, {"fields": {"summary": "Bundle 7, as the team sees it"}}, user_actor(DEVELOPER_USER)
    )
    untouched = by_ticket(store, "t-0008")
    session_id = revise(world)

    plan = await revision_plan(world.services, client(world), tenant_id=world.tenant_id, session_id=session_id)
    kinds = {c.ticket_key: c.kind for c in plan.changes}
    # Jira stored every description its own way (tables, ids): only the issue a person edited is a conflict.
    assert kinds["t-0007"] == CONFLICT and kinds["t-0008"] == UNCHANGED and untouched.description
    assert plan.counts()[CONFLICT] == 1

    first = await apply(world, session_id)  # no choice yet: Jira's edit is kept
    assert first["revision"]["conflicts_kept"] == 1 and edited.summary == "Bundle 7, as the team sees it"

    scope = Scope(world.tenant_id, session_id)
    # A choice for an issue nobody edited is refused, naming the ticket, and nothing is recorded.
    with pytest.raises(NoConflictError, match=r"'Content model: Build bundle 8' \(t-0008\) has no conflict"):
        await choose(world.services, client(world), scope, SYSTEM, "t-0008", OVERWRITE)
    assert world.services.sessions.get(session_id, tenant_id=world.tenant_id).revision["choices"] == {}
    await choose(world.services, client(world), scope, SYSTEM, "t-0007", "comment")
    await apply(world, session_id)
    await apply(world, session_id)
    assert edited.summary == "Bundle 7, as the team sees it" and len(edited.comments) == 1
    assert "bundle 7 and its new field" in str(edited.comments[0].body)

    await choose(world.services, client(world), scope, SYSTEM, "t-0007", OVERWRITE)
    third = await apply(world, session_id)
    assert third["revision"]["updated"] == 1 and edited.summary == "Content model: Build bundle 7"
    after = await revision_plan(world.services, client(world), tenant_id=world.tenant_id, session_id=session_id)
    assert {c.ticket_key: c.kind for c in after.changes}["t-0007"] == UNCHANGED


@pytest.mark.anyio
async def test_two_choices_made_at_once_are_both_kept(world: World) -> None:
    # Each choice reads the plan from Jira first: both reads finish before either choice is written.
    for key in ("t-0005", "t-0007"):
        edit = {"fields": {"summary": f"{key}, as the team sees it"}}
        await apply_edit(world.runtime, by_ticket(world.runtime.store, key), edit, user_actor(DEVELOPER_USER))
    session_id = revise(world)
    scope = Scope(world.tenant_id, session_id)
    await asyncio.gather(
        choose(world.services, client(world), scope, SYSTEM, "t-0005", OVERWRITE),
        choose(world.services, client(world), scope, SYSTEM, "t-0007", "comment"),
    )
    revision = world.services.sessions.get(session_id, tenant_id=world.tenant_id).revision
    assert revision is not None and revision["choices"] == {"t-0005": OVERWRITE, "t-0007": "comment"}


@pytest.mark.anyio
@pytest.mark.parametrize("project", ["TEAM", "REQ"])
async def test_a_revision_applies_in_a_team_managed_project_and_in_one_with_required_fields(
    tmp_path: Path, project: str
) -> None:
    world = World(tmp_path)
    await world.install()
    try:
        if project == "REQ":  # the admin gave the required fields their values on the configure page
            defaults = {"customfield_10050": "Web", "customfield_10051": "UWEC"}
            world.services.export_settings.save(world.tenant_id, StoredExportSettings(field_defaults=defaults))
        upload = world.services.sessions.create(tenant_id=world.tenant_id, project_key=project)
        assert upload.id is not None
        world.session_id = upload.id
        world.add_tickets(synthetic_tickets(30, attachments_every=0))
        await run_export(world.services, world.start(), http=world.http, sleep=no_sleep, policy=FAST)
        session_id = revise(world)
        summary = await apply(world, session_id)
        assert (summary["created"], summary["revision"]["updated"], summary["revision"]["flagged"]) == (1, 2, 1)
        assert_revised_exactly(world, session_id)
        store = world.runtime.store
        # The new ticket went under the area's epic made by the first export: no second epic.
        assert set(jira_epics(store).values()) == {1}
        epic = next(i for i in store.issues.values() if i.properties["dtg-ticket"]["ticketKey"].startswith("epic:"))
        assert by_ticket(store, "t-0100").parent_id == epic.id
        assert {store.project_of(i).key for i in store.issues.values()} == {project}
        if project == "REQ":  # the edits left the required values in place, and the new issue has them
            assert {i.custom["customfield_10050"]["value"] for i in store.issues.values()} == {"Web"}
    finally:
        await world.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("crash_after", [None, "add_attachment", "delete_attachment"])
async def test_a_revised_attachment_replaces_the_one_of_its_name_and_a_dropped_one_goes_exactly_once_across_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_after: str | None
) -> None:
    world = World(tmp_path)
    await world.install()
    try:
        drafts = synthetic_tickets(26)  # t-0005, t-0015 and t-0025 have an attachment each
        world.add_tickets(drafts)
        await run_export(world.services, world.start(), http=world.http, sleep=no_sleep, policy=FAST)
        store = world.runtime.store
        revised_issue, kept_issue, dropped_issue = (by_ticket(store, f"t-00{n}5") for n in "012")
        (old_id,), (kept_id,) = revised_issue.attachment_ids, kept_issue.attachment_ids
        upload = start_revision(world.services, Scope(world.tenant_id, world.session_id), SYSTEM)
        assert upload.id is not None
        revised = copy.deepcopy(drafts)
        new_content = "machine_name\nfield_5\nfield_5_subtitle\n"
        revised[5]["attachments"][0]["content"] = new_content  # the table changed; the description did not
        revised[25]["attachments"] = []  # its table fits in the description now
        world.services.tickets.save_drafts(tenant_id=world.tenant_id, session_id=upload.id, drafts=revised)

        posted = []
        add_attachment = JiraClient.add_attachment

        async def counted(self: JiraClient, key: str, *args: Any) -> Any:
            posted.append(key)
            return await add_attachment(self, key, *args)

        monkeypatch.setattr(JiraClient, "add_attachment", counted)
        task_id = start_export(world.services, world.tenant_id, upload.id)
        if crash_after is not None:
            original = getattr(JiraClient, crash_after)

            async def crashing(self: JiraClient, *args: Any) -> Any:
                await original(self, *args)
                raise Crash  # the call was made; the worker died before it could go on

            monkeypatch.setattr(JiraClient, crash_after, crashing)
            with pytest.raises(Crash):
                await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)
            if crash_after == "add_attachment":  # a crash between the two leaves both, never neither
                assert len(revised_issue.attachment_ids) == 2
            monkeypatch.setattr(JiraClient, crash_after, original)
        await run_export(world.services, task_id, http=world.http, sleep=no_sleep, policy=FAST)

        (new_id,) = revised_issue.attachment_ids
        assert new_id != old_id and old_id not in store.attachments
        assert (store.attachments[new_id].filename, store.attachment_content(new_id)) == (
            "fields-5.csv",
            new_content.encode(),
        )
        assert posted == [revised_issue.key]  # once, whatever the crash
        assert kept_issue.attachment_ids == [kept_id]  # same content: left as it was
        assert dropped_issue.attachment_ids == []
        deleted = [i for group in revised_issue.changelog for i in group.items if i["field"] == "Attachment"]
        assert deleted == [
            {"field": "Attachment", "fieldId": "attachment", "fromString": "fields-5.csv", "toString": None}
        ]

        await apply(world, upload.id)  # again: nothing to replace
        assert revised_issue.attachment_ids == [new_id] and posted == [revised_issue.key]
    finally:
        await world.aclose()


@pytest.mark.anyio
async def test_a_file_a_person_attached_under_the_apps_file_name_is_kept_on_revision(world: World) -> None:
    drafts = synthetic_tickets(26)  # t-0005, t-0015 and t-0025 have an attachment each
    world.add_tickets(drafts)
    await run_export(world.services, world.start(), http=world.http, sleep=no_sleep, policy=FAST)
    store = world.runtime.store
    revised_issue, dropped_issue = by_ticket(store, "t-0005"), by_ticket(store, "t-0025")
    (ours,) = revised_issue.attachment_ids
    person = user_actor(DEVELOPER_USER)
    # Someone in Jira attached files of the same names: their own notes, not the app's tables.
    theirs = await store.add_attachment(revised_issue, "fields-5.csv", "text/csv", b"my notes\n", person)
    theirs_too = await store.add_attachment(dropped_issue, "fields-25.csv", "text/csv", b"more notes\n", person)
    upload = start_revision(world.services, Scope(world.tenant_id, world.session_id), SYSTEM)
    assert upload.id is not None
    revised = copy.deepcopy(drafts)
    revised[5]["attachments"][0]["content"] = "machine_name\nfield_5\nfield_5_subtitle\n"
    revised[25]["attachments"] = []
    world.services.tickets.save_drafts(tenant_id=world.tenant_id, session_id=upload.id, drafts=revised)

    await apply(world, upload.id)

    # The app's old table was replaced and its dropped one removed; the person's files are untouched.
    assert ours not in store.attachments and theirs.id in revised_issue.attachment_ids
    (new_id,) = set(revised_issue.attachment_ids) - {theirs.id}
    assert store.attachment_content(new_id) == b"machine_name\nfield_5\nfield_5_subtitle\n"
    assert store.attachment_content(theirs.id) == b"my notes\n"
    assert dropped_issue.attachment_ids == [theirs_too.id]
