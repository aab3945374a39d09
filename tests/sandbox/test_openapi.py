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


def assert_matches(answer: Any, path: str, method: str = "get", status: str = "200") -> None:
    errors = sorted(Draft4Validator(response_schema(path, method, status)).iter_errors(answer), key=str)
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
