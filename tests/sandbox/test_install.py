"""Installing our app as Jira does: the install-key server, the signed lifecycle callbacks, reinstall."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.applications import Starlette

from app.sandbox import SandboxConfig, create_sandbox_app

pytestmark = [pytest.mark.unit, pytest.mark.connect]


@pytest.mark.anyio
async def test_key_server_serves_the_pem_of_the_signing_key_and_404_for_unknown_kids(
    sandbox: httpx.AsyncClient, sandbox_app: Starlette
) -> None:
    kid = sandbox_app.state.sandbox.keys.kid
    served = await sandbox.get(f"/connect-install-keys/{kid}")
    assert served.status_code == 200
    assert isinstance(load_pem_public_key(served.content), RSAPublicKey)
    assert (await sandbox.get("/connect-install-keys/not-a-kid")).status_code == 404


@pytest.mark.anyio
async def test_installed_callback_carries_the_connect_payload_and_a_signed_install_token(
    fake_app: Any, installed: dict[str, Any], sandbox_app: Starlette, config: SandboxConfig
) -> None:
    event = fake_app.last("installed")
    payload, claims, header = event["payload"], event["claims"], event["header"]
    assert payload == {
        "key": fake_app.key,
        "clientKey": installed["clientKey"],
        "sharedSecret": installed["sharedSecret"],
        "serverVersion": payload["serverVersion"],
        "pluginsVersion": payload["pluginsVersion"],
        "baseUrl": config.public_url,
        "displayUrl": config.public_url,
        "productType": "jira",
        "description": payload["description"],
        "eventType": "installed",
        "cloudId": config.cloud_id,
    }
    assert len(payload["sharedSecret"]) >= 43  # 32 random bytes, urlsafe base64
    # The fake app already verified the RS256 signature with the served key, `aud` and the qsh.
    assert header["alg"] == "RS256" and header["kid"] == sandbox_app.state.sandbox.keys.kid
    assert claims["iss"] == installed["clientKey"]
    assert claims["aud"] == fake_app.url
    assert claims["sub"]
    assert claims["exp"] - claims["iat"] == 180


@pytest.mark.anyio
async def test_enabled_callback_follows_signed_with_the_shared_secret(fake_app: Any, installed: dict[str, Any]) -> None:
    assert [e["event"] for e in fake_app.events] == ["installed", "enabled"]
    enabled = fake_app.last("enabled")
    assert enabled["header"]["alg"] == "HS256"
    assert enabled["claims"]["iss"] == installed["clientKey"]
    assert installed["callbackStatus"] == {"installed": 204, "enabled": 204}


@pytest.mark.anyio
async def test_reinstall_keeps_the_client_key_and_rotates_the_shared_secret(
    sandbox: httpx.AsyncClient, fake_app: Any, installed: dict[str, Any]
) -> None:
    again = (await sandbox.post("/_sandbox/install", json={"descriptorUrl": fake_app.descriptor_url})).json()
    assert again["clientKey"] == installed["clientKey"]
    assert again["sharedSecret"] != installed["sharedSecret"]


@pytest.mark.anyio
async def test_a_refused_install_is_a_clear_error_and_keeps_the_previous_secret(
    sandbox: httpx.AsyncClient, fake_app: Any, installed: dict[str, Any]
) -> None:
    fake_app.installed_status = 500
    response = await sandbox.post("/_sandbox/install", json={"descriptorUrl": fake_app.descriptor_url})
    assert response.status_code == 502
    assert "refused the installed callback with HTTP 500" in response.json()["error"]
    [current] = (await sandbox.get("/_sandbox/installations")).json()
    assert current["sharedSecret"] == installed["sharedSecret"]


@pytest.mark.anyio
async def test_an_unreachable_descriptor_is_a_clear_error(sandbox: httpx.AsyncClient, fake_app: Any) -> None:
    response = await sandbox.post("/_sandbox/install", json={"descriptorUrl": fake_app.url + "/missing.json"})
    assert response.status_code == 502
    assert "cannot read the app descriptor" in response.json()["error"]


@pytest.mark.anyio
async def test_uninstall_sends_disabled_then_a_signed_uninstalled_and_locks_the_app_out(
    sandbox: httpx.AsyncClient, jira: httpx.AsyncClient, fake_app: Any, installed: dict[str, Any]
) -> None:
    response = await sandbox.post("/_sandbox/uninstall", json={"appKey": fake_app.key})
    assert response.json()["installed"] is False
    assert [e["event"] for e in fake_app.events][-2:] == ["disabled", "uninstalled"]
    uninstalled = fake_app.last("uninstalled")
    assert uninstalled["header"]["alg"] == "RS256"
    assert uninstalled["claims"]["iss"] == installed["clientKey"]
    assert uninstalled["payload"]["eventType"] == "uninstalled"
    assert (await jira.get("/rest/api/3/myself")).status_code == 401


@pytest.mark.anyio
async def test_install_when_ready_waits_for_the_descriptor(fake_app: Any, config: SandboxConfig) -> None:
    attempts = []

    async def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        if len(attempts) < 2:
            raise httpx.ConnectError("connection refused", request=request)
        return await httpx.ASGITransport(app=fake_app.asgi()).handle_async_request(request)

    app = create_sandbox_app(
        config,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(flaky)),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=config.public_url) as client:
        fake_app.sandbox = client
        installation = await app.state.sandbox.installer.install_when_ready(fake_app.descriptor_url, 5)
    assert installation.app_key == fake_app.key
    assert attempts[:2] == ["/atlassian-connect.json", "/atlassian-connect.json"]


@pytest.mark.anyio
async def test_installations_survive_a_restart_with_a_state_dir(
    tmp_path: Any, fake_app: Any, config: SandboxConfig
) -> None:
    config.state_dir = tmp_path
    to_app = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app.asgi()))
    app = create_sandbox_app(config, http_client=to_app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=config.public_url) as client:
        fake_app.sandbox = client
        first = await app.state.sandbox.installer.install_app(fake_app.descriptor_url)
    restarted = create_sandbox_app(config, http_client=to_app)
    kept = restarted.state.sandbox.store.installations[fake_app.key]
    assert (kept.client_key, kept.shared_secret) == (first.client_key, first.shared_secret)
