"""The app on a fresh PostgreSQL database, with the sandbox's Forge signer as Forge (its JWKS behind MockTransport)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.container import Services, build_services
from app.db.migrate import upgrade
from app.main import create_app
from app.sandbox.forge.signing import ForgeInstallation, ForgeSigner
from tests.support import RecordingQueue, make_settings

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
