"""The JSON API through the Forge front: invokeRemote's FIT replaces the context token, the rest is unchanged.

Jira calls made for these requests carry the calling user's token to /ex/jira/{cloudId}/rest/api/3.
"""

from __future__ import annotations

import pytest

from app.domain.installation import InstallPayload
from app.sandbox.models import ADMIN_USER, DEVELOPER_USER
from tests.forge.conftest import ForgeWorld

pytestmark = [pytest.mark.integration, pytest.mark.forge, pytest.mark.anyio]


async def test_a_custom_ui_call_is_the_forge_tenants_user_on_its_project(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")

    me = await world.ui_call("GET", "/api/me")

    assert me.status_code == 200, me.text
    assert me.json()["accountId"] == ADMIN_USER.account_id
    assert me.json()["siteUrl"] == world.runtime.forge.site_url
    assert me.json()["context"]["jira"]["project"]["key"] == "DTG"


async def test_sessions_opened_through_forge_belong_to_the_forge_tenant_only(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    connect = world.services.tenants.save_installed(
        InstallPayload(client_key="jira:other-site", shared_secret="s" * 40, base_url="https://other.atlassian.net")
    )
    theirs = world.services.sessions.create(tenant_id=connect.id, project_key="DTG")

    created = await world.ui_call("POST", "/api/sessions", json={})
    listed = await world.ui_call("GET", "/api/sessions")
    foreign = await world.ui_call("GET", f"/api/sessions/{theirs.id}")

    assert created.status_code == 201, created.text
    assert [s["id"] for s in listed.json()["sessions"]] == [created.json()["id"]]
    assert foreign.status_code == 404
    mine = world.services.sessions.get(created.json()["id"], tenant_id=world.tenant_id())
    assert mine.project_key == "DTG" and mine.tenant_id != connect.id


async def test_jira_is_asked_with_the_users_token(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")

    users = await world.ui_call("GET", "/api/assignable-users")

    assert users.status_code == 200, users.text
    assert ADMIN_USER.account_id in {u["accountId"] for u in users.json()["users"]}
    assert world.runtime.stats.requests["GET /rest/api/3/user/assignable/search"] == 1
    forge = world.runtime.forge
    assert forge.installation is not None
    fit = forge.signer.invocation_token(
        forge.installation, account_id=ADMIN_USER.account_id, extension={"project": {"key": "DTG"}}
    )
    system_only = {
        "Authorization": f"Bearer {fit}",
        "x-forge-oauth-system": forge.signer.oauth_token(forge.installation),
    }
    refused = await world.app.get("/api/assignable-users", headers=system_only)  # without the user's token
    assert refused.status_code == 403 and "no valid Forge token" in refused.json()["error"]["message"]


async def test_only_jira_admins_open_the_settings_through_forge(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")

    admin = await world.ui_call("GET", "/api/admin/settings")
    developer = await world.ui_call("GET", "/api/admin/settings", account_id=DEVELOPER_USER.account_id)

    assert admin.status_code == 200, admin.text
    assert developer.status_code == 403


async def test_a_call_without_a_user_or_with_a_forged_fit_is_refused(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    forge = world.runtime.forge
    assert forge.installation is not None
    trigger_style = forge.signer.invocation_token(forge.installation)  # no principal

    no_user = await world.app.get("/api/me", headers={"Authorization": f"Bearer {trigger_style}"})
    garbage = await world.app.get("/api/me", headers={"Authorization": "Bearer not.a.token"})

    assert no_user.status_code == 401 and garbage.status_code == 401
