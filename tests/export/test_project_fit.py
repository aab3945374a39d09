"""Project fit before anything is written: issue types from create-meta, required fields, link types, dry run."""

from __future__ import annotations

import dataclasses

import pytest

from app.db.export_settings import StoredExportSettings
from app.errors import NotFoundError
from app.pipeline.dry_run import dry_run
from app.pipeline.export import run_export
from app.pipeline.export_settings import project_fields
from app.pipeline.issue_requests import PROPERTY_KEY, CreateTarget, content_hash, epic_request, ticket_request
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.project_fit import ProjectFitError, check_project_fit
from app.pipeline.readiness import check_readiness
from app.pipeline.revisions import RevisionError, revision_plan, start_revision
from tests.export.helpers import World, synthetic_tickets
from tests.jira.test_client import client_of
from tests.sandbox.test_openapi import assert_request_matches

pytestmark = [pytest.mark.unit, pytest.mark.export]

DEFAULTS = StoredExportSettings()
MAPPED = StoredExportSettings(field_defaults={"customfield_10050": "Web", "customfield_10051": "UWEC-2026"})


@pytest.mark.anyio
async def test_a_company_managed_project_fits_with_task_tickets_under_epics(world: World) -> None:
    fit = await check_project_fit(client_of(world), "DTG", DEFAULTS)
    assert fit.ready and fit.checks == []
    assert (fit.ticket_type and fit.ticket_type.id, fit.area_type and fit.area_type.id) == ("10001", "10000")
    assert set(fit.link_types) == {"blocks", "relates", "cloners", "duplicate"}
    stories = await check_project_fit(client_of(world), "DTG", StoredExportSettings(ticket_issue_type="Story"))
    assert stories.ticket_type is not None and stories.ticket_type.name == "Story"
    flat = await check_project_fit(client_of(world), "DTG", StoredExportSettings(epics_enabled=False))
    assert flat.area_type is None and not flat.epics and flat.ready


@pytest.mark.anyio
async def test_required_fields_without_defaults_block_until_the_admin_maps_them(world: World) -> None:
    fit = await check_project_fit(client_of(world), "REQ", DEFAULTS)
    blocking = {c.code: c for c in fit.checks if c.blocking}
    assert set(blocking) == {"required_field_customfield_10050", "required_field_customfield_10051"}
    cost = blocking["required_field_customfield_10050"]
    assert "'Cost centre' (customfield_10050) on Task and Epic issues" in cost.message
    assert "configure page (one of: Web, Brand)" in cost.todo and cost.who_can_fix == "jira_admin"
    assert "on Epic issues" in blocking["required_field_customfield_10051"].message
    with pytest.raises(ProjectFitError, match="Cost centre"):
        fit.raise_unless_ready()

    mapped = await check_project_fit(client_of(world), "REQ", MAPPED)
    assert mapped.ready
    # A mapped value goes wherever the field is on the create screen, required there or not.
    both = {"customfield_10050": {"value": "Web"}, "customfield_10051": "UWEC-2026"}
    assert mapped.fields_for("10001") == mapped.fields_for("10000") == both
    only_cost = dataclasses.replace(MAPPED, field_defaults={"customfield_10050": "Brand"})
    task_only = await check_project_fit(client_of(world), "REQ", dataclasses.replace(only_cost, epics_enabled=False))
    assert task_only.ready and task_only.fields_for("10001") == {"customfield_10050": {"value": "Brand"}}

    wrong = dataclasses.replace(MAPPED, field_defaults={**MAPPED.field_defaults, "customfield_10050": "Sales"})
    [refused] = [c for c in (await check_project_fit(client_of(world), "REQ", wrong)).checks if c.blocking]
    assert "'Sales' set for it is not one of its options (Web, Brand)" in refused.message


@pytest.mark.anyio
async def test_a_team_managed_project_is_used_with_its_own_issue_type_ids(world: World) -> None:
    fit = await check_project_fit(client_of(world), "TEAM", DEFAULTS)
    assert fit.ready
    assert (fit.ticket_type and fit.ticket_type.id, fit.area_type and fit.area_type.id) == ("10101", "10100")
    no_saga = await check_project_fit(client_of(world), "TEAM", StoredExportSettings(area_issue_type="Saga"))
    [missing] = no_saga.checks
    assert missing.code == "missing_issue_type_area" and missing.blocking
    assert "offers: Epic" in missing.todo and "turn epics off" in missing.todo


@pytest.mark.anyio
@pytest.mark.parametrize("project", ["DTG", "TEAM", "REQ"])
async def test_the_requests_built_from_the_fit_are_accepted_by_each_kind_of_project(world: World, project: str) -> None:
    fit = await check_project_fit(client_of(world), project, MAPPED)
    target = CreateTarget(project, fit, ["dtg"])
    world.add_tickets(synthetic_tickets(1, attachments_every=0))
    [ticket] = world.tickets()
    epic = epic_request("Content model", target, session_id=world.session_id, export_id="1")
    assert_request_matches(epic, "/rest/api/3/issue", "post")
    created_epic = await client_of(world).bulk_create([epic])
    [epic_issue] = created_epic.issues
    request = ticket_request(ticket, target, export_id="1", parent_key=epic_issue.key)
    assert_request_matches(request, "/rest/api/3/issue", "post")
    result = await client_of(world).bulk_create([request])
    assert result.errors == []
    stored = world.runtime.store.issue(result.issues[0].key)
    assert stored is not None and stored.parent_id == epic_issue.id
    assert stored.issuetype_id == (fit.ticket_type and fit.ticket_type.id)
    assert stored.labels == sorted({*ticket.labels, "dtg"})


@pytest.mark.anyio
async def test_readiness_lists_the_project_checks_and_blocks_on_them(world: World) -> None:
    world.add_tickets(synthetic_tickets(3, attachments_every=0))
    readiness = await check_readiness(
        blocking_findings=0,
        tickets=world.tickets(),
        generation=None,
        project_fit=lambda: check_project_fit(client_of(world), "REQ", DEFAULTS),
    )
    assert not readiness.ready
    assert {c.code for c in readiness.checks if c.blocking} == {
        "required_field_customfield_10050",
        "required_field_customfield_10051",
    }
    fine = await check_readiness(
        blocking_findings=0,
        tickets=world.tickets(),
        generation=None,
        project_fit=lambda: check_project_fit(client_of(world), "DTG", DEFAULTS),
    )
    assert fine.ready


@pytest.mark.anyio
async def test_the_dry_run_shows_every_request_in_order_and_changes_nothing(world: World) -> None:
    world.add_tickets(synthetic_tickets(12, attachments_every=0))
    before = dict(world.runtime.stats.requests)
    found = await dry_run(
        world.services, client_of(world), tenant_id=world.tenant_id, session_id=world.session_id, project_key="DTG"
    )
    assert found.ready
    assert [e["area"] for e in found.epics] == ["content-model"]
    assert [e["request"]["fields"]["issuetype"] for e in found.epics] == [{"id": "10000"}]
    by_key = {t.key: t for t in world.tickets()}
    assert sorted(t["key"] for t in found.tickets) == sorted(by_key)
    first = found.tickets[0]
    fields = first["request"]["fields"]
    assert fields["issuetype"] == {"id": "10001"} and fields["summary"] == by_key[first["key"]].title
    assert fields["parent"] == {"key": "(key of the 'content-model' epic, created first)"}
    assert first["request"]["properties"][0]["value"]["ticketKey"] == first["key"]
    # Links are listed on the ticket that names them; a "blocked by" shows the blocker as the inward issue.
    blocked = next(t for t in found.tickets if by_key[t["key"]].blocked_by)
    blocker = by_key[blocked["key"]].blocked_by[0]
    assert {"type": "Blocks", "inwardTicket": blocker, "outwardTicket": blocked["key"]} in blocked["links"]

    # Only reads went to Jira, and nothing changed on either side.
    sent = {k: v - before.get(k, 0) for k, v in world.runtime.stats.requests.items() if v - before.get(k, 0)}
    assert all(endpoint.startswith("GET ") for endpoint in sent), sent
    assert world.runtime.store.issues == {}
    assert all(t.jira_key is None for t in world.tickets())


@pytest.mark.anyio
async def test_the_configure_page_lists_the_fields_a_project_asks_for(world: World) -> None:
    listed = await project_fields(
        client_of(world), "REQ", StoredExportSettings(field_defaults={"customfield_10050": "Web"})
    )
    assert not listed["ready"] and listed["ticketIssueType"] == "Task" and listed["areaIssueType"] == "Epic"
    by_id = {f["fieldId"]: f for f in listed["fields"]}
    assert list(by_id) == ["customfield_10051", "customfield_10050"]  # required first, then by name
    assert by_id["customfield_10050"] | {"requiredOn": sorted(by_id["customfield_10050"]["requiredOn"])} == {
        "fieldId": "customfield_10050",
        "name": "Cost centre",
        "type": "option",
        "options": ["Web", "Brand"],
        "requiredOn": ["Epic", "Task"],
        "jiraHasDefault": False,
        "value": "Web",
    }
    assert by_id["customfield_10051"]["requiredOn"] == ["Epic"] and by_id["customfield_10051"]["value"] == ""
    assert [c["code"] for c in listed["checks"]] == ["required_field_customfield_10051"]


@pytest.mark.anyio
async def test_each_issue_carries_the_hash_of_what_we_sent_and_an_edit_in_jira_changes_it(world: World) -> None:
    world.add_tickets(synthetic_tickets(2, attachments_every=0))
    target = CreateTarget("DTG", await check_project_fit(client_of(world), "DTG", DEFAULTS), [])
    first, second = world.tickets()
    result = await client_of(world).bulk_create(
        [ticket_request(t, target, export_id="1", parent_key=None) for t in (first, second)]
    )
    edited, untouched = (world.runtime.store.issue(i.key) for i in result.issues)
    assert edited is not None and untouched is not None
    for issue in (edited, untouched):
        assert issue.properties[PROPERTY_KEY]["sentHash"] == content_hash(issue.summary, issue.description)
    response = await world.http.post(
        f"http://jira.test/_sandbox/issues/{edited.key}/edit", json={"fields": {"summary": "Renamed by hand"}}
    )
    assert response.status_code == 204
    assert edited.properties[PROPERTY_KEY]["sentHash"] != content_hash(edited.summary, edited.description)
    assert untouched.properties[PROPERTY_KEY]["sentHash"] == content_hash(untouched.summary, untouched.description)


@pytest.mark.anyio
async def test_the_revision_plan_reads_jira_and_marks_an_issue_edited_there_as_a_conflict(world: World) -> None:
    drafts = synthetic_tickets(4, attachments_every=0)
    world.add_tickets(drafts)
    await run_export(world.services, world.start(), http=world.http)
    by_key = {t.key: t for t in world.tickets()}
    edited_key = by_key["t-0001"].jira_key
    await world.http.post(f"http://jira.test/_sandbox/issues/{edited_key}/edit", json={"fields": {"summary": "Mine"}})

    revised = start_revision(world.services, Scope(world.tenant_id, world.session_id), SYSTEM)
    assert revised.id is not None and revised.revision == {
        "of": world.session_id,
        "lineage": [world.session_id],
        "choices": {},
    }
    changed = [dict(d) for d in drafts[:3]] + synthetic_tickets(5, attachments_every=0)[4:]
    changed[0]["title"] = "Content model: Build bundle 0 (revised)"
    changed[1]["title"] = "Content model: Build bundle 1 (revised)"
    world.services.tickets.save_drafts(tenant_id=world.tenant_id, session_id=revised.id, drafts=changed)
    plan = await revision_plan(world.services, client_of(world), tenant_id=world.tenant_id, session_id=revised.id)
    assert {c.ticket_key: c.kind for c in plan.changes} == {
        "t-0000": "changed",
        "t-0001": "conflict",
        "t-0002": "unchanged",
        "t-0003": "gone",
        "t-0004": "new",
    }
    assert {c.ticket_key: c.issue_key for c in plan.changes if c.kind != "new"} == {
        key: by_key[key].jira_key for key in ("t-0000", "t-0001", "t-0002", "t-0003")
    }
    # Another tenant's session (or none) cannot be revised, and a session that is not a revision has no plan.
    with pytest.raises(NotFoundError):
        start_revision(world.services, Scope(world.tenant_id, 999_999), SYSTEM)
    with pytest.raises(RevisionError):
        await revision_plan(world.services, client_of(world), tenant_id=world.tenant_id, session_id=world.session_id)
