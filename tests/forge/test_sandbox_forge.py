"""The sandbox as Forge: it installs the app through the lifecycle trigger, fires the hourly trigger, rotates its
keys, and serves REST under /ex/jira/{cloudId}/rest/api/3 to bearer tokens only; the export runs through it.

Both apps run in this process (ASGI transports both ways): the app verifies the sandbox's FITs against the JWKS
it fetches from the sandbox, and calls the sandbox's REST API with the system token the sandbox issued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.container import Services, build_services
from app.db.migrate import upgrade
from app.main import create_app
from app.pipeline.export import export_results, run_export, start_export
from app.retries import RetryPolicy
from app.sandbox import SandboxConfig, create_sandbox_app
from app.sandbox.runtime import SandboxRuntime
from tests.export.helpers import Queue, assert_exported_exactly, synthetic_tickets
from tests.support import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.forge, pytest.mark.anyio]

APP_URL = "http://app.test"
SANDBOX_URL = "http://127.0.0.1:8199"  # never listened on: the transports are in-process
APP_ID = "ari:cloud:ecosystem::app/0c9d3c7a-5f2e-4b7a-9d3e-2a1b0c9d8e7f"
FAST = RetryPolicy(attempts=8, base_delay=0.001, max_delay=0.01)


@dataclass
class ForgeWorld:
    services: Services
    runtime: SandboxRuntime
    sandbox: httpx.AsyncClient

    def tenant_id(self) -> int:
        site = self.services.forge_installations.find(self.installation_id())
        assert site is not None
        return site.tenant_id

    def installation_id(self) -> str:
        assert self.runtime.forge.installation is not None
        return self.runtime.forge.installation.installation_id

    async def rest(self, path: str, token: str | None, *, cloud_id: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.sandbox.get(
            f"/ex/jira/{cloud_id or self.runtime.forge.cloud_id}/rest/api/3{path}", headers=headers
        )


@pytest.fixture
async def world(tmp_path: Path, postgres_url: str) -> AsyncIterator[ForgeWorld]:
    settings = make_settings(
        tmp_path,
        DTG_BASE_URL=APP_URL,
        DTG_DATABASE_URL=postgres_url,
        DTG_FORGE_APP_ID=APP_ID,
        DTG_FORGE_JWKS_URL=f"{SANDBOX_URL}/_sandbox/forge/jwks.json",
        DTG_FORGE_API_HOSTS="127.0.0.1",
        DTG_JIRA_REQUESTS_PER_SECOND="1000",
    )
    upgrade(settings.database_url)
    running: dict[str, Any] = {}

    async def app_with_services(scope: Scope, receive: Receive, send: Send) -> None:
        # What the app's lifespan hands every request; ASGITransport runs no lifespan.
        scope["state"] = {"services": running["services"]}
        await running["app"](scope, receive, send)

    config = SandboxConfig(base_url=SANDBOX_URL, app_url=APP_URL, forge_app_id=APP_ID)
    sandbox_app = create_sandbox_app(
        config, http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with_services))
    )
    to_sandbox = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_URL)
    queue = Queue([])
    services = build_services(settings, queue, http=to_sandbox)
    running["services"] = services
    running["app"] = create_app(settings, queue, services=services)
    try:
        yield ForgeWorld(services, sandbox_app.state.sandbox, to_sandbox)
    finally:
        await services.aclose()


async def test_the_sandbox_installs_the_forge_app_and_the_export_runs_with_bearer_tokens(world: ForgeWorld) -> None:
    installed = await world.sandbox.post("/_sandbox/forge/install")
    assert installed.status_code == 200, installed.text
    assert world.runtime.forge.calls == [("/forge/lifecycle", 200)]
    tenant_id = world.tenant_id()
    upload = world.services.sessions.create(tenant_id=tenant_id, project_key="DTG")
    assert upload.id is not None
    world.services.tickets.save_drafts(tenant_id=tenant_id, session_id=upload.id, drafts=synthetic_tickets(30))

    task_id = start_export(world.services, tenant_id, upload.id)
    await run_export(world.services, task_id, http=world.sandbox, policy=FAST)

    tickets = world.services.tickets.list(tenant_id=tenant_id, session_id=upload.id)
    assert_exported_exactly(world.runtime.store, tickets)
    assert export_results(world.services, tenant_id, upload.id).summary["created"] == 30
    stats = world.runtime.stats
    assert stats.unauthorized == 0 and stats.requests["POST /rest/api/3/issue/bulk"] >= 1


async def test_the_sandbox_rest_api_refuses_expired_forged_and_foreign_tokens(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    forge = world.runtime.forge
    assert forge.installation is not None
    valid = forge.signer.oauth_token(forge.installation)
    expired = forge.signer.oauth_token(forge.installation, ttl_seconds=-60)
    other_site = forge.signer.oauth_token(
        type(forge.installation)("ari:cloud:ecosystem::installation/x", "cloud-other", "https://x", "https://x")
    )
    from app.sandbox.forge.signing import ForgeSigner

    forged = ForgeSigner(APP_ID).oauth_token(forge.installation)  # same claims, another signer's secret

    assert (await world.rest("/myself", valid)).status_code == 200
    for token in (expired, other_site, forged, None):
        answer = await world.rest("/myself", token)
        assert answer.status_code == 401, token
    assert (await world.rest("/myself", valid, cloud_id="cloud-other")).status_code == 401
    connect_style = await world.sandbox.get("/rest/api/3/myself", headers={"Authorization": f"Bearer {valid}"})
    assert connect_style.status_code == 401  # the Connect API wants its JWT, not a Forge token


async def test_the_hourly_trigger_and_a_key_rotation_keep_the_tenant_reachable(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    tenant_id = world.tenant_id()
    first = world.services.forge_installations.newest_system_token(tenant_id)
    assert first is not None

    rotated = await world.sandbox.post("/_sandbox/forge/rotate")
    fired = await world.sandbox.post("/_sandbox/forge/scheduled")

    assert rotated.status_code == 200 and fired.status_code == 200, fired.text
    assert world.runtime.forge.calls[-1] == ("/forge/scheduled", 200)
    newest = world.services.forge_installations.newest_system_token(tenant_id)
    assert newest is not None and newest.expires_at >= first.expires_at
    assert (await world.rest("/myself", newest.value)).status_code == 200


async def test_a_reinstall_through_the_sandbox_keeps_the_tenant(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    first_installation, tenant_id = world.installation_id(), world.tenant_id()

    await world.sandbox.post("/_sandbox/forge/install")

    assert world.installation_id() != first_installation
    assert world.tenant_id() == tenant_id
