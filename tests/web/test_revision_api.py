"""Revising from the project page's API: open a revision of an exported session, choose for a conflict."""

from __future__ import annotations

from typing import Any

import pytest

from app.db.exports import ExportRepository
from app.jira.models import FoundIssue
from app.pipeline.issue_requests import content_hash
from tests.web.conftest import AppUnderTest
from tests.web.project import director

pytestmark = [pytest.mark.unit, pytest.mark.web]


class EditedInJira:
    """Jira's search, showing `edited` as changed in Jira since we sent it and `untouched` as we sent it."""

    def __init__(self, edited: str, untouched: str) -> None:
        self.issues = [
            FoundIssue(id="10001", key="DTG-1", properties={"dtg-ticket": {"ticketKey": edited, "sentHash": "x"}}),
            FoundIssue(id="10002", key="DTG-2", properties={"dtg-ticket": {"ticketKey": untouched, "sentHash": "x"}}),
        ]

    async def search_by_property(self, key: str, conditions: dict[str, Any], **_: Any) -> list[FoundIssue]:
        return self.issues


def test_an_exported_session_opens_a_revision_and_a_conflict_takes_one_of_three_choices(
    app_under_test: AppUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    assert me.post(f"/api/sessions/{session_id}/revise").status_code == 409  # nothing in Jira yet

    services = app_under_test.services
    tenant = services.tenants.find(me.jira.client_key)
    assert tenant is not None and tenant.id is not None
    upload = services.sessions.get(session_id, tenant_id=tenant.id)
    first, second = services.tickets.list(tenant_id=upload.tenant_id, session_id=session_id)[:2]
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
        drafts=[{"key": t.key, "title": t.title, "area": t.area, "action": t.action} for t in (first, second)],
    )
    jira = EditedInJira(first.key, second.key)
    monkeypatch.setattr("app.web.revision_api.jira_of", lambda request: jira)
    panel = me.get(f"/api/sessions/{revision_id}/panels/export").text
    assert 'data-action="revision-plan"' in panel and 'data-action="revise"' not in panel
    url = f"/api/sessions/{revision_id}/revision/choices"
    assert me.post(url, json={"ticketKey": first.key, "choice": "delete"}).status_code == 400
    assert me.post(url, json={"ticketKey": "no.such.ticket", "choice": "keep"}).status_code == 404
    assert me.post(url, json={"ticketKey": first.key, "choice": "overwrite"}).status_code == 200
    # The second issue shows what we sent (its hash is Jira's): no conflict, so no choice, and the first one's stays.
    jira.issues[1].properties["dtg-ticket"]["sentHash"] = content_hash(second.title, None)
    refused = me.post(url, json={"ticketKey": second.key, "choice": "overwrite"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_conflict"
    assert f"'{second.title}' ({second.key}) has no conflict" in refused.json()["error"]["message"]
    revision = services.sessions.get(revision_id, tenant_id=upload.tenant_id).revision
    assert revision is not None and revision["choices"] == {first.key: "overwrite"}
    # A session that is not a revision takes no choice.
    not_revision = me.post(
        f"/api/sessions/{session_id}/revision/choices", json={"ticketKey": first.key, "choice": "keep"}
    )
    assert not_revision.status_code == 409
