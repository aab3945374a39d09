"""Editing issues, parents, comments, history, link removal and refused deletion; projects of other kinds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.jira.auth import ConnectJWTAuth
from app.sandbox.models import DEVELOPER_USER, user_actor
from tests.sandbox.conftest import APP_KEY, APP_URL, DESCRIPTOR, SANDBOX_URL
from tests.sandbox.test_rest_issues import adf, create, fields

pytestmark = [pytest.mark.unit, pytest.mark.export]


async def issue(jira: httpx.AsyncClient, key: str) -> dict[str, Any]:
    response = await jira.get(f"/rest/api/3/issue/{key}")
    assert response.status_code == 200, response.text
    return response.json()["fields"]


async def history(jira: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    return (await jira.get(f"/rest/api/3/issue/{key}/changelog")).json()["values"]


@pytest.mark.anyio
async def test_an_edit_changes_the_fields_and_records_who_changed_what(jira: httpx.AsyncClient) -> None:
    created = await create(jira, labels=["content-model", "on-hold"])
    edit = {
        "fields": {"summary": "Content model: Update Article content type", "description": adf("Changed.")},
        "update": {"labels": [{"add": "revised"}, {"remove": "on-hold"}]},
        "properties": [{"key": "dtg-ticket", "value": {"hash": "abc"}}],
    }
    response = await jira.put(f"/rest/api/3/issue/{created['key']}", json=edit)
    assert response.status_code == 204 and response.content == b""
    after = await issue(jira, created["key"])
    assert after["summary"] == "Content model: Update Article content type"
    assert after["description"] == adf("Changed.")
    assert after["labels"] == ["content-model", "revised"]
    assert after["updated"] >= after["created"]
    stored = await jira.get(f"/rest/api/3/issue/{created['key']}/properties/dtg-ticket")
    assert stored.json()["value"] == {"hash": "abc"}

    [change] = await history(jira, created["key"])
    assert change["author"]["accountType"] == "app"
    by_field = {item["fieldId"]: item for item in change["items"]}
    assert set(by_field) == {"summary", "description", "labels"}
    assert by_field["summary"]["fromString"] == "Content model: Build Article content type"
    assert by_field["labels"]["toString"] == "content-model revised"

    # Sending the same values again changes nothing, so the history stays as it was.
    again = {"fields": edit["fields"], "update": {"labels": [{"set": ["content-model", "revised"]}]}}
    assert (await jira.put(f"/rest/api/3/issue/{created['key']}", json=again)).status_code == 204
    assert len(await history(jira, created["key"])) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        ({"fields": {"summary": ""}}, "summary", "You must specify a summary"),
        ({"fields": {"issuetype": {"name": "Story"}}}, "issuetype", "cannot be set"),
        (
            {"fields": {"description": {"type": "doc", "version": 1, "content": [{"type": "bogus"}]}}},
            "description",
            "Atlassian Document",
        ),
        ({"update": {"labels": [{"add": "a"}, {"shout": "b"}]}}, "labels", "not supported"),
        ({"fields": {"summary": "x"}, "update": {"summary": [{"set": "y"}]}}, "summary", "both"),
    ],
)
async def test_a_refused_edit_changes_nothing(
    jira: httpx.AsyncClient, edit: dict[str, Any], field: str, message: str
) -> None:
    created = await create(jira)
    before = await issue(jira, created["key"])
    response = await jira.put(f"/rest/api/3/issue/{created['key']}", json=edit)
    assert response.status_code == 400
    assert message in response.json()["errors"][field]
    assert await issue(jira, created["key"]) == before
    assert await history(jira, created["key"]) == []
    assert (await jira.put("/rest/api/3/issue/DTG-999", json={"fields": {"summary": "x"}})).status_code == 404


@pytest.mark.anyio
async def test_a_standard_issue_takes_an_epic_as_parent_and_nothing_else(jira: httpx.AsyncClient) -> None:
    epic = await create(jira, summary="Content model", issuetype={"name": "Epic"})
    child = await create(jira, parent={"key": epic["key"]})
    assert (await issue(jira, child["key"]))["parent"]["key"] == epic["key"]
    assert "parent" not in await issue(jira, epic["key"])

    task_as_parent = await jira.post("/rest/api/3/issue", json={"fields": fields(parent={"key": child["key"]})})
    assert task_as_parent.status_code == 400
    assert "appropriate hierarchy" in task_as_parent.json()["errors"]["parent"]
    missing = await jira.post("/rest/api/3/issue", json={"fields": fields(parent={"key": "DTG-404"})})
    assert missing.json()["errors"]["parent"] == "Could not find valid parent issue"

    found = await jira.post("/rest/api/3/search/jql", json={"jql": f"parent = {epic['key']}", "fields": ["summary"]})
    assert [i["key"] for i in found.json()["issues"]] == [child["key"]]

    removed = {"update": {"parent": [{"set": {"none": True}}]}}
    assert (await jira.put(f"/rest/api/3/issue/{child['key']}", json=removed)).status_code == 204
    assert "parent" not in await issue(jira, child["key"])
    [change] = await history(jira, child["key"])
    assert change["items"][0]["fromString"] == epic["id"] and "toString" not in change["items"][0]


@pytest.mark.anyio
async def test_comments_are_added_listed_and_checked(jira: httpx.AsyncClient) -> None:
    created = await create(jira)
    url = f"/rest/api/3/issue/{created['key']}/comment"
    first = await jira.post(url, json={"body": adf("Removed from the spec.")})
    assert first.status_code == 201
    assert first.json()["author"]["accountType"] == "app" and first.json()["body"] == adf("Removed from the spec.")
    await jira.post(url, json={"body": adf("Second.")})
    listed = (await jira.get(url)).json()
    assert [c["body"] for c in listed["comments"]] == [adf("Removed from the spec."), adf("Second.")]
    assert listed["total"] == 2
    newest = (await jira.get(url, params={"orderBy": "-created", "maxResults": 1})).json()
    assert [c["id"] for c in newest["comments"]] == [listed["comments"][1]["id"]]
    one = await jira.get(f"{url}/{first.json()['id']}")
    assert one.json()["id"] == first.json()["id"]
    refused = await jira.post(url, json={"body": "plain text"})
    assert refused.status_code == 400 and "Atlassian Document" in refused.json()["errors"]["comment"]
    assert (await jira.get(url)).json()["total"] == 2
    assert (await issue(jira, created["key"]))["comment"]["total"] == 2


async def linked_pair(jira: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any], str]:
    blocker, blocked = await create(jira), await create(jira)
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": blocker["key"]}, "outwardIssue": {"key": blocked["key"]}}
    await jira.post("/rest/api/3/issueLink", json=link)
    [link_id] = [entry["id"] for entry in (await issue(jira, blocker["key"]))["issuelinks"]]
    return blocker, blocked, link_id


@pytest.mark.anyio
async def test_an_app_without_the_delete_scope_cannot_remove_a_link(jira: httpx.AsyncClient) -> None:
    blocker, _, link_id = await linked_pair(jira)
    refused = await jira.delete(f"/rest/api/3/issueLink/{link_id}")
    assert refused.status_code == 403 and "DELETE scope" in refused.json()["errorMessages"][0]
    assert len((await issue(jira, blocker["key"]))["issuelinks"]) == 1


@pytest.mark.anyio
async def test_links_can_be_removed_but_issues_are_never_deleted(
    deleting_jira: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    blocker, blocked, link_id = await linked_pair(deleting_jira)
    assert (await deleting_jira.delete(f"/rest/api/3/issueLink/{link_id}")).status_code == 204
    assert (await issue(deleting_jira, blocker["key"]))["issuelinks"] == []
    assert (await deleting_jira.delete(f"/rest/api/3/issueLink/{link_id}")).status_code == 404

    refused = await deleting_jira.delete(f"/rest/api/3/issue/{blocked['key']}")
    assert refused.status_code == 403
    assert (await deleting_jira.get(f"/rest/api/3/issue/{blocked['key']}")).status_code == 200
    stats = (await sandbox.get("/_sandbox/stats")).json()
    assert (stats["deletesRefused"], stats["linksDeleted"]) == (1, 1)
    # A new link after a removal gets a new id, never the removed one's.
    _, _, new_id = await linked_pair(deleting_jira)
    assert new_id != link_id


@pytest.mark.anyio
async def test_a_person_can_edit_an_issue_and_history_names_them(
    jira: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    created = await create(jira)
    edit = {"as": "developer", "fields": {"description": adf("Edited in Jira by hand.")}}
    assert (await sandbox.post(f"/_sandbox/issues/{created['key']}/edit", json=edit)).status_code == 204
    [change] = await history(jira, created["key"])
    assert change["author"]["displayName"] == "Devon Developer"
    assert (await issue(jira, created["key"]))["description"] == adf("Edited in Jira by hand.")
    bad = await sandbox.post(f"/_sandbox/issues/{created['key']}/edit", json={"fields": {"summary": ""}})
    assert bad.status_code == 400
    assert (await sandbox.post("/_sandbox/issues/DTG-404/edit", json={"fields": {}})).status_code == 404


@pytest.mark.anyio
async def test_create_metadata_names_required_custom_fields_and_creates_enforce_them(jira: httpx.AsyncClient) -> None:
    types = (await jira.get("/rest/api/3/issue/createmeta/REQ/issuetypes")).json()["issueTypes"]
    by_name = {t["name"]: t for t in types}
    assert {"Task", "Story", "Epic"} <= set(by_name) and by_name["Epic"]["hierarchyLevel"] == 1
    task_fields = (await jira.get(f"/rest/api/3/issue/createmeta/REQ/issuetypes/{by_name['Task']['id']}")).json()
    required = {f["fieldId"]: f for f in task_fields["fields"] if f["required"]}
    assert set(required) == {"issuetype", "project", "summary", "customfield_10050"}
    assert [v["value"] for v in required["customfield_10050"]["allowedValues"]] == ["Web", "Brand"]
    assert required["customfield_10050"]["hasDefaultValue"] is False
    epic_fields = (await jira.get(f"/rest/api/3/issue/createmeta/REQ/issuetypes/{by_name['Epic']['id']}")).json()
    assert {f["fieldId"] for f in epic_fields["fields"] if f["required"]} >= {"customfield_10050", "customfield_10051"}
    assert "parent" not in {f["fieldId"] for f in epic_fields["fields"]}
    paged = await jira.get(f"/rest/api/3/issue/createmeta/REQ/issuetypes/{by_name['Task']['id']}?maxResults=2")
    assert len(paged.json()["fields"]) == 2 and paged.json()["total"] == len(task_fields["fields"])
    assert (await jira.get("/rest/api/3/issue/createmeta/REQ/issuetypes?maxResults=201")).status_code == 400

    plain = fields(project={"key": "REQ"})
    missing = await jira.post("/rest/api/3/issue", json={"fields": plain})
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"customfield_10050": "Cost centre is required."}
    wrong = await jira.post("/rest/api/3/issue", json={"fields": plain | {"customfield_10050": {"value": "Sales"}}})
    assert "valid 'id' or 'name'" in wrong.json()["errors"]["customfield_10050"]
    made = await jira.post("/rest/api/3/issue", json={"fields": plain | {"customfield_10050": {"value": "Web"}}})
    assert made.status_code == 201
    assert (await issue(jira, made.json()["key"]))["customfield_10050"] == {"value": "Web"}
    cleared = await jira.put(f"/rest/api/3/issue/{made.json()['key']}", json={"fields": {"customfield_10050": None}})
    assert cleared.json()["errors"] == {"customfield_10050": "Cost centre is required."}
    elsewhere = await jira.post(
        "/rest/api/3/issue", json={"fields": fields() | {"customfield_10050": {"value": "Web"}}}
    )
    assert "cannot be set" in elsewhere.json()["errors"]["customfield_10050"]


@pytest.mark.anyio
async def test_a_team_managed_project_has_issue_types_of_its_own(jira: httpx.AsyncClient) -> None:
    project = (await jira.get("/rest/api/3/project/TEAM")).json()
    assert (project["style"], project["simplified"]) == ("next-gen", True)
    types = {
        t["name"]: t for t in (await jira.get("/rest/api/3/issue/createmeta/TEAM/issuetypes")).json()["issueTypes"]
    }
    assert types["Task"]["scope"] == {"type": "PROJECT", "project": {"id": project["id"]}}
    company_task = {t["name"]: t for t in (await jira.get("/rest/api/3/project/DTG")).json()["issueTypes"]}["Task"]
    assert types["Task"]["id"] != company_task["id"]

    wrong_type = await jira.post(
        "/rest/api/3/issue", json={"fields": fields(project={"key": "TEAM"}, issuetype={"id": company_task["id"]})}
    )
    assert wrong_type.json()["errors"]["issuetype"] == "Specify a valid issue type"
    epic = await create(jira, project={"key": "TEAM"}, issuetype={"id": types["Epic"]["id"]}, summary="Views")
    child = await create(
        jira, project={"key": "TEAM"}, issuetype={"id": types["Task"]["id"]}, parent={"id": epic["id"]}
    )
    assert child["key"] == "TEAM-2"
    assert (await issue(jira, child["key"]))["parent"]["fields"]["issuetype"]["name"] == "Epic"
    other_project = await jira.post("/rest/api/3/issue", json={"fields": fields(parent={"key": epic["key"]})})
    assert other_project.json()["errors"]["parent"] == "Could not find valid parent issue"


@pytest.fixture
async def deleting_jira(
    sandbox_app: Starlette, sandbox: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The app installed with the DELETE scope (as our descriptor declares, to remove links)."""
    monkeypatch.setitem(DESCRIPTOR, "scopes", ["READ", "WRITE", "DELETE"])
    installed = (
        await sandbox.post("/_sandbox/install", json={"descriptorUrl": APP_URL + "/atlassian-connect.json"})
    ).json()
    auth = ConnectJWTAuth(app_key=APP_KEY, shared_secret=installed["sharedSecret"], tenant_base_url=SANDBOX_URL)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_URL, auth=auth
    ) as client:
        yield client


@pytest.mark.anyio
async def test_the_issue_page_shows_parent_comments_and_history(
    jira: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    epic = await create(jira, summary="Media and images", issuetype={"name": "Epic"})
    child = await create(jira, parent={"key": epic["key"]})
    await jira.post(f"/rest/api/3/issue/{child['key']}/comment", json={"body": adf("<b>Flagged</b> by revision")})
    await jira.put(f"/rest/api/3/issue/{child['key']}", json={"fields": {"summary": "Renamed"}})
    page = (await sandbox.get(f"/browse/{child['key']}")).text
    assert f'Parent: <a href="/browse/{epic["key"]}">{epic["key"]}</a> Media and images' in page
    assert "&lt;b&gt;Flagged&lt;/b&gt; by revision" in page
    assert "changed summary" in page


@pytest.mark.anyio
async def test_an_attachment_is_deleted_once_and_the_history_says_so(
    deleting_jira: httpx.AsyncClient, sandbox_app: Starlette
) -> None:
    created = await create(deleting_jira)
    url = f"/rest/api/3/issue/{created['key']}/attachments"
    files = {"file": ("fields.csv", b"machine_name\nfield_body\n", "text/csv")}
    [old] = (await deleting_jira.post(url, files=files, headers={"X-Atlassian-Token": "no-check"})).json()
    [new] = (await deleting_jira.post(url, files=files, headers={"X-Atlassian-Token": "no-check"})).json()
    assert new["id"] != old["id"]
    assert (await deleting_jira.delete(f"/rest/api/3/attachment/{old['id']}")).status_code == 204
    assert [a["id"] for a in (await issue(deleting_jira, created["key"]))["attachment"]] == [new["id"]]
    assert (await deleting_jira.get(f"/rest/api/3/attachment/content/{old['id']}")).status_code == 404
    assert (await deleting_jira.delete(f"/rest/api/3/attachment/{old['id']}")).status_code == 404
    # Two DELETEs of one id at once (an export's retry after a lost answer) both found it before either took the
    # lock: one deletes it, the other finds it gone (its route answers 404, as Jira does), never a KeyError's 500.
    store = sandbox_app.state.sandbox.store
    attachment, author = store.attachments[new["id"]], user_actor(DEVELOPER_USER)
    deleted = await asyncio.gather(
        store.delete_attachment(attachment, author), store.delete_attachment(attachment, author)
    )
    assert sorted(deleted) == [False, True]
    assert (await deleting_jira.delete(f"/rest/api/3/attachment/{new['id']}")).status_code == 404
    history = (await deleting_jira.get(f"/rest/api/3/issue/{created['key']}/changelog")).json()["values"]
    removed = [(i["fieldId"], i["fromString"], i.get("toString")) for g in history for i in g["items"]]
    assert removed == [("attachment", "fields.csv", None), ("attachment", "fields.csv", None)]
