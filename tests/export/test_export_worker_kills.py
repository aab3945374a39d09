"""The export survives its `dtg worker` being SIGKILLed again and again: no duplicate, nothing missing.

Real processes all the way: the app (`dtg serve`) installed into the sandbox (`dtg sandbox`, 30 ms latency) by the
signed install, PostgreSQL, Redis, and `dtg worker` processes killed as a group at random points of the export.
The tickets are the UWEC sample's, generated offline in this process before the export starts. Through the Forge
front too (fewer kills, to keep the suite short): the sandbox installs the Forge app, the workers call its
/ex/jira/{cloudId} API with the system token the lifecycle trigger stored.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from cryptography.fernet import Fernet

from app.container import Services, build_services
from app.db.migrate import upgrade
from app.db.models import Task
from app.domain.installation import Installation
from app.forge.jira_auth import system_auth
from app.jira.client import JiraClient
from app.pipeline.export import PROPERTY_KEY, start_export
from app.pipeline.export.plan import BLOCKS, plan_export
from app.pipeline.issue_requests import EPIC_KEY_PREFIX, epic_area, epic_key
from app.settings import Settings
from tests.export.helpers import generate_uwec_tickets
from tests.support import free_port, spawn_worker, start_stack, stop_process, wait_until
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.export, pytest.mark.workers]

KILLS = 10
# Stale after 2 s instead of 15 s, so each killed worker's message is handed on within a few seconds.
HEARTBEAT_MS = 2000


@pytest.fixture
def own_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database of this test alone: a worker left behind by another run on the shared test database
    would take the export's messages (and fail them on its own, dropped, database)."""
    url = redis_url.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _task(services: Services, task_id: int) -> Task:
    task = services.tasks.find(task_id)
    assert task is not None
    return task


def _client_key(sandbox_url: str) -> str | None:
    """The clientKey of our installation once the sandbox has installed the app."""
    try:
        installations = httpx.get(f"{sandbox_url}/_sandbox/installations", timeout=2).json()
    except httpx.HTTPError:
        return None
    return next((i["clientKey"] for i in installations if i["installed"]), None)


async def _jira_view(
    services: Services, tenant_id: int, session_id: int
) -> tuple[dict[str, tuple[str, list[str]]], Counter[tuple[str, str, str]]]:
    """What Jira holds, read through its REST API as the app: issue key -> (ticket key, attachment names) for
    every issue carrying our property, and each link as (type, inward ticket, outward ticket)."""
    installation = services.tenants.get(tenant_id)
    assert installation is not None
    async with httpx.AsyncClient(timeout=30) as http:
        auth = system_auth(services.forge_installations, installation)  # None: Connect's JWT
        client = JiraClient(http, installation, services.settings.app_key, auth=auth)
        found = await client.search_by_property(PROPERTY_KEY, {"sessionId": str(session_id)})
        details = await asyncio.gather(*(client.get_issue(issue.key) for issue in found))
    ticket_of = {issue.key: issue.properties[PROPERTY_KEY]["ticketKey"] for issue in found}
    issues = {
        issue.key: (ticket_of[issue.key], sorted(a.filename for a in detail.attachments))
        for issue, detail in zip(found, details, strict=True)
    }
    # Seen from its outward issue a link names its inward partner: counting from that side counts each once.
    links = Counter(
        (link.type_name, ticket_of[link.inward_issue_key], ticket_of[detail.key])
        for detail in details
        for link in detail.links
        if link.inward_issue_key is not None
    )
    return issues, links


def _forge_tenant(services: Services, sandbox_url: str) -> Installation | None:
    """The Forge tenant once the sandbox's Forge install reached the app (its installed event answered 200)."""
    installed = httpx.post(f"{sandbox_url}/_sandbox/forge/install", timeout=10)
    if installed.status_code != 200:
        return None
    site = services.forge_installations.find(installed.json()["installationId"])
    return services.tenants.get(site.tenant_id) if site else None


@pytest.mark.parametrize(("front", "kills"), [("connect", KILLS), ("forge", 3)])
def test_an_export_killed_again_and_again_leaves_each_ticket_once_with_every_link(
    tmp_path: Path, postgres_url: str, own_redis_url: str, front: str, kills: int
) -> None:
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "DTG_DATA_DIR": str(tmp_path / "data"),
        "DTG_DATABASE_URL": postgres_url,
        "DTG_REDIS_URL": own_redis_url,
        "DTG_SECRET_KEY": Fernet.generate_key().decode(),
        "DTG_BASE_URL": app_url,
        "DTG_CONNECT_INSTALL_KEYS_URL": f"{sandbox_url}/connect-install-keys",
        "DTG_JIRA_SITES": "127.0.0.1",
        "DTG_REDIS_HEARTBEAT_TIMEOUT_MS": str(HEARTBEAT_MS),
        "DTG_JIRA_REQUESTS_PER_SECOND": "20",
        "DTG_FORGE_JWKS_URL": f"{sandbox_url}/_sandbox/forge/jwks.json",
        "DTG_FORGE_API_HOSTS": "127.0.0.1",
    }
    upgrade(postgres_url)
    servers = start_stack(
        env,
        tmp_path,
        app_port=app_port,
        sandbox_port=sandbox_port,
        sandbox_options=("--latency-ms", "30"),
        connect_install=front == "connect",
    )
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    log = tmp_path / "worker.log"
    # Each worker boots while the one before it works (idle: the export's message is held by the other), so a
    # kill costs only the heartbeat timeout before the standby takes over.
    workers = [spawn_worker(env, log)]
    try:
        if front == "forge":
            wait_until(lambda: httpx.get(f"{app_url}/healthz", timeout=2).status_code == 200, 60, "the app")
            # Installed again until it took: on a loaded machine the sandbox's call of the trigger may time out.
            wait_until(lambda: _forge_tenant(services, sandbox_url) is not None, 60, "the Forge install", every=1)
            tenant = _forge_tenant(services, sandbox_url)
            assert tenant is not None and tenant.is_forge, "the app did not record the Forge installation"
        else:
            wait_until(lambda: _client_key(sandbox_url) is not None, 60, "the signed install")
            tenant = services.tenants.find(_client_key(sandbox_url) or "")
            assert tenant is not None, "the app did not record the installation"
        session_id = generate_uwec_tickets(services, tenant.id)
        task_id = start_export(services, tenant.id, session_id)

        rng = random.Random(5)
        for _ in range(kills):
            before = _task(services, task_id)
            # Kill only once a worker is exporting (the task moved), at a random point after that.
            wait_until(lambda: _task(services, task_id).updated_at != before.updated_at, 30, "a worker")  # noqa: B023
            workers.append(spawn_worker(env, log))
            time.sleep(rng.uniform(0.05, 0.6))
            state = _task(services, task_id).state
            assert state == "running", f"the export was {state} before all kills: {_task(services, task_id)}"
            os.killpg(workers[-2].pid, signal.SIGKILL)
            workers[-2].wait()
        wait_until(lambda: _task(services, task_id).state != "running", 60, "the export to finish")
        task = _task(services, task_id)
        assert task.state == "done", task.message
        tickets = services.tickets.list(tenant_id=tenant.id, session_id=session_id)
        found = asyncio.run(_jira_view(services, tenant.id, session_id))
    finally:
        for process in [*servers, *workers]:
            stop_process(process)

    services.engine.dispose()
    assert len(tickets) > 100 and all(t.jira_key for t in tickets)
    everything, links = found
    assert [key for key, count in Counter(ticket for ticket, _ in everything.values()).items() if count > 1] == []
    # One epic per area, each exactly once however often the export was killed.
    epics = sorted(key for key, _ in everything.values() if key.startswith(EPIC_KEY_PREFIX))
    assert epics == sorted({epic_key(epic_area(t)) for t in tickets})
    issues = {k: v for k, v in everything.items() if not v[0].startswith(EPIC_KEY_PREFIX)}
    assert {ticket: issue_key for issue_key, (ticket, _) in issues.items()} == {t.key: t.jira_key for t in tickets}
    assert {ticket: names for ticket, names in issues.values()} == {
        t.key: sorted(a["filename"] for a in t.attachments) for t in tickets
    }
    expected = Counter(
        ("Blocks", link.to_key, link.from_key) if link.kind == BLOCKS else ("Relates", link.from_key, link.to_key)
        for link in plan_export(tickets).links
    )
    assert sum(1 for t in tickets for _ in t.blocked_by) > 100
    assert links == expected
