"""The sandbox's answers match the response schemas of Atlassian's OpenAPI document."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator

pytestmark = [pytest.mark.unit, pytest.mark.export]

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "jira-platform-openapi.json"


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text())


def response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    content = openapi()["paths"][path][method]["responses"][status]["content"]["application/json"]
    # Resolve `$ref`s against the whole document by validating under a root that holds its components.
    return {"components": openapi()["components"], **content["schema"]}


def request_schema(path: str, method: str) -> dict[str, Any]:
    content = openapi()["paths"][path][method]["requestBody"]["content"]["application/json"]
    return {"components": openapi()["components"], **content["schema"]}


def assert_matches(answer: Any, path: str, method: str = "get", status: str = "200") -> None:
    errors = sorted(Draft4Validator(response_schema(path, method, status)).iter_errors(answer), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def assert_request_matches(body: Any, path: str, method: str) -> None:
    """A request body we send is one the OpenAPI document describes."""
    errors = sorted(Draft4Validator(request_schema(path, method)).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.anyio
async def test_answers_validate_against_the_openapi_document(jira: httpx.AsyncClient) -> None:
    issue_fields = {
        "project": {"key": "DTG"},
        "issuetype": {"name": "Task"},
        "summary": "Build it",
        "labels": ["content-model"],
    }
    single = await jira.post("/rest/api/3/issue", json={"fields": issue_fields})
    assert_matches(single.json(), "/rest/api/3/issue", "post", "201")
    bulk = await jira.post(
        "/rest/api/3/issue/bulk",
        json={"issueUpdates": [{"fields": issue_fields}, {"fields": issue_fields | {"summary": ""}}]},
    )
    assert_matches(bulk.json(), "/rest/api/3/issue/bulk", "post", "201")
    await jira.post(
        "/rest/api/3/issueLink",
        json={"type": {"name": "Blocks"}, "inwardIssue": {"key": "DTG-1"}, "outwardIssue": {"key": "DTG-2"}},
    )
    attachments = await jira.post(
        "/rest/api/3/issue/DTG-1/attachments",
        files={"file": ("a.txt", b"a")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert_matches(attachments.json(), "/rest/api/3/issue/{issueIdOrKey}/attachments", "post")

    for url, path in [
        ("/rest/api/3/myself", "/rest/api/3/myself"),
        ("/rest/api/3/project/DTG", "/rest/api/3/project/{projectIdOrKey}"),
        ("/rest/api/3/issue/createmeta/DTG/issuetypes", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"),
        ("/rest/api/3/user/assignable/search?project=DTG", "/rest/api/3/user/assignable/search"),
        ("/rest/api/3/issueLinkType", "/rest/api/3/issueLinkType"),
        ("/rest/api/3/issue/DTG-1", "/rest/api/3/issue/{issueIdOrKey}"),
    ]:
        answer = await jira.get(url)
        assert answer.status_code == 200, url
        assert_matches(answer.json(), path)

    found = await jira.post(
        "/rest/api/3/search/jql", json={"jql": "project = DTG", "fields": ["*all"], "maxResults": 1}
    )
    assert_matches(found.json(), "/rest/api/3/search/jql", "post")


@pytest.mark.anyio
async def test_edit_comment_history_and_create_metadata_validate(jira: httpx.AsyncClient) -> None:
    epic_fields = {"project": {"key": "DTG"}, "issuetype": {"name": "Epic"}, "summary": "Views"}
    epic = (await jira.post("/rest/api/3/issue", json={"fields": epic_fields})).json()
    child_fields = epic_fields | {"issuetype": {"name": "Task"}, "summary": "Build it", "parent": {"key": epic["key"]}}
    create = {"fields": child_fields, "properties": [{"key": "dtg-ticket", "value": {"ticketKey": "t"}}]}
    assert_request_matches(create, "/rest/api/3/issue", "post")
    child = (await jira.post("/rest/api/3/issue", json=create)).json()

    edit = {
        "fields": {"summary": "Build it again"},
        "update": {"labels": [{"add": "revised"}]},
        "properties": [{"key": "dtg-ticket", "value": {"ticketKey": "t", "hash": "h"}}],
    }
    assert_request_matches(edit, "/rest/api/3/issue/{issueIdOrKey}", "put")
    assert (await jira.put(f"/rest/api/3/issue/{child['key']}", json=edit)).status_code == 204
    returned = await jira.put(f"/rest/api/3/issue/{child['key']}?returnIssue=true", json={"fields": {"summary": "x"}})
    assert_matches(returned.json(), "/rest/api/3/issue/{issueIdOrKey}")

    comment = {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Gone."}]}],
        }
    }
    assert_request_matches(comment, "/rest/api/3/issue/{issueIdOrKey}/comment", "post")
    added = await jira.post(f"/rest/api/3/issue/{child['key']}/comment", json=comment)
    assert_matches(added.json(), "/rest/api/3/issue/{issueIdOrKey}/comment", "post", "201")
    comment_path = "/rest/api/3/issue/{issueIdOrKey}/comment/{id}"
    assert_matches(
        (await jira.get(f"/rest/api/3/issue/{child['key']}/comment/{added.json()['id']}")).json(), comment_path
    )

    for url, path in [
        (f"/rest/api/3/issue/{child['key']}/comment", "/rest/api/3/issue/{issueIdOrKey}/comment"),
        (f"/rest/api/3/issue/{child['key']}/changelog", "/rest/api/3/issue/{issueIdOrKey}/changelog"),
        (f"/rest/api/3/issue/{child['key']}", "/rest/api/3/issue/{issueIdOrKey}"),
        ("/rest/api/3/project/TEAM", "/rest/api/3/project/{projectIdOrKey}"),
        ("/rest/api/3/issue/createmeta/TEAM/issuetypes", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"),
        (
            "/rest/api/3/issue/createmeta/REQ/issuetypes/10001",
            "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
        ),
    ]:
        answer = await jira.get(url)
        assert answer.status_code == 200, url
        assert_matches(answer.json(), path)
