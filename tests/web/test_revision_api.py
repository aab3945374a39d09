"""Revising from the project page's API: open a revision of an exported session, choose for a conflict."""

from __future__ import annotations

from typing import Any

import pytest

from app.db.exports import ExportRepository
from app.jira.models import FoundIssue
from app.pipeline.issue_requests import content_hash
from app.pipeline.revisions import previous_tickets
from tests.support import UWEC
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
        "carried": sorted(p.name for p in UWEC.glob("*.csv")),
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


def test_revise_after_a_file_changed_opens_a_revision_holding_the_sessions_files_as_they_are_now(
    app_under_test: AppUnderTest,
) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    services, tenant_id = app_under_test.services, me.tenant_id()
    exported = me.tickets(session_id)
    me.mark_in_jira(session_id, exported)
    roles = (UWEC / "UWEC_Userroles.csv").read_bytes() + b"\n,Reviewer,reviewer,a,,,\n"
    assert me.post(f"/api/sessions/{session_id}/files", files=[("files", ("UWEC_Userroles.csv", roles))]).is_success
    assert me.put(f"/api/sessions/{session_id}/files/UWEC_Workflows.csv/kind", json={"kind": "workflows"}).is_success
    assert 'data-action="revise"' in me.get(f"/api/sessions/{session_id}/panels/review").text

    opened = me.post(f"/api/sessions/{session_id}/revise")
    revision_id = opened.json()["id"]
    names = sorted(p.name for p in UWEC.glob("*.csv"))

    assert opened.status_code == 201 and opened.json()["files"] == len(names)
    # Not the exported session's own name, and numbered in the spec's line of revisions (not by session id).
    assert opened.json()["name"] == "Revision 1: UWEC spec" != f"Revision {revision_id}: UWEC spec"

    def held(of: int) -> list[tuple[str, bytes, str | None]]:
        return [(f.name, f.data, f.kind_override) for f in services.sessions.files(of, tenant_id=tenant_id)]

    # The files as they are now: the changed roles file, the type the director set; the exported session keeps its own.
    assert held(revision_id) == held(session_id) and [n for n, _, _ in held(revision_id)] == names
    assert ("UWEC_Userroles.csv", roles, None) in held(revision_id)
    assert ("UWEC_Workflows.csv", (UWEC / "UWEC_Workflows.csv").read_bytes(), "workflows") in held(revision_id)
    revision = services.sessions.get(revision_id, tenant_id=tenant_id)
    assert revision.revision is not None and revision.revision["carried"] == names
    panel = me.get(f"/api/sessions/{revision_id}/panels/upload").text
    banner = panel[panel.index('data-field="revision-upload"') :].split("</div>", 1)[0]
    assert f"It started with the {len(names)} files of the exported session" in banner and ", ".join(names) in banner
    assert "under the same name to replace it" in banner and "add the files" in banner
    [event] = [
        e for e in me.get(f"/api/sessions/{revision_id}/audit").json()["events"] if e["action"] == "revision_opened"
    ]
    assert event["detail"] == {"revises": session_id, "files": names}
    # A file replaced in the revision leaves the exported session's copy alone.
    assert me.post(f"/api/sessions/{revision_id}/files", files=[("files", ("UWEC_Userroles.csv", b"x"))]).is_success
    assert ("UWEC_Userroles.csv", roles, None) in held(session_id)
    # Its plan still compares with the tickets the export sent, not with the files it carried.
    previous = previous_tickets(services, revision)
    assert [t.key for t in previous] == [t.key for t in exported] and all(t.jira_key for t in previous)
