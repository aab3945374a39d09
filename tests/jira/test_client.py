"""`JiraClient` against the in-process sandbox: signing accepted, answers parsed, each failure translated."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.domain.installation import Installation
from app.jira.client import JiraClient
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraRateLimitedError,
    JiraUnavailableError,
)
from tests.export.helpers import World, adf

pytestmark = [pytest.mark.unit, pytest.mark.export]


def client_of(world: World) -> JiraClient:
    installation = world.services.tenants.get(world.tenant_id)
    assert installation is not None
    return JiraClient(world.http, installation, world.settings.app_key)


def update(summary: str, ticket: str, **fields: object) -> dict[str, object]:
    base = {"project": {"key": "DTG"}, "issuetype": {"name": "Task"}, "summary": summary, "description": adf("x")}
    value = {"ticketKey": ticket, "sessionId": "1", "exportId": "1"}
    return {"fields": base | fields, "properties": [{"key": "dtg-ticket", "value": value}]}


@pytest.mark.anyio
async def test_signed_calls_are_accepted_and_parsed(world: World) -> None:
    client = client_of(world)
    assert (await client.myself()).account_type == "app"
    assert (await client.project("DTG")).key == "DTG"
    assert {"Blocks", "Relates"} <= {t.name for t in await client.issue_link_types()}
    result = await client.bulk_create([update("One", "a"), update("", "b"), update("Three", "c")])
    assert [i.key for i in result.issues] == ["DTG-1", "DTG-2"]
    assert {i: c.key for i, c in result.created_by_index(3).items()} == {0: "DTG-1", 2: "DTG-2"}
    assert result.errors[0].index == 1 and "summary" in result.errors[0].field_errors
    attached = await client.add_attachment("DTG-1", "t.csv", "text/csv", b"a,b\n")
    await client.create_link("10000", inward_key="DTG-2", outward_key="DTG-1")
    issue = await client.get_issue("DTG-1")
    assert [a.filename for a in issue.attachments] == [attached[0].filename] == ["t.csv"]
    assert [(lk.type_name, lk.inward_issue_key) for lk in issue.links] == [("Blocks", "DTG-2")]
    found = await client.search_by_property("dtg-ticket", {"sessionId": "1", "ticketKey": ["a", "c", "zz"]})
    assert [(f.key, f.properties["dtg-ticket"]["ticketKey"]) for f in found] == [("DTG-1", "a"), ("DTG-2", "c")]
    assert client.requests == 8


@pytest.mark.anyio
async def test_search_pages_through_next_page_tokens(world: World) -> None:
    client = client_of(world)
    for start in range(0, 120, 50):
        await client.bulk_create([update(f"S{i}", f"k{i}") for i in range(start, min(start + 50, 120))])
    found = await client.search_by_property("dtg-ticket", {"sessionId": "1"})
    assert len(found) == 120 and len({f.key for f in found}) == 120


@pytest.mark.anyio
async def test_failures_are_translated_once(world: World) -> None:
    client = client_of(world)
    with pytest.raises(JiraNotFoundError):
        await client.project("NOPE")
    with pytest.raises(JiraBadRequestError) as refused:
        await client.bulk_create([update("x", "y")] * 51)
    assert "limit of 50" in refused.value.messages[0]
    all_refused = await client.bulk_create([update("", "a"), update("x", "b", labels=["a b"])])
    assert all_refused.issues == [] and [e.index for e in all_refused.errors] == [0, 1]
    world.runtime.faults.configure({"error_rate": 1.0})
    with pytest.raises(JiraUnavailableError):
        await client.myself()
    world.runtime.faults.configure({"error_rate": 0.0})

    store = world.runtime.store
    installed = store.installations[world.settings.app_key]
    await store.save_installation(dataclasses.replace(installed, shared_secret="s" * 40))
    with pytest.raises(JiraAuthError, match="Jira admin"):
        await client.myself()


@pytest.mark.anyio
async def test_429_carries_retry_after_and_cut_connections_are_unavailable(tmp_path: Path) -> None:
    world = World(tmp_path, rate_limit_per_second=1, rate_limit_burst=1)
    await world.install()
    try:
        client = client_of(world)
        await client.myself()
        with pytest.raises(JiraRateLimitedError) as limited:
            await client.myself()
        assert limited.value.retry_after == 1.0 and client.rate_limited == 1
    finally:
        await world.aclose()

    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection")

    installation = dataclasses.replace(world.services.tenants.get(world.tenant_id))  # type: ignore[type-var]
    broken = JiraClient(httpx.AsyncClient(transport=httpx.MockTransport(cut)), installation, "k")
    with pytest.raises(JiraUnavailableError, match="connection"):
        await broken.myself()


@pytest.mark.anyio
async def test_attachment_content_comes_from_jira_itself_and_no_further_than_asked(world: World) -> None:
    client = client_of(world)
    await client.bulk_create([update("One", "a")])
    [attached] = await client.add_attachment("DTG-1", "t.csv", "text/csv", b"a,b\n")
    assert await client.attachment_content(attached.id, limit=4) == b"a,b\n"
    assert await client.attachment_content(attached.id, limit=2) == b"a,b"  # one past the limit tells it differs


@pytest.mark.anyio
async def test_attachment_content_follows_no_redirect_and_stops_reading_past_the_limit() -> None:
    seen: list[str] = []
    chunks_read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for n in range(1000):  # 1 MB, in 1 KB chunks
            chunks_read.append(n)
            yield b"x" * 1024

    def jira(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/rest/api/3/attachment/content/1":
            if request.url.params.get("redirect") != "false":
                return httpx.Response(303, headers={"Location": "https://media.elsewhere.test/file/1"})
            return httpx.Response(200, content=body())
        return httpx.Response(303, headers={"Location": "https://media.elsewhere.test/file/2"})

    installation = Installation(1, "jira:a", "https://a.atlassian.net", "https://a.atlassian.net", "s" * 40)
    client = JiraClient(httpx.AsyncClient(transport=httpx.MockTransport(jira)), installation, "k")

    assert await client.attachment_content("1", limit=1500) == b"x" * 1501
    assert seen == ["https://a.atlassian.net/rest/api/3/attachment/content/1?redirect=false"]
    assert len(chunks_read) <= 3  # not the 1000 of the whole body
    with pytest.raises(JiraError, match="303"):
        await client.attachment_content("2", limit=10)
    assert not any("elsewhere" in url for url in seen)
