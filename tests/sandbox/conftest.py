"""Fixtures: the sandbox in-process, and a tiny fake of OUR app that verifies the sandbox's callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.connect.qsh import query_string_hash
from app.jira.auth import ConnectJWTAuth
from app.sandbox import SandboxConfig, create_sandbox_app

SANDBOX_URL = "http://jira.test"
APP_URL = "http://app.test"
APP_KEY = "dtg-test"

DESCRIPTOR: dict[str, Any] = {
    "key": APP_KEY,
    "name": "Drupal Ticket Generator (test)",
    "baseUrl": APP_URL,
    "authentication": {"type": "jwt"},
    "apiMigrations": {"signed-install": True, "context-qsh": True},
    "lifecycle": {
        "installed": "/installed",
        "uninstalled": "/uninstalled",
        "enabled": "/enabled",
        "disabled": "/disabled",
    },
    "scopes": ["READ", "WRITE"],
    "modules": {
        "jiraProjectPages": [
            {
                "key": "dtg-project",
                "name": {"value": "Ticket generator"},
                "url": "/jira/project?projectKey={project.key}&projectId=${project.id}",
            }
        ],
        "jiraIssueGlances": [
            {
                "key": "dtg-glance",
                "name": {"value": "Spec"},
                "content": {"type": "label", "label": {"value": "Spec"}},
                "target": {"type": "web_panel", "url": "/jira/glance?issueKey={issue.key}&projectKey={project.key}"},
            }
        ],
        "configurePage": {"key": "dtg-configure", "name": {"value": "Configure"}, "url": "/jira/configure"},
        "jiraEntityProperties": [
            {
                "key": "dtg-ticket-index",
                "name": {"value": "DTG ticket"},
                "entityType": "issue",
                "keyConfigurations": [
                    {
                        "propertyKey": "dtg-ticket",
                        "extractions": [
                            {"objectName": "ticketId", "type": "string"},
                            {"objectName": "sessionId", "type": "string"},
                        ],
                    }
                ],
            }
        ],
    },
}


@dataclass
class FakeApp:
    """Our app, reduced to its descriptor and lifecycle routes; verifies every callback as the real one must."""

    key: str = APP_KEY
    url: str = APP_URL
    descriptor_url: str = APP_URL + "/atlassian-connect.json"
    sandbox: httpx.AsyncClient | None = None
    installed_status: int = 204
    events: list[dict[str, Any]] = field(default_factory=list)
    shared_secret: str | None = None

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/atlassian-connect.json", lambda request: JSONResponse(DESCRIPTOR)),
                Route("/{event}", self.lifecycle, methods=["POST"]),
            ]
        )

    async def lifecycle(self, request: Request) -> Response:
        event = request.path_params["event"]
        token = request.headers["authorization"].removeprefix("JWT ")
        header = jwt.get_unverified_header(token)
        if event in ("installed", "uninstalled"):
            # Signed install: RS256, public key fetched from the (sandbox's) install-key server by `kid`.
            assert self.sandbox is not None
            key = (await self.sandbox.get(f"/connect-install-keys/{header['kid']}")).text
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=APP_URL)
        else:
            claims = jwt.decode(token, self.shared_secret, algorithms=["HS256"])
        assert claims["qsh"] == query_string_hash("POST", str(request.url), APP_URL)
        payload = await request.json()
        self.events.append({"event": event, "header": header, "claims": claims, "payload": payload})
        if event == "installed":
            if self.installed_status >= 300:
                return JSONResponse({"error": "refused"}, status_code=self.installed_status)
            self.shared_secret = payload["sharedSecret"]
        return Response(status_code=204)

    def last(self, event: str) -> dict[str, Any]:
        return [e for e in self.events if e["event"] == event][-1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig(base_url=SANDBOX_URL, app_url=APP_URL)


@pytest.fixture
async def fake_app() -> FakeApp:
    return FakeApp()


@pytest.fixture
async def sandbox_app(config: SandboxConfig, fake_app: FakeApp) -> AsyncIterator[Starlette]:
    to_app = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app.asgi()))
    app = create_sandbox_app(config, http_client=to_app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SANDBOX_URL) as to_sandbox:
        fake_app.sandbox = to_sandbox
        yield app
    await to_app.aclose()


@pytest.fixture
async def sandbox(sandbox_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the sandbox without credentials: a browser, or the test driving `/_sandbox/`."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_URL) as client:
        yield client


@pytest.fixture
async def installed(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    response = await sandbox.post("/_sandbox/install", json={"descriptorUrl": APP_URL + "/atlassian-connect.json"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def jira(sandbox_app: Starlette, installed: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Our app's view of Jira: REST calls signed by the real `ConnectJWTAuth`."""
    auth = ConnectJWTAuth(app_key=APP_KEY, shared_secret=installed["sharedSecret"], tenant_base_url=SANDBOX_URL)
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_URL, auth=auth) as client:
        yield client
