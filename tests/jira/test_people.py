"""Display names for stored account ids: asked of the sandbox's `GET /user/bulk`, cached per site."""

from __future__ import annotations

import httpx
import pytest

from app.jira.people import DisplayNames
from app.sandbox.models import ADMIN_USER, DEVELOPER_USER
from tests.export.helpers import World

pytestmark = [pytest.mark.unit, pytest.mark.export]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_names_come_from_jira_once_and_again_after_the_cache_expires(world: World) -> None:
    installation = world.services.tenants.get(world.tenant_id)
    assert installation is not None
    calls: list[httpx.URL] = []
    counting = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.sandbox_app),
        event_hooks={"request": [lambda request: _record(calls, request)]},
    )
    clock = Clock()
    names = DisplayNames(counting, world.settings.app_key, ttl_seconds=60, clock=clock)
    ids = [ADMIN_USER.account_id, DEVELOPER_USER.account_id, "deleted-account", None, ADMIN_USER.account_id]

    first = await names.names(installation, ids)
    second = await names.names(installation, ids[:2])
    clock.now = 61
    third = await names.names(installation, ids[:1])
    await counting.aclose()

    assert first == {
        ADMIN_USER.account_id: ADMIN_USER.display_name,
        DEVELOPER_USER.account_id: DEVELOPER_USER.display_name,
    }
    assert second == first
    assert third == {ADMIN_USER.account_id: ADMIN_USER.display_name}
    bulk = [url for url in calls if url.path.endswith("/user/bulk")]
    assert len(bulk) == 2  # the second answer came from the cache; the third asked again after 60 s
    assert sorted(bulk[0].params.get_list("accountId")) == sorted(
        [ADMIN_USER.account_id, DEVELOPER_USER.account_id, "deleted-account"]
    )


async def _record(calls: list[httpx.URL], request: httpx.Request) -> None:
    calls.append(request.url)


@pytest.mark.anyio
async def test_a_jira_that_refuses_leaves_the_names_out(world: World) -> None:
    installation = world.services.tenants.get(world.tenant_id)
    assert installation is not None
    down = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda request: httpx.Response(401, json={"errorMessages": ["no"]}))
    )
    names = DisplayNames(down, world.settings.app_key)
    assert await names.names(installation, [ADMIN_USER.account_id]) == {}
    await down.aclose()
