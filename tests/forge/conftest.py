"""The app on a fresh PostgreSQL database, with the sandbox's Forge signer as Forge (its JWKS behind MockTransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app.container import Services, build_services
from app.db.migrate import upgrade
from app.main import create_app
from app.sandbox import SandboxConfig, create_sandbox_app
from app.sandbox.forge.signing import ForgeInstallation, ForgeSigner
from app.sandbox.models import ADMIN_USER
from app.sandbox.runtime import SandboxRuntime
from tests.export.helpers import Queue
from tests.support import RecordingQueue, make_settings


@pytest.fixture(scope="session")
def built_ui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Custom UI resources as `dtg forge-ui` builds them (npm ci from forge-ui's lock file, then esbuild), under
    a folder of their own that stands for the repository root the manifest's resource paths are relative to."""
    from app.forge.custom_ui import build

    root = tmp_path_factory.mktemp("forge-ui-root")
    build(root=root)
    return root


BASE_URL = "https://dtg.test"
APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"
JWKS_URL = "https://forge-keys.test/.well-known/jwks.json"


def site(name: str, installation: str = "1") -> ForgeInstallation:
    cloud_id = f"cloud-{name}"
    return ForgeInstallation(
        installation_id=f"ari:cloud:ecosystem::installation/{name}-{installation}",
        cloud_id=cloud_id,
        site_url=f"https://{name}.atlassian.net",
        api_base_url=f"https://api.atlassian.com/ex/jira/{cloud_id}",
    )


@dataclass
class ForgeApp:
    client: TestClient
    services: Services
    signer: ForgeSigner

    def call(
        self, path: str, installation: ForgeInstallation, *, system_token: str | None = None, **fit: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.signer.invocation_token(installation, **fit)}"}
        if system_token is not None:
            headers["x-forge-oauth-system"] = system_token
        return self.client.post(path, json={"eventType": "avi:forge:installed:app"}, headers=headers)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self.services.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]


@pytest.fixture
def forge_app(tmp_path: Path, postgres_url: str) -> Iterator[ForgeApp]:
    settings = make_settings(
        tmp_path,
        DTG_BASE_URL=BASE_URL,
        DTG_DATABASE_URL=postgres_url,
        DTG_FORGE_APP_ID=APP_ID,
        DTG_FORGE_JWKS_URL=JWKS_URL,
    )
    upgrade(settings.database_url)
    signer = ForgeSigner(APP_ID)

    def forge_cdn(request: httpx.Request) -> httpx.Response:
        if str(request.url) == JWKS_URL:
            return httpx.Response(200, json=signer.jwks())
        return httpx.Response(404)

    queue = RecordingQueue()
    services = build_services(settings, queue, http=httpx.AsyncClient(transport=httpx.MockTransport(forge_cdn)))
    app = create_app(settings, queue, services=services)
    with TestClient(app, base_url=BASE_URL) as client:
        yield ForgeApp(client, services, signer)
    services.engine.dispose()


SANDBOX_APP_URL = "http://app.test"
SANDBOX_URL = "http://127.0.0.1:8199"  # never listened on: the transports are in-process
SANDBOX_APP_ID = "ari:cloud:ecosystem::app/0c9d3c7a-5f2e-4b7a-9d3e-2a1b0c9d8e7f"


@dataclass
class ForgeWorld:
    """Our app and the sandbox in this process, talking through ASGI transports; Forge is the sandbox."""

    services: Services
    runtime: SandboxRuntime
    sandbox: httpx.AsyncClient
    app: httpx.AsyncClient

    async def ui_call(
        self,
        method: str,
        path: str,
        *,
        account_id: str = ADMIN_USER.account_id,
        project: str = "DTG",
        extension: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """What invokeRemote sends from a Custom UI page: a FIT naming the user and module, and both tokens."""
        headers = self.runtime.forge.invocation_headers(
            account_id=account_id, extension=extension or {"project": {"key": project, "id": "10000"}}
        )
        return await self.app.request(method, path, headers=headers, **kwargs)

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
        DTG_BASE_URL=SANDBOX_APP_URL,
        DTG_DATABASE_URL=postgres_url,
        DTG_FORGE_APP_ID=SANDBOX_APP_ID,
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

    config = SandboxConfig(base_url=SANDBOX_URL, app_url=SANDBOX_APP_URL, forge_app_id=SANDBOX_APP_ID)
    sandbox_app = create_sandbox_app(
        config, http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with_services))
    )
    to_sandbox = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_URL)
    queue = Queue([])
    services = build_services(settings, queue, http=to_sandbox)
    running["services"] = services
    running["app"] = create_app(settings, queue, services=services)
    to_app = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with_services), base_url=SANDBOX_APP_URL)
    try:
        yield ForgeWorld(services, sandbox_app.state.sandbox, to_sandbox, to_app)
    finally:
        await services.aclose()
