"""Revising from the project page's API: open a revision of an exported session, choose for a conflict."""

from __future__ import annotations

import pytest

from app.db.exports import ExportRepository
from tests.web.conftest import AppUnderTest
from tests.web.project import director

pytestmark = [pytest.mark.unit, pytest.mark.web]


def test_an_exported_session_opens_a_revision_and_a_conflict_takes_one_of_three_choices(
    app_under_test: AppUnderTest,
) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    assert me.post(f"/api/sessions/{session_id}/revise").status_code == 409  # nothing in Jira yet

    services = app_under_test.services
    tenant = services.tenants.find(me.jira.client_key)
    assert tenant is not None and tenant.id is not None
    upload = services.sessions.get(session_id, tenant_id=tenant.id)
    first = services.tickets.list(tenant_id=upload.tenant_id, session_id=session_id)[0]
    ExportRepository(services.db).record_issues(
        tenant_id=upload.tenant_id, session_id=session_id, issues={first.key: ("DTG-1", "10001")}
    )
    assert 'data-action="revise"' in me.get(f"/api/sessions/{session_id}/panels/export").text
    opened = me.post(f"/api/sessions/{session_id}/revise")
    assert opened.status_code == 201 and opened.json()["revises"] == session_id
    revision_id = opened.json()["id"]
    assert me.post(f"/api/sessions/{session_id}/revise").json()["id"] == revision_id  # open already: the same one
    assert services.sessions.get(revision_id, tenant_id=upload.tenant_id).revision == {
        "of": session_id,
        "lineage": [session_id],
        "choices": {},
    }

    services.tickets.save_drafts(
        tenant_id=upload.tenant_id,
        session_id=revision_id,
        drafts=[{"key": first.key, "title": first.title, "area": first.area, "action": first.action}],
    )
    panel = me.get(f"/api/sessions/{revision_id}/panels/export").text
    assert 'data-action="revision-plan"' in panel and 'data-action="revise"' not in panel
    url = f"/api/sessions/{revision_id}/revision/choices"
    assert me.post(url, json={"ticketKey": first.key, "choice": "delete"}).status_code == 400
    assert me.post(url, json={"ticketKey": "no.such.ticket", "choice": "keep"}).status_code == 404
    assert me.post(url, json={"ticketKey": first.key, "choice": "overwrite"}).status_code == 200
    revision = services.sessions.get(revision_id, tenant_id=upload.tenant_id).revision
    assert revision is not None and revision["choices"] == {first.key: "overwrite"}
    # A session that is not a revision takes no choice.
    not_revision = me.post(
        f"/api/sessions/{session_id}/revision/choices", json={"ticketKey": first.key, "choice": "keep"}
    )
    assert not_revision.status_code == 409
