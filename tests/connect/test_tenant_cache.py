"""The per-process tenant cache behind token verification: no query and no decryption per request while a tenant is
cached, and every process refuses a re-installed (new secret), disabled or uninstalled tenant's old state at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from starlette.testclient import TestClient

from app.container import build_services
from app.db.migrate import upgrade
from app.db.tenant_cache import LocalVersions, RedisVersions, TenantCache
from app.domain.installation import Installation
from app.main import create_app
from tests.support import RecordingQueue, make_settings
from tests.web.conftest import BASE_URL, KEYS_URL, Jira, KeyServer


def _installation(key: str, secret: str = "s") -> Installation:
    return Installation(1, key, "https://a.atlassian.net", "https://a.atlassian.net", secret)


class Loads:
    def __init__(self) -> None:
        self.rows = {"jira:a": _installation("jira:a"), "jira:b": _installation("jira:b")}
        self.calls: list[str] = []

    async def __call__(self, client_key: str) -> Installation | None:
        self.calls.append(client_key)
        return self.rows.get(client_key)


def _find(cache: TenantCache, key: str) -> Installation | None:
    return asyncio.run(cache.find(key))


@pytest.mark.unit
@pytest.mark.connect
def test_a_cached_tenant_costs_no_load_until_any_tenant_changes() -> None:
    loads, versions = Loads(), LocalVersions()
    cache = TenantCache(loads, versions)
    assert _find(cache, "jira:a") == _find(cache, "jira:a") == loads.rows["jira:a"]
    assert loads.calls == ["jira:a"]

    loads.rows["jira:a"] = _installation("jira:a", secret="new")
    versions.bump()  # what TenantRepository does after its commit
    assert _find(cache, "jira:a") == loads.rows["jira:a"] and loads.calls == ["jira:a", "jira:a"]


@pytest.mark.unit
@pytest.mark.connect
def test_entries_expire_the_cache_is_bounded_and_unknown_keys_are_not_kept() -> None:
    now = [0.0]
    loads = Loads()
    cache = TenantCache(loads, LocalVersions(), ttl_s=30, max_entries=1, clock=lambda: now[0])
    _find(cache, "jira:a")
    now[0] = 31.0
    _find(cache, "jira:a")
    assert loads.calls == ["jira:a", "jira:a"]  # expired
    _find(cache, "jira:b")
    assert len(cache) == 1
    _find(cache, "jira:a")
    assert loads.calls[-1] == "jira:a"  # evicted by b
    assert _find(cache, "jira:nobody") is None and _find(cache, "jira:nobody") is None
    assert loads.calls.count("jira:nobody") == 2


@pytest.mark.unit
@pytest.mark.connect
def test_a_load_that_raced_a_change_is_not_kept() -> None:
    versions = LocalVersions()
    loads = Loads()

    async def racing(client_key: str) -> Installation | None:
        versions.bump()  # the tenants changed while this (possibly old) row was read
        return await loads(client_key)

    cache = TenantCache(racing, versions)
    _find(cache, "jira:a")
    assert len(cache) == 0


@pytest.mark.unit
@pytest.mark.connect
def test_while_redis_does_not_answer_nothing_is_cached() -> None:
    loads = Loads()
    versions = RedisVersions("redis://127.0.0.1:1/0")  # nothing listens there
    cache = TenantCache(loads, versions)
    _find(cache, "jira:a")
    _find(cache, "jira:a")
    assert loads.calls == ["jira:a", "jira:a"] and len(cache) == 0
    versions.bump()  # logged, not raised: the install itself must not fail on the cache


class Process:
    """One app process: its own Services (so its own cache) on the shared database and Redis."""

    def __init__(self, tmp_path: Path, redis_url: str, keys: KeyServer) -> None:
        settings = make_settings(
            tmp_path, DTG_BASE_URL=BASE_URL, DTG_CONNECT_INSTALL_KEYS_URL=KEYS_URL, DTG_REDIS_URL=redis_url
        )
        self.services = build_services(
            settings, RecordingQueue(), http=httpx.AsyncClient(transport=httpx.MockTransport(keys.handle))
        )
        self.client = TestClient(create_app(settings, RecordingQueue(), services=self.services), base_url=BASE_URL)
        self.loads = 0
        find = self.services.tenants.find

        def counted(client_key: str, *, include_uninstalled: bool = False) -> Installation | None:
            self.loads += 1
            return find(client_key, include_uninstalled=include_uninstalled)

        setattr(self.services.tenants, "find", counted)  # noqa: B010 (counting the database lookups)

    def me(self, token: str) -> int:
        return self.client.get("/api/me", headers={"Authorization": f"JWT {token}"}).status_code


@pytest.fixture
def two_processes(tmp_path: Path, redis_url: str) -> Iterator[tuple[Process, Process, Jira]]:
    keys = KeyServer()
    one, two = Process(tmp_path, redis_url, keys), Process(tmp_path, redis_url, keys)
    upgrade(one.services.settings.database_url)
    with one.client, two.client:
        yield one, two, Jira(one.client, keys)
    for process in (one, two):
        process.services.engine.dispose()


def lifecycle(site: Jira, path: str) -> int:
    token = site.signed_path(path, method="POST").split("jwt=", 1)[1]
    return site.client.post(path, json=site.payload(), headers={"Authorization": f"JWT {token}"}).status_code


@pytest.mark.integration
@pytest.mark.connect
def test_every_process_refuses_a_changed_tenant_at_once(two_processes: tuple[Process, Process, Jira]) -> None:
    one, two, site = two_processes
    site.install()  # through process one
    old = site.context_token()
    assert [two.me(old) for _ in range(5)] == [200] * 5
    assert two.loads == 1  # cached: one lookup for five requests

    # A re-install through process one brings a new shared secret: process two refuses the old one at once.
    old_secret, site.shared_secret = site.shared_secret, "n" * 64
    site.install()
    assert two.me(old) == 401 and two.me(site.context_token()) == 200
    assert two.me(site.context_token(secret=old_secret)) == 401

    assert lifecycle(site, "/disabled") == 204
    assert two.me(site.context_token()) == 401
    assert lifecycle(site, "/enabled") == 204
    assert two.me(site.context_token()) == 200

    assert site.post_lifecycle("/uninstalled", site.install_token("/uninstalled")).status_code == 204
    assert two.me(site.context_token()) == 401 and one.me(site.context_token()) == 401


@pytest.mark.unit
@pytest.mark.connect
def test_a_redis_that_does_not_answer_holds_up_only_the_lookup() -> None:
    """The version is read without blocking the event loop: other requests go on while Redis stays silent, and the
    lookup gives up after the socket timeout and goes to the database."""

    async def scenario() -> tuple[int, Installation | None, list[str]]:
        accepted: list[asyncio.StreamWriter] = []

        async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)  # reads nothing, answers nothing

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loads = Loads()
        cache = TenantCache(loads, RedisVersions(f"redis://127.0.0.1:{port}/0"))
        ticks = 0

        async def other_requests() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(other_requests())
        try:
            found = await cache.find("jira:a")
        finally:
            ticking.cancel()
            await cache.aclose()
            server.close()
            for writer in accepted:
                writer.close()
        return ticks, found, loads.calls

    ticks, found, calls = asyncio.run(scenario())
    assert ticks >= 20  # the loop ran on through the 0.5 s the lookup waited
    assert found == _installation("jira:a") and calls == ["jira:a"]


def _connections_to(url: str) -> int:
    """Connections to the test's Redis database, other than the one counting them."""
    counter = redis.Redis.from_url(url)
    try:
        me = counter.client_id()
        db = counter.connection_pool.connection_kwargs.get("db", 0)
        return sum(1 for c in counter.client_list() if int(c["db"]) == db and int(c["id"]) != me)
    finally:
        counter.close()


@pytest.mark.integration
@pytest.mark.connect
def test_closing_the_services_closes_the_cache_connection_to_redis(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, DTG_REDIS_URL=redis_url)
    upgrade(settings.database_url)
    services = build_services(settings, RecordingQueue())

    async def scenario() -> list[int]:
        before = _connections_to(redis_url)  # earlier tests' clients may linger until collected
        await services.tenant_cache.find("jira:nobody")  # reads the version through the asyncio client
        opened = _connections_to(redis_url)
        await services.aclose()
        return [opened - before, _connections_to(redis_url) - before]

    assert asyncio.run(scenario()) == [1, 0]
