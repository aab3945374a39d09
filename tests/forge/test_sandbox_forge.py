"""The sandbox as Forge: it installs the app through the lifecycle trigger, fires the hourly trigger, rotates its
keys, and serves REST under /ex/jira/{cloudId}/rest/api/3 to bearer tokens only; the export runs through it.

Both apps run in this process (ASGI transports both ways): the app verifies the sandbox's FITs against the JWKS
it fetches from the sandbox, and calls the sandbox's REST API with the system token the sandbox issued.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.jira.auth import ForgeTokenExpiredError
from app.jira.errors import JiraAuthError
from app.pipeline.export import export_results, run_export, start_export
from app.pipeline.export.run import TOKEN_RETRY_SECONDS, TOKEN_WAIT_SECONDS, WAITING_FOR_TOKEN
from app.retries import RetryLater
from app.sandbox.forge.signing import ForgeSigner
from tests.export.helpers import FAST, Queue, assert_exported_exactly, synthetic_tickets
from tests.forge.conftest import SANDBOX_APP_ID as APP_ID
from tests.forge.conftest import ForgeWorld

pytestmark = [pytest.mark.integration, pytest.mark.forge, pytest.mark.anyio]


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


async def _expiring_install(world: ForgeWorld, monkeypatch: pytest.MonkeyPatch) -> int:
    """Installed with a system token that runs out within the minute (shorter than any call may rely on)."""
    signer = world.runtime.forge.signer
    monkeypatch.setattr(signer, "oauth_token", functools.partial(signer.oauth_token, ttl_seconds=30))
    await world.sandbox.post("/_sandbox/forge/install")
    monkeypatch.undo()
    tenant_id = world.tenant_id()
    upload = world.services.sessions.create(tenant_id=tenant_id, project_key="DTG")
    assert upload.id is not None
    world.services.tickets.save_drafts(tenant_id=tenant_id, session_id=upload.id, drafts=synthetic_tickets(5))
    return start_export(world.services, tenant_id, upload.id)


async def test_an_export_whose_token_ran_out_waits_for_the_next_trigger_and_then_finishes(
    world: ForgeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = await _expiring_install(world, monkeypatch)

    with pytest.raises(RetryLater) as waiting:
        await run_export(world.services, task_id, http=world.sandbox, policy=FAST)

    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "running" and task.current == WAITING_FOR_TOKEN
    assert waiting.value.delay == TOKEN_RETRY_SECONDS and world.runtime.store.issues == {}
    queue = world.services.jobs
    assert isinstance(queue, Queue)
    queued_before = list(queue.exports)
    fired = await world.sandbox.post("/_sandbox/forge/scheduled")  # the hourly trigger: a token for two hours
    assert fired.status_code == 200
    # The trigger sends the waiting export to a worker at once instead of leaving it to its 25-minute re-queue.
    assert queue.exports == [*queued_before, task_id]
    await run_export(world.services, task_id, http=world.sandbox, policy=FAST)  # the message the trigger sent
    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "done"
    tickets = world.services.tickets.list(tenant_id=world.tenant_id(), session_id=task.session_id or 0)
    assert_exported_exactly(world.runtime.store, tickets)  # each ticket once, none lost while waiting


async def test_an_export_fails_saying_so_when_no_token_came_within_the_hour(
    world: ForgeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = await _expiring_install(world, monkeypatch)
    later = time.time() + TOKEN_WAIT_SECONDS + 60  # the hourly triggers stopped coming

    with pytest.raises(ForgeTokenExpiredError):
        await run_export(world.services, task_id, http=world.sandbox, policy=FAST, clock=lambda: later)

    task = world.services.tasks.find(task_id)
    assert task is not None and task.state == "failed"
    assert task.message.startswith("No new Forge token arrived within the hour") and "open the app" in task.message


def _silent_since(world: ForgeWorld, hours: float) -> None:
    """Forge last called the app (and installed it) `hours` ago: the hourly triggers stopped then."""
    with world.services.engine.begin() as connection:
        connection.execute(
            text("UPDATE forge_installations SET last_invoked_at = :at, installed_at = :at"),
            {"at": datetime.now(UTC) - timedelta(hours=hours)},
        )


async def test_a_site_whose_triggers_stopped_and_whose_jira_answers_401_is_uninstalled(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    tenant_id = world.tenant_id()
    upload = world.services.sessions.create(tenant_id=tenant_id, project_key="DTG")
    assert upload.id is not None
    world.services.tickets.save_drafts(tenant_id=tenant_id, session_id=upload.id, drafts=synthetic_tickets(3))
    world.runtime.forge.installation = None  # uninstalled in Jira: its tokens get 401 from now on
    _silent_since(world, hours=3)

    with pytest.raises(JiraAuthError):
        await run_export(world.services, start_export(world.services, tenant_id, upload.id), http=world.sandbox)

    task = world.services.tasks.latest(tenant_id=tenant_id, session_id=upload.id, kind="export")
    assert task is not None and task.state == "failed" and "the app was uninstalled" in task.message
    assert world.services.forge_installations.active_site(tenant_id) is None
    # The tenant is uninstalled (its data purged in 30 days, as after a Connect uninstall) and refused from now on.
    assert world.services.tenants.get(tenant_id) is None
    assert world.services.tenants.get(tenant_id, include_uninstalled=True) is not None


async def test_a_401_while_forge_still_calls_leaves_the_site_installed(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    tenant_id = world.tenant_id()
    upload = world.services.sessions.create(tenant_id=tenant_id, project_key="DTG")
    assert upload.id is not None
    world.services.tickets.save_drafts(tenant_id=tenant_id, session_id=upload.id, drafts=synthetic_tickets(3))
    world.runtime.forge.installation = None
    _silent_since(world, hours=0.5)  # the last trigger came half an hour ago

    with pytest.raises(JiraAuthError):
        await run_export(world.services, start_export(world.services, tenant_id, upload.id), http=world.sandbox)

    assert world.services.forge_installations.active_site(tenant_id) is not None
