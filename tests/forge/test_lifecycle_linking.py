"""A site with both fronts is one tenant with one history: at install, Jira's reserved Connect-key app property
(read with the app's system token) names the Connect install, whose tenant the Forge installation joins."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from sqlalchemy import text

from app.connect.lifecycle import uninstalled
from app.connect.verifiers import InstallTokenVerifier
from app.domain.installation import InstallPayload
from app.forge.jira_auth import system_auth
from app.sandbox.models import Installation as SandboxInstallation
from tests.forge.conftest import ForgeWorld

pytestmark = [pytest.mark.integration, pytest.mark.forge, pytest.mark.anyio]

CONNECT_KEY = "jira:5f6e7d8c-connect-client-key"


def _connect_front(world: ForgeWorld) -> int:
    """The site has had the Connect app (our tenant with a session), and Jira knows its clientKey."""
    tenant = world.services.tenants.save_installed(
        InstallPayload(client_key=CONNECT_KEY, shared_secret="s" * 40, base_url="http://127.0.0.1:8199")
    )
    world.services.sessions.create(tenant_id=tenant.id, project_key="DTG")
    world.runtime.store.installations[world.services.settings.app_key] = SandboxInstallation(
        app_key=world.services.settings.app_key,
        client_key=CONNECT_KEY,
        shared_secret="s" * 40,
        app_base_url="http://app.test",
        descriptor={},
    )
    return tenant.id


async def test_the_forge_install_of_a_connect_site_joins_its_tenant_and_keeps_it_on_reinstall(
    world: ForgeWorld,
) -> None:
    connect_tenant = _connect_front(world)

    await world.sandbox.post("/_sandbox/forge/install")

    assert world.tenant_id() == connect_tenant
    listed = await world.ui_call("GET", "/api/sessions")
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["sessions"]) == 1  # the Connect front's session, seen through Forge
    users = await world.ui_call("GET", "/api/assignable-users")  # the user's token, to /ex/jira/{cloudId}
    assert users.status_code == 200, users.text
    await world.sandbox.post("/_sandbox/forge/install")  # a reinstall: a new installationId, the same tenant
    assert world.tenant_id() == connect_tenant


async def test_a_forge_tenant_with_a_history_of_its_own_is_not_merged(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    forge_tenant = world.tenant_id()
    world.services.sessions.create(tenant_id=forge_tenant, project_key="DTG")
    connect_tenant = _connect_front(world)

    await world.sandbox.post("/_sandbox/forge/install")

    assert world.tenant_id() == forge_tenant != connect_tenant


async def test_a_site_without_the_connect_app_keeps_its_forge_tenant(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")

    tenant = world.services.tenants.get(world.tenant_id())

    assert tenant is not None and tenant.is_forge
    assert (
        world.runtime.stats.requests["GET /rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}"] == 1
    )  # it asked, and Jira had no Connect install to name


class _SignedBy:
    """The install-token check as it ends for a genuine uninstall of `client_key` (the RS256 check itself is
    tested in tests/web/test_lifecycle_security.py)."""

    def __init__(self, client_key: str) -> None:
        self.client_key = client_key

    async def verify(self, token: str, method: str, url: str) -> dict[str, Any]:
        return {"iss": self.client_key}


async def _connect_uninstalls(world: ForgeWorld) -> None:
    await uninstalled(
        json.dumps({"clientKey": CONNECT_KEY}).encode(),
        "token",
        "POST",
        "http://app.test/uninstalled",
        verifier=cast(InstallTokenVerifier, _SignedBy(CONNECT_KEY)),
        tenants=world.services.tenants,
        forge_installations=world.services.forge_installations,
    )


async def test_a_linked_site_that_removes_the_connect_app_keeps_its_history_through_forge(world: ForgeWorld) -> None:
    connect_tenant = _connect_front(world)
    await world.sandbox.post("/_sandbox/forge/install")
    assert world.tenant_id() == connect_tenant

    await _connect_uninstalls(world)

    tenant = world.services.tenants.get(connect_tenant)
    assert tenant is not None and tenant.active and tenant.is_forge  # one tenant, now reached through Forge
    assert world.services.tenants.find(CONNECT_KEY) is None  # no Connect token finds it any more
    assert system_auth(world.services.forge_installations, tenant) is not None  # exports carry the system token
    listed = await world.ui_call("GET", "/api/sessions")
    assert listed.status_code == 200 and len(listed.json()["sessions"]) == 1  # the Connect front's session
    await world.sandbox.post("/_sandbox/forge/install")  # a reinstall of Forge still finds it
    assert world.tenant_id() == connect_tenant


async def test_a_connect_uninstall_without_a_forge_app_staying_ends_the_tenant(world: ForgeWorld) -> None:
    connect_tenant = _connect_front(world)

    await _connect_uninstalls(world)

    tenant = world.services.tenants.get(connect_tenant, include_uninstalled=True)
    assert tenant is not None and not tenant.active and not tenant.is_forge


async def test_a_connect_tenant_of_another_site_is_never_joined(world: ForgeWorld) -> None:
    connect_tenant = _connect_front(world)
    with world.services.engine.begin() as connection:
        connection.execute(text("UPDATE tenants SET cloud_id = 'another-site' WHERE id = :id"), {"id": connect_tenant})

    await world.sandbox.post("/_sandbox/forge/install")

    assert world.tenant_id() != connect_tenant
