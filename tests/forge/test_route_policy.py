"""Forge routes declare a policy: the FIT is checked before the handler runs, and UI routes need a user."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.domain.forge import ForgeInvocationSite, ForgeSite, OAuthToken
from app.forge.invocation import InvocationTokenVerifier
from app.forge.keys import ForgeKeySet
from app.sandbox.forge.signing import ForgeInstallation, ForgeSigner
from app.web.errors import EXCEPTION_HANDLERS
from app.web.routing import Auth, SecuredRoute, check_policies

pytestmark = [pytest.mark.unit, pytest.mark.forge]

APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"
SITE = ForgeInstallation(
    "ari:cloud:ecosystem::installation/x",
    "cloud-9",
    "https://x.atlassian.net",
    "https://api.atlassian.com/ex/jira/cloud-9",
)


class InMemoryInstallations:
    """Stands in for the repository (tests/forge/test_lifecycle.py runs the real one on PostgreSQL)."""

    def record_invocation(self, site: ForgeInvocationSite, system_token: OAuthToken | None) -> ForgeSite:
        return ForgeSite(7, site.installation_id, site.cloud_id, site.site_url, site.api_base_url)


async def echo(request: Request) -> Response:
    return JSONResponse({"installation": request.state.forge.installation_id, "user": request.state.forge.account_id})


@pytest.fixture
def signer() -> ForgeSigner:
    return ForgeSigner(APP_ID)


@pytest.fixture
def client(signer: ForgeSigner) -> TestClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=signer.jwks())))
    services = SimpleNamespace(
        forge_verifier=InvocationTokenVerifier(app_id=APP_ID, keys=ForgeKeySet("https://keys.test/jwks", http)),
        forge_installations=InMemoryInstallations(),
        settings=SimpleNamespace(forge_api_hosts=("api.atlassian.com",)),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"services": services}

    routes = [
        SecuredRoute("/forge/trigger", echo, auth=Auth.FORGE_TRIGGER, methods=["POST"]),
        SecuredRoute("/forge/ui", echo, auth=Auth.FORGE_UI),
    ]
    check_policies(routes)
    return TestClient(Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS))


def test_a_trigger_route_runs_only_with_a_valid_fit(client: TestClient, signer: ForgeSigner) -> None:
    with client:
        assert client.post("/forge/trigger").status_code == 401
        assert client.post("/forge/trigger", headers={"Authorization": "Bearer nonsense"}).status_code == 401
        other_app = ForgeSigner("ari:cloud:ecosystem::app/other").invocation_token(SITE)
        assert client.post("/forge/trigger", headers={"Authorization": f"Bearer {other_app}"}).status_code == 401

        answer = client.post("/forge/trigger", headers={"Authorization": f"Bearer {signer.invocation_token(SITE)}"})

    assert answer.status_code == 200
    assert answer.json() == {"installation": SITE.installation_id, "user": None}


def test_a_ui_route_needs_the_calling_user(client: TestClient, signer: ForgeSigner) -> None:
    with client:
        refused = client.get("/forge/ui", headers={"Authorization": f"Bearer {signer.invocation_token(SITE)}"})
        token = signer.invocation_token(SITE, account_id="user-7")
        answer = client.get("/forge/ui", headers={"Authorization": f"Bearer {token}"})

    assert refused.status_code == 401 and "person" in refused.json()["error"]["message"]
    assert answer.json()["user"] == "user-7"


def test_a_forge_route_without_a_policy_cannot_be_registered() -> None:
    with pytest.raises(RuntimeError, match="declares no authentication policy"):
        check_policies([SecuredRoute("/forge/ok", echo, auth=Auth.FORGE_TRIGGER), Route("/forge/lifecycle", echo)])
