"""Forge lifecycle events, the scheduled trigger and preUninstall: tenants and their newest system token."""

from __future__ import annotations

import time

import pytest

from tests.forge.conftest import ForgeApp, site

pytestmark = [pytest.mark.integration, pytest.mark.forge]

ACME = site("acme")


def test_an_install_event_stores_the_tenant_and_its_system_token_encrypted(forge_app: ForgeApp) -> None:
    token = forge_app.signer.oauth_token(ACME)

    answer = forge_app.call("/forge/lifecycle", ACME, system_token=token)

    assert answer.status_code == 200 and answer.json() == {"installed": True, "linkedToConnect": False}
    tenants = forge_app.rows("SELECT id, client_key, base_url, display_url, cloud_id FROM tenants")
    assert [row[1:] for row in tenants] == [("forge:cloud-acme", ACME.api_base_url, ACME.site_url, "cloud-acme")]
    stored = forge_app.rows("SELECT installation_id, system_token_encrypted FROM forge_installations")
    assert stored[0][0] == ACME.installation_id and token not in str(stored)
    newest = forge_app.services.forge_installations.newest_system_token(tenants[0][0])
    assert newest is not None and newest.value == token


def test_a_reinstall_finds_the_same_tenant_by_cloud_id(forge_app: ForgeApp) -> None:
    forge_app.call("/forge/lifecycle", ACME)
    reinstalled = site("acme", installation="2")

    assert forge_app.call("/forge/lifecycle", reinstalled).status_code == 200

    assert len(forge_app.rows("SELECT id FROM tenants")) == 1
    assert len(forge_app.rows("SELECT DISTINCT tenant_id FROM forge_installations")) == 1
    assert len(forge_app.rows("SELECT id FROM forge_installations")) == 2


def test_the_scheduled_trigger_keeps_the_newest_token_only(forge_app: ForgeApp) -> None:
    now = time.time()
    first = forge_app.signer.oauth_token(ACME, now=now - 3600)  # three hours left
    fresher = forge_app.signer.oauth_token(ACME, now=now)  # four hours left
    older = forge_app.signer.oauth_token(ACME, now=now - 7200)  # a retried delivery of an earlier trigger

    forge_app.call("/forge/lifecycle", ACME, system_token=first)
    answer = forge_app.call("/forge/scheduled", ACME, system_token=fresher).json()
    assert answer == {"tokenStored": True, "exportsResumed": 0}  # no export was waiting for a token
    forge_app.call("/forge/scheduled", ACME, system_token=older)

    tenant_id = forge_app.rows("SELECT id FROM tenants")[0][0]
    newest = forge_app.services.forge_installations.newest_system_token(tenant_id)
    assert newest is not None and newest.value == fresher
    assert newest.expires_at == int(now) + 4 * 3600


def test_one_tenants_token_is_never_handed_out_for_another(forge_app: ForgeApp) -> None:
    other = site("globex")
    acme_token = forge_app.signer.oauth_token(ACME)
    globex_token = forge_app.signer.oauth_token(other)
    forge_app.call("/forge/lifecycle", ACME, system_token=acme_token)
    forge_app.call("/forge/lifecycle", other)  # Globex's event brought no token

    tenants = dict(forge_app.rows("SELECT cloud_id, id FROM tenants"))
    installations = forge_app.services.forge_installations
    assert installations.newest_system_token(tenants["cloud-globex"]) is None
    forge_app.call("/forge/scheduled", other, system_token=globex_token)
    acme = installations.newest_system_token(tenants["cloud-acme"])
    globex = installations.newest_system_token(tenants["cloud-globex"])
    assert acme is not None and acme.value == acme_token
    assert globex is not None and globex.value == globex_token


def test_a_forged_or_foreign_token_stores_nothing(forge_app: ForgeApp) -> None:
    from app.sandbox.forge.signing import ForgeSigner

    impostor = ForgeSigner(forge_app.signer.app_id)  # right app id, keys Forge never published
    forged = forge_app.client.post(
        "/forge/lifecycle", json={}, headers={"Authorization": f"Bearer {impostor.invocation_token(ACME)}"}
    )
    wrong_app = forge_app.call("/forge/lifecycle", ACME, aud="ari:cloud:ecosystem::app/another")
    no_token = forge_app.client.post("/forge/scheduled", json={})

    assert [forged.status_code, wrong_app.status_code, no_token.status_code] == [401, 401, 401]
    assert "error" in no_token.json()
    assert forge_app.rows("SELECT id FROM tenants") == []


@pytest.mark.parametrize(
    "api_base_url",
    [
        "https://evil.example/ex/jira/cloud-acme",  # a host the operator does not allow
        "http://api.atlassian.com/ex/jira/cloud-acme",  # not https
        "https://api.atlassian.com/ex/jira/cloud-globex",  # another site's API
        "https://api.atlassian.com/admin",
    ],
)
def test_an_api_base_url_outside_the_sites_own_jira_is_refused(forge_app: ForgeApp, api_base_url: str) -> None:
    # A FIT Forge signed; only its apiBaseUrl is wrong.
    app_claim = {
        "id": forge_app.signer.app_id,
        "installationId": ACME.installation_id,
        "apiBaseUrl": api_base_url,
        "installation": {"contexts": [{"cloudId": ACME.cloud_id}]},
    }

    answer = forge_app.call("/forge/lifecycle", ACME, app=app_claim)

    assert answer.status_code == 400
    assert forge_app.rows("SELECT id FROM forge_installations") == []


def test_pre_uninstall_marks_the_tenant_uninstalled_and_refuses_the_installation_after(forge_app: ForgeApp) -> None:
    forge_app.call("/forge/lifecycle", ACME, system_token=forge_app.signer.oauth_token(ACME))

    first = forge_app.call("/forge/uninstalling", ACME)
    again = forge_app.call("/forge/uninstalling", ACME)  # Forge retries: still fine
    late = forge_app.call("/forge/scheduled", ACME)

    assert [first.status_code, again.status_code, late.status_code] == [200, 200, 401]
    ((tenant_id, uninstalled_at),) = forge_app.rows("SELECT id, uninstalled_at FROM tenants")
    assert uninstalled_at is not None
    assert forge_app.services.forge_installations.newest_system_token(tenant_id) is None

    assert forge_app.call("/forge/lifecycle", site("acme", installation="2")).status_code == 200
    assert forge_app.rows("SELECT uninstalled_at FROM tenants") == [(None,)]


def test_a_connect_token_naming_a_forge_tenant_opens_nothing(forge_app: ForgeApp) -> None:
    import jwt

    from app.connect.qsh import CONTEXT_QSH

    forge_app.call("/forge/lifecycle", ACME)
    now = int(time.time())
    claims = {"iss": "forge:cloud-acme", "iat": now, "exp": now + 60, "qsh": CONTEXT_QSH, "sub": "someone"}
    token = jwt.encode(claims, "guessed-secret-that-is-long-enough-for-hs256", algorithm="HS256")

    answer = forge_app.client.get("/api/me", headers={"Authorization": f"JWT {token}"})

    assert answer.status_code == 401 and "not installed" in answer.json()["error"]["message"]


@pytest.mark.anyio
async def test_each_tenants_jira_calls_carry_its_own_stored_token(forge_app: ForgeApp) -> None:
    import httpx

    from app.forge.jira_auth import system_auth
    from app.jira.client import JiraClient

    globex = site("globex")
    tokens = {ACME.cloud_id: forge_app.signer.oauth_token(ACME), globex.cloud_id: forge_app.signer.oauth_token(globex)}
    forge_app.call("/forge/lifecycle", ACME, system_token=tokens[ACME.cloud_id])
    forge_app.call("/forge/lifecycle", globex, system_token=tokens[globex.cloud_id])
    seen: list[tuple[str, str]] = []

    def jira(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers["authorization"]))
        return httpx.Response(200, json={"accountId": "bot"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(jira))
    services = forge_app.services
    for (tenant_id,) in forge_app.rows("SELECT id FROM tenants ORDER BY id"):
        installation = services.tenants.get(tenant_id)
        assert installation is not None and installation.is_forge
        auth = system_auth(services.forge_installations, installation)
        await JiraClient(http, installation, "unused", auth=auth).myself()

    assert seen == [
        ("/ex/jira/cloud-acme/rest/api/3/myself", f"Bearer {tokens['cloud-acme']}"),
        ("/ex/jira/cloud-globex/rest/api/3/myself", f"Bearer {tokens['cloud-globex']}"),
    ]
