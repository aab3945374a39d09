"""Creating, reading and linking issues, attachments and properties through the REST subset."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.adf import MAX_DESCRIPTION, description_size

pytestmark = [pytest.mark.unit, pytest.mark.export]


def adf(*paragraphs: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]} for text in paragraphs],
    }


def fields(summary: str = "Content model: Build Article content type", **more: Any) -> dict[str, Any]:
    return {
        "project": {"key": "DTG"},
        "issuetype": {"name": "Task"},
        "summary": summary,
        "description": adf("As an editor I can publish articles."),
        "labels": ["content-model"],
    } | more


async def create(jira: httpx.AsyncClient, **more: Any) -> dict[str, Any]:
    response = await jira.post("/rest/api/3/issue", json={"fields": fields(**more)})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.anyio
async def test_create_then_get_an_issue(jira: httpx.AsyncClient) -> None:
    created = await create(jira)
    assert created["key"] == "DTG-1" and created["self"].endswith(f"/rest/api/3/issue/{created['id']}")
    issue = (await jira.get(f"/rest/api/3/issue/{created['key']}")).json()
    assert issue["fields"]["summary"] == "Content model: Build Article content type"
    assert issue["fields"]["issuetype"]["name"] == "Task"
    assert issue["fields"]["project"]["key"] == "DTG"
    assert issue["fields"]["labels"] == ["content-model"]
    assert issue["fields"]["status"]["name"] == "To Do"
    only = (await jira.get(f"/rest/api/3/issue/{created['id']}?fields=summary")).json()
    assert list(only["fields"]) == ["summary"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"summary": ""}, "summary", "You must specify a summary of the issue."),
        ({"summary": "x" * 256}, "summary", "Summary must be less than 255 characters."),
        (
            {
                "description": {
                    "type": "doc",
                    "version": 1,
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
                }
            },
            "description",
            "Atlassian Document",
        ),
        (
            {"description": {"type": "doc", "version": 1, "content": [{"type": "bogus"}]}},
            "description",
            "Atlassian Document",
        ),
        ({"description": adf("x" * 33_000)}, "description", "32,767"),
        ({"labels": ["two words"]}, "labels", "contains spaces"),
        ({"issuetype": {"name": "Saga"}}, "issuetype", "valid issue type"),
        ({"project": {"key": "NOPE"}}, "project", "valid project"),
        ({"priority": {"name": "High"}}, "priority", "cannot be set"),
    ],
)
async def test_invalid_fields_are_answered_as_jira_field_errors(
    jira: httpx.AsyncClient, override: dict[str, Any], field: str, message: str
) -> None:
    response = await jira.post("/rest/api/3/issue", json={"fields": fields() | override})
    assert response.status_code == 400
    body = response.json()
    assert message in body["errors"][field]
    assert body["errorMessages"] == []


@pytest.mark.anyio
async def test_the_description_limit_counts_the_json_as_sent_compact_and_unescaped(jira: httpx.AsyncClient) -> None:
    """Same rule as the product's (app/adf/size.py): 'é' counts once, not as the six characters of \\u00e9."""
    frame = description_size(adf(""))
    at_limit = adf("é" * (MAX_DESCRIPTION - frame))
    assert description_size(at_limit) == MAX_DESCRIPTION and len(json.dumps(at_limit)) > MAX_DESCRIPTION
    accepted = await jira.post("/rest/api/3/issue", json={"fields": fields(description=at_limit)})
    assert accepted.status_code == 201, accepted.text
    over = await jira.post(
        "/rest/api/3/issue", json={"fields": fields(description=adf("é" * (MAX_DESCRIPTION - frame + 1)))}
    )
    assert over.status_code == 400 and "32,767" in over.json()["errors"]["description"]


@pytest.mark.anyio
async def test_bulk_create_reports_partial_success_with_element_numbers(jira: httpx.AsyncClient) -> None:
    updates = [
        {"fields": fields("First")},
        {"fields": fields("")},
        {"fields": fields("Third", labels=["a b"])},
        {"fields": fields("Fourth")},
    ]
    response = await jira.post("/rest/api/3/issue/bulk", json={"issueUpdates": updates})
    assert response.status_code == 201
    body = response.json()
    assert [issue["key"] for issue in body["issues"]] == ["DTG-1", "DTG-2"]
    assert [(e["status"], e["failedElementNumber"]) for e in body["errors"]] == [(400, 1), (400, 2)]
    assert body["errors"][0]["elementErrors"] == {
        "errorMessages": [],
        "errors": {"summary": "You must specify a summary of the issue."},
    }


@pytest.mark.anyio
async def test_bulk_create_is_400_when_all_fail_and_refuses_more_than_50(jira: httpx.AsyncClient) -> None:
    all_bad = await jira.post("/rest/api/3/issue/bulk", json={"issueUpdates": [{"fields": fields("")}] * 2})
    assert all_bad.status_code == 400
    assert all_bad.json()["issues"] == [] and len(all_bad.json()["errors"]) == 2
    too_many = await jira.post("/rest/api/3/issue/bulk", json={"issueUpdates": [{"fields": fields()}] * 51})
    assert too_many.status_code == 400
    assert "limit of 50" in too_many.json()["errorMessages"][0]
    fifty = await jira.post("/rest/api/3/issue/bulk", json={"issueUpdates": [{"fields": fields()}] * 50})
    assert fifty.status_code == 201 and len(fifty.json()["issues"]) == 50


@pytest.mark.anyio
async def test_properties_set_in_the_create_call_are_readable_and_replaceable(jira: httpx.AsyncClient) -> None:
    payload = {"fields": fields(), "properties": [{"key": "dtg-ticket", "value": {"ticketId": "t-1"}}]}
    created = (await jira.post("/rest/api/3/issue", json=payload)).json()
    url = f"/rest/api/3/issue/{created['key']}/properties/dtg-ticket"
    assert (await jira.get(url)).json() == {"key": "dtg-ticket", "value": {"ticketId": "t-1"}}
    assert (await jira.put(url, json={"ticketId": "t-2"})).status_code == 200
    assert (await jira.put(url.replace("dtg-ticket", "other"), json=True)).status_code == 201
    assert (await jira.get(url)).json()["value"] == {"ticketId": "t-2"}
    missing = await jira.get(url.replace("dtg-ticket", "absent"))
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_links_show_on_both_issues_in_opposite_directions(jira: httpx.AsyncClient) -> None:
    blocker, blocked = await create(jira, summary="Build vocabulary"), await create(jira, summary="Build field")
    types = (await jira.get("/rest/api/3/issueLinkType")).json()["issueLinkTypes"]
    assert {t["name"] for t in types} >= {"Blocks", "Relates", "Duplicate", "Cloners"}
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": blocker["key"]}, "outwardIssue": {"key": blocked["key"]}}
    response = await jira.post("/rest/api/3/issueLink", json=link)
    assert response.status_code == 201 and response.content == b""
    assert (await jira.post("/rest/api/3/issueLink", json=link)).status_code == 201  # duplicates are no-ops

    on_blocker = (await jira.get(f"/rest/api/3/issue/{blocker['key']}")).json()["fields"]["issuelinks"]
    on_blocked = (await jira.get(f"/rest/api/3/issue/{blocked['key']}")).json()["fields"]["issuelinks"]
    assert [(link["type"]["outward"], link["outwardIssue"]["key"]) for link in on_blocker] == [
        ("blocks", blocked["key"])
    ]
    assert [(link["type"]["inward"], link["inwardIssue"]["key"]) for link in on_blocked] == [
        ("is blocked by", blocker["key"])
    ]
    unknown = await jira.post("/rest/api/3/issueLink", json=link | {"type": {"name": "Precedes"}})
    assert unknown.status_code == 404


@pytest.mark.anyio
async def test_attachments_need_the_xsrf_header_and_come_back_byte_for_byte(jira: httpx.AsyncClient) -> None:
    issue = await create(jira)
    url = f"/rest/api/3/issue/{issue['key']}/attachments"
    files = {"file": ("fields.csv", b"machine_name,type\nfield_body,text\n", "text/csv")}
    refused = await jira.post(url, files=files)
    assert refused.status_code == 403 and refused.json()["errorMessages"] == ["XSRF check failed"]
    response = await jira.post(url, files=files, headers={"X-Atlassian-Token": "no-check"})
    assert response.status_code == 200
    [attachment] = response.json()
    assert (attachment["filename"], attachment["size"], attachment["mimeType"]) == ("fields.csv", 34, "text/csv")
    content = await jira.get(f"/rest/api/3/attachment/content/{attachment['id']}?redirect=false")
    assert content.content == b"machine_name,type\nfield_body,text\n"
    redirected = await jira.get(f"/rest/api/3/attachment/content/{attachment['id']}")  # Jira's default
    assert redirected.status_code == 303
    assert (await jira.get(redirected.headers["location"])).content == content.content
    listed = (await jira.get(f"/rest/api/3/issue/{issue['key']}?fields=attachment")).json()
    assert [a["id"] for a in listed["fields"]["attachment"]] == [attachment["id"]]


@pytest.mark.anyio
async def test_project_metadata_and_users(jira: httpx.AsyncClient) -> None:
    project = (await jira.get("/rest/api/3/project/DTG")).json()
    assert (project["key"], project["id"], project["name"]) == ("DTG", "10000", "Drupal Site Build")
    assert {"Task", "Epic"} <= {t["name"] for t in project["issueTypes"]}
    meta = (await jira.get("/rest/api/3/issue/createmeta/DTG/issuetypes")).json()
    assert meta["total"] == len(meta["issueTypes"]) >= 2
    users = (await jira.get("/rest/api/3/user/assignable/search?project=DTG")).json()
    assert "Dana Director" in {u["displayName"] for u in users}
    assert (await jira.get("/rest/api/3/project/NOPE")).status_code == 404


@pytest.mark.anyio
async def test_issue_pages_list_issues_and_render_adf_tables_escaped(
    jira: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    table = {
        "type": "table",
        "content": [
            {
                "type": "tableRow",
                "content": [
                    {
                        "type": "tableHeader",
                        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Machine name"}]}],
                    }
                ],
            },
            {
                "type": "tableRow",
                "content": [
                    {
                        "type": "tableCell",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "<script>field_body</script>"}]}
                        ],
                    }
                ],
            },
        ],
    }
    created = await create(jira, description={"type": "doc", "version": 1, "content": [table]})
    listing = await sandbox.get("/projects/DTG/issues")
    assert f'href="/browse/{created["key"]}"' in listing.text
    page = await sandbox.get(f"/browse/{created['key']}")
    assert "<table><tr><th><p>Machine name</p></th></tr>" in page.text
    assert "&lt;script&gt;field_body&lt;/script&gt;" in page.text and "<script>field_body" not in page.text
    assert "/jira/glance?issueKey=DTG-1&amp;projectKey=DTG" in page.text


@pytest.mark.anyio
async def test_a_create_carries_links_only_where_the_create_screen_has_linked_issues(jira: httpx.AsyncClient) -> None:
    blocker = await create(jira, summary="Build vocabulary")
    carried = {"issuelinks": [{"add": {"type": {"name": "Blocks"}, "inwardIssue": {"key": blocker["key"]}}}]}
    meta = (await jira.get("/rest/api/3/issue/createmeta/DTG/issuetypes/10001")).json()
    assert "issuelinks" in {f["fieldId"] for f in meta["fields"]}
    response = await jira.post(
        "/rest/api/3/issue/bulk", json={"issueUpdates": [{"fields": fields(), "update": carried}]}
    )
    assert response.status_code == 201, response.text
    [blocked] = response.json()["issues"]
    on_blocked = (await jira.get(f"/rest/api/3/issue/{blocked['key']}")).json()["fields"]["issuelinks"]
    assert [(link["type"]["inward"], link["inwardIssue"]["key"]) for link in on_blocked] == [
        ("is blocked by", blocker["key"])
    ]

    # The team-managed project's create screen lacks the field: create-meta omits it and Jira refuses the create.
    team = fields(project={"key": "TEAM"})
    meta = (await jira.get("/rest/api/3/issue/createmeta/TEAM/issuetypes/10101")).json()
    assert "issuelinks" not in {f["fieldId"] for f in meta["fields"]}
    refused = await jira.post("/rest/api/3/issue", json={"fields": team, "update": carried})
    assert refused.status_code == 400 and "issuelinks" in refused.json()["errors"]
    missing = {"issuelinks": [{"add": {"type": {"name": "Blocks"}, "inwardIssue": {"key": "DTG-999"}}}]}
    unknown = await jira.post("/rest/api/3/issue", json={"fields": fields(), "update": missing})
    assert unknown.status_code == 400 and "issuelinks" in unknown.json()["errors"]
