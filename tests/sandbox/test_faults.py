"""Injected faults (deterministic with a seed) and the counters benchmarks read."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.sandbox.rest.gate import DroppedConnection

pytestmark = [pytest.mark.unit, pytest.mark.export]

ISSUE = {"fields": {"project": {"key": "DTG"}, "issuetype": {"name": "Task"}, "summary": "Build it"}}


async def set_faults(sandbox: httpx.AsyncClient, **faults: Any) -> None:
    response = await sandbox.post("/_sandbox/faults", json={"seed": 7} | faults)
    assert response.status_code == 200, response.text


@pytest.mark.anyio
async def test_error_rate_answers_5xx_and_is_counted(sandbox: httpx.AsyncClient, jira: httpx.AsyncClient) -> None:
    await set_faults(sandbox, error_rate=1.0)
    response = await jira.get("/rest/api/3/issueLinkType")
    assert response.status_code in (500, 502, 503)
    assert response.json()["errorMessages"] == ["Injected sandbox fault."]
    stats = (await sandbox.get("/_sandbox/stats")).json()
    assert stats["faultsInjected"] == {"error": 1}
    assert stats["requestsByEndpoint"] == {"GET /rest/api/3/issueLinkType": 1}


@pytest.mark.anyio
async def test_faults_are_reproducible_with_a_seed(sandbox: httpx.AsyncClient, jira: httpx.AsyncClient) -> None:
    async def run() -> list[int]:
        await set_faults(sandbox, error_rate=0.5)
        return [(await jira.get("/rest/api/3/issueLinkType")).status_code for _ in range(12)]

    first = await run()
    assert first == await run()
    assert 200 in first and set(first) - {200}


@pytest.mark.anyio
async def test_timeout_rate_hangs_past_the_client_timeout(sandbox: httpx.AsyncClient, jira: httpx.AsyncClient) -> None:
    await set_faults(sandbox, timeout_rate=1.0, timeout_seconds=0.3)
    started = time.monotonic()
    response = await jira.get("/rest/api/3/issueLinkType")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 504


@pytest.mark.anyio
async def test_latency_is_added_to_every_call(sandbox: httpx.AsyncClient, jira: httpx.AsyncClient) -> None:
    await set_faults(sandbox, latency_ms=150)
    started = time.monotonic()
    assert (await jira.get("/rest/api/3/myself")).status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.anyio
async def test_drop_after_create_creates_the_issue_but_cuts_the_connection(
    sandbox: httpx.AsyncClient, jira: httpx.AsyncClient
) -> None:
    await set_faults(sandbox, drop_after_create_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError) as raised:
        await jira.post("/rest/api/3/issue", json=ISSUE)
    assert isinstance(raised.value, DroppedConnection)
    # The nasty part: the issue exists although the client never saw its key.
    assert (await jira.get("/rest/api/3/issue/DTG-1")).status_code == 200
    stats = (await sandbox.get("/_sandbox/stats")).json()
    assert stats["issuesCreated"] == 1 and stats["faultsInjected"] == {"drop_after_create": 1}


@pytest.mark.anyio
async def test_drop_after_create_in_error_mode_answers_502_after_creating(
    sandbox: httpx.AsyncClient, jira: httpx.AsyncClient
) -> None:
    await set_faults(sandbox, drop_after_create_rate=1.0, drop_mode="error")
    response = await jira.post("/rest/api/3/issue/bulk", json={"issueUpdates": [ISSUE, ISSUE]})
    assert response.status_code == 502
    await set_faults(sandbox, drop_after_create_rate=0.0)
    found = await jira.post("/rest/api/3/search/jql", json={"jql": "project = DTG"})
    assert len(found.json()["issues"]) == 2


@pytest.mark.anyio
async def test_fault_settings_are_validated(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.post("/_sandbox/faults", json={"error_rate": 2})).status_code == 400
    assert (await sandbox.post("/_sandbox/faults", json={"explode": True})).status_code == 400


@pytest.mark.anyio
async def test_reset_forgets_issues_and_counters(
    sandbox: httpx.AsyncClient, jira: httpx.AsyncClient, sandbox_app: Starlette
) -> None:
    await jira.post("/rest/api/3/issue", json=ISSUE)
    assert (await sandbox.post("/_sandbox/reset")).status_code == 204
    assert sandbox_app.state.sandbox.store.issues == {}
    assert (await sandbox.get("/_sandbox/stats")).json()["requests"] == 0
