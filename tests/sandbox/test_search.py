"""JQL search: by project and by indexed issue property, AND, IN, pagination, Jira's errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.sandbox.jql import JqlError, parse

pytestmark = [pytest.mark.unit, pytest.mark.export]


async def create_with_ticket(jira: httpx.AsyncClient, ticket_id: str, session_id: str = "s-1") -> str:
    payload = {
        "fields": {"project": {"key": "DTG"}, "issuetype": {"name": "Task"}, "summary": f"Ticket {ticket_id}"},
        "properties": [{"key": "dtg-ticket", "value": {"ticketId": ticket_id, "sessionId": session_id}}],
    }
    response = await jira.post("/rest/api/3/issue", json=payload)
    assert response.status_code == 201, response.text
    return response.json()["key"]


async def search(jira: httpx.AsyncClient, jql: str, **more: Any) -> httpx.Response:
    return await jira.post("/rest/api/3/search/jql", json={"jql": jql} | more)


@pytest.mark.anyio
async def test_find_issues_by_property_with_equals_and_in(jira: httpx.AsyncClient) -> None:
    keys = [await create_with_ticket(jira, f"t-{n}", "s-1" if n < 3 else "s-2") for n in range(4)]
    one = await search(jira, 'project = DTG AND issue.property[dtg-ticket].ticketId = "t-2"', fields=["summary"])
    assert [(i["key"], i["fields"]["summary"]) for i in one.json()["issues"]] == [(keys[2], "Ticket t-2")]
    several = await search(
        jira,
        'project = "DTG" and issue.property[dtg-ticket].ticketId IN ("t-0", "t-3") '
        "AND issue.property[dtg-ticket].sessionId = s-2",
        properties=["dtg-ticket"],
    )
    [found] = several.json()["issues"]
    assert found["key"] == keys[3]
    assert found["properties"] == {"dtg-ticket": {"ticketId": "t-3", "sessionId": "s-2"}}
    assert several.json()["isLast"] is True


@pytest.mark.anyio
async def test_search_pages_with_next_page_token(jira: httpx.AsyncClient) -> None:
    keys = [await create_with_ticket(jira, f"t-{n}") for n in range(5)]
    first = (await search(jira, "project = DTG ORDER BY key ASC", maxResults=2)).json()
    assert [i["key"] for i in first["issues"]] == keys[:2] and first["isLast"] is False
    rest = (
        await search(jira, "project = DTG ORDER BY key ASC", maxResults=10, nextPageToken=first["nextPageToken"])
    ).json()
    assert [i["key"] for i in rest["issues"]] == keys[2:] and rest["isLast"] is True
    assert "nextPageToken" not in rest


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("status = Done", "Field 'status' does not exist"),
        ('issue.property[unindexed].x = "1"', "Field 'issue.property[unindexed].x' does not exist"),
        ("project = DTG OR project = DTG", "Expecting 'AND'"),
        ("project ~ DTG", "reserved JQL character"),
    ],
)
async def test_unsupported_or_invalid_jql_is_400_with_jiras_message(
    jira: httpx.AsyncClient, jql: str, message: str
) -> None:
    response = await search(jira, jql)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]


def test_parse_reads_clauses_and_order() -> None:
    query = parse("issue.property[dtg-ticket].ticketId NOT IN ('a', \"b\") AND labels != x ORDER BY created DESC")
    assert [(c.field, c.operator, c.values) for c in query.clauses] == [
        ("issue.property[dtg-ticket].ticketId", "NOT IN", ("a", "b")),
        ("labels", "!=", ("x",)),
    ]
    assert query.order_by == (("created", True),)
    with pytest.raises(JqlError):
        parse("project = ")
