"""A site with both fronts is one tenant with one history: at install, Jira's reserved Connect-key app property
(read with the app's system token) names the Connect install, whose tenant the Forge installation joins."""

from __future__ import annotations

import pytest

from app.domain.installation import InstallPayload
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
