"""The export, and the apply of a revision, survive their `dtg worker` being SIGKILLed again and again: no
duplicate, nothing missing, each change made once.

Real processes all the way: the app (`dtg serve`) installed into the sandbox (`dtg sandbox`, 30 ms latency) by the
signed install, PostgreSQL, Redis, and `dtg worker` processes killed as a group at random points of the export.
The tickets are the UWEC sample's, generated offline in this process before the export starts. Through the Forge
front too (fewer kills, to keep the suite short): the sandbox installs the Forge app, the workers call its
/ex/jira/{cloudId} API with the system token the lifecycle trigger stored. And a revised UWEC (`revised_uwec`)
applied over the exported one by workers killed mid-apply; the sandbox's history is read from its state file.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
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
from app.pipeline.export.revise import MARKER
from app.pipeline.issue_requests import EPIC_KEY_PREFIX, epic_area, epic_key
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.revision_plan import CHANGED, FLAG_LABEL, GONE, RevisionPlan
from app.pipeline.revisions import revision_plan, start_revision
from app.sandbox.store import SandboxStore
from app.settings import Settings
from tests.export.helpers import (
    generate_tickets,
    generate_uwec_tickets,
    jira_epics,
    jira_issues_by_ticket,
    planned_links,
    revised_uwec,
    sandbox_links,
)
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
    would take the export's messages (and fail them on its own, dropped, database). It is the database before the
    test database (so two checkouts testing with their own DTG_TEST_REDIS_URL do not share it either)."""
    base, _, db = redis_url.rpartition("/")
    url = f"{base}/{(int(db or 0) - 1) % 16}"
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


@asynccontextmanager
async def _jira(services: Services, tenant_id: int) -> AsyncIterator[JiraClient]:
    """A Jira client of the app, as its workers make one: Connect's JWT, or the Forge system token."""
    installation = services.tenants.get(tenant_id)
    assert installation is not None
    async with httpx.AsyncClient(timeout=30) as http:
        auth = system_auth(services.forge_installations, installation)  # None: Connect's JWT
        yield JiraClient(http, installation, services.settings.app_key, auth=auth)


async def _jira_view(
    services: Services, tenant_id: int, session_id: int
) -> tuple[dict[str, tuple[str, list[str]]], Counter[tuple[str, str, str]]]:
    """What Jira holds, read through its REST API as the app: issue key -> (ticket key, attachment names) for
    every issue carrying our property, and each link as (type, inward ticket, outward ticket)."""
    async with _jira(services, tenant_id) as client:
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


@dataclass
class Stack:
    """The real processes of a test: app, sandbox and workers, and our services on the same database and Redis."""

    env: dict[str, str]
    services: Services
    tenant: Installation
    log: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kill_during(self, task_id: int, kills: int, rng: random.Random) -> Task:
        """SIGKILL the working `dtg worker` `kills` times at random points of the task, a standby taking over each
        time; the task once it ended."""
        for _ in range(kills):
            before = _task(self.services, task_id)
            # Kill only once a worker is at work (the task moved), at a random point after that.
            wait_until(lambda: _task(self.services, task_id).updated_at != before.updated_at, 30, "a worker")  # noqa: B023
            # The standby boots while the other one works (idle: the task's message is held by the other), so a
            # kill costs only the heartbeat timeout before the standby takes over.
            self.workers.append(spawn_worker(self.env, self.log))
            time.sleep(rng.uniform(0.05, 0.6))
            state = _task(self.services, task_id).state
            assert state == "running", f"the task was {state} before all kills: {_task(self.services, task_id)}"
            os.killpg(self.workers[-2].pid, signal.SIGKILL)
            self.workers[-2].wait()
        wait_until(lambda: _task(self.services, task_id).state != "running", 60, "the task to finish")
        return _task(self.services, task_id)


@contextmanager
def _stack(
    tmp_path: Path, postgres_url: str, redis_url: str, front: str, *, sandbox_options: tuple[str, ...] = ()
) -> Iterator[Stack]:
    """App, sandbox (30 ms latency) and one worker started, the app installed through `front`; all stopped after."""
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "DTG_DATA_DIR": str(tmp_path / "data"),
        "DTG_DATABASE_URL": postgres_url,
        "DTG_REDIS_URL": redis_url,
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
        sandbox_options=("--latency-ms", "30", *sandbox_options),
        connect_install=front == "connect",
    )
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    log = tmp_path / "worker.log"
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
        yield Stack(env, services, tenant, log, workers)
    finally:
        for process in [*servers, *workers]:
            stop_process(process)
        services.engine.dispose()


@pytest.mark.parametrize(("front", "kills"), [("connect", KILLS), ("forge", 3)])
def test_an_export_killed_again_and_again_leaves_each_ticket_once_with_every_link(
    tmp_path: Path, postgres_url: str, own_redis_url: str, front: str, kills: int
) -> None:
    with _stack(tmp_path, postgres_url, own_redis_url, front) as stack:
        services, tenant = stack.services, stack.tenant
        session_id = generate_uwec_tickets(services, tenant.id)
        task = stack.kill_during(start_export(services, tenant.id, session_id), kills, random.Random(5))
        assert task.state == "done", task.message
        tickets = services.tickets.list(tenant_id=tenant.id, session_id=session_id)
        found = asyncio.run(_jira_view(services, tenant.id, session_id))

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
    assert sum(1 for t in tickets for _ in t.blocked_by) > 100
    assert links == planned_links(tickets)


async def _plan(services: Services, tenant_id: int, session_id: int) -> RevisionPlan:
    async with _jira(services, tenant_id) as client:
        return await revision_plan(services, client, tenant_id=tenant_id, session_id=session_id)


def test_a_revision_applied_by_a_worker_killed_again_and_again_changes_each_issue_exactly_once(
    tmp_path: Path, postgres_url: str, own_redis_url: str
) -> None:
    """Issue 14, item 7: the revised UWEC applied by a worker killed 3 times mid-apply (the in-process crash tests
    are tests/export/test_revision_*.py); the sandbox's changelog, comments, labels and links read afterwards."""
    state_dir = tmp_path / "sandbox-state"  # what the sandbox holds, written when it stops
    with _stack(
        tmp_path, postgres_url, own_redis_url, "connect", sandbox_options=("--state-dir", str(state_dir))
    ) as stack:
        services, tenant = stack.services, stack.tenant
        first = generate_uwec_tickets(services, tenant.id)
        exported = start_export(services, tenant.id, first)
        wait_until(lambda: _task(services, exported).state not in ("queued", "running"), 60, "the export")
        assert _task(services, exported).state == "done"
        revision = start_revision(services, Scope(tenant.id, first), SYSTEM)
        assert revision.id is not None
        generate_tickets(services, Scope(tenant.id, revision.id), revised_uwec(tmp_path / "revised"))
        plan = asyncio.run(_plan(services, tenant.id, revision.id))
        task = stack.kill_during(start_export(services, tenant.id, revision.id), 3, random.Random(7))
        assert task.state == "done", task.message
        revised = services.tickets.list(tenant_id=tenant.id, session_id=revision.id)

    store = SandboxStore([], state_dir)
    kinds = {change.ticket_key: change.kind for change in plan.changes}
    assert {CHANGED, GONE} <= set(kinds.values())  # the revised UWEC adds no ticket: its new field is a change
    counts, epics = jira_issues_by_ticket(store), jira_epics(store)
    assert max(counts.values()) == 1 and max(epics.values()) == 1 and set(counts) == set(kinds)  # no duplicate
    issue_of = {i.properties[PROPERTY_KEY]["ticketKey"]: i for i in store.issues.values()}
    # Each changed issue updated once (a gone one once too: its label), every other one never; a replaced
    # attachment's deletion is history of its own.
    edits = {key: [g for g in issue_of[key].changelog if g.items[0]["field"] != "Attachment"] for key in kinds}
    assert {key: len(groups) for key, groups in edits.items()} == {
        key: int(kind in (CHANGED, GONE)) for key, kind in kinds.items()
    }
    # Each file once, with the revised spec's content (a changed table replaced the old file of its name).
    for ticket in (t for t in revised if t.attachments):
        attached = [store.attachments[a] for a in issue_of[ticket.key].attachment_ids]
        assert sorted(a.filename for a in attached) == sorted(item["filename"] for item in ticket.attachments)
        content = {a.filename: store.attachment_content(a.id) for a in attached}
        assert content == {item["filename"]: item["content"].encode() for item in ticket.attachments}
    for key in (key for key, kind in kinds.items() if kind == GONE):
        assert FLAG_LABEL in issue_of[key].labels
        assert [MARKER in str(comment.body) for comment in issue_of[key].comments] == [True]
    assert {t.key: t.jira_key for t in revised} == {t.key: issue_of[t.key].key for t in revised}  # write-back
    assert sandbox_links(store) == planned_links([t for t in revised if not t.excluded])
