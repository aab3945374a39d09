"""Tenants by clientKey for token verification, kept per process so a request costs no database query and no
decryption, and dropped everywhere at once when any tenant changes.

Every change to the tenants table (install, re-install with a new shared secret, uninstall, enable, disable, purge)
goes through `TenantRepository`, which bumps `TenantVersions` after its commit. Each lookup first reads the version;
a version this process has not seen empties its cache, so a request that starts after the change committed never
sees the old secret or the old state, in any process:

- `RedisVersions` (a deployment with `DTG_REDIS_URL`, any number of processes): one Redis counter, `INCR` on a
  change and one `GET` per lookup (tens of microseconds on the same network), sent by an asyncio client so a lookup
  takes no worker thread and a slow Redis holds up only the requests that wait on it. While Redis does not answer,
  nothing is cached: every lookup goes to the database, as without the cache.
- `LocalVersions` (the embedded mode: one process is the whole deployment): a counter in memory.

Entries also expire after `ttl_s` (a bound for a change whose bump itself failed) and the cache holds at most
`max_entries` tenants (least recently used go first). Unknown clientKeys are not cached.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.asyncio

from app.domain.installation import Installation

log = logging.getLogger(__name__)

VERSION_KEY = "dtg:tenants:version"
TTL_SECONDS = 30.0
MAX_ENTRIES = 1024
# After Redis failed, lookups skip it (and the cache) this long instead of waiting on every request.
REDIS_RETRY_AFTER_S = 1.0
REDIS_TIMEOUT_S = 0.5


class TenantVersions(Protocol):
    async def current(self) -> int | None:
        """The version of the tenants table, or None when it cannot be known now (then nothing may be cached)."""
        ...

    def bump(self) -> None:
        """Called after a change to the tenants table committed."""
        ...

    async def aclose(self) -> None:
        """Close the connections, on the event loop that read through them (the process is shutting down)."""
        ...


class LocalVersions:
    """For one process: the embedded mode, tests."""

    def __init__(self) -> None:
        self._version = 0
        self._lock = threading.Lock()

    async def current(self) -> int | None:
        return self._version

    def bump(self) -> None:
        with self._lock:
            self._version += 1

    async def aclose(self) -> None:
        pass


class RedisVersions:
    """One counter in Redis, shared by every process of the deployment."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        # Bumps come from worker threads (the repositories), reads from the event loop.
        self._redis = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
        self._reader: tuple[asyncio.AbstractEventLoop, redis.asyncio.Redis] | None = None
        self._clock = clock
        self._down_until = 0.0

    async def current(self) -> int | None:
        if self._clock() < self._down_until:
            return None
        try:
            value = await self._async_client().get(VERSION_KEY)
        except (redis.RedisError, OSError):
            self._failed("read")
            return None
        return int(value) if isinstance(value, bytes | str | int) else 0

    def _async_client(self) -> redis.asyncio.Redis:
        """The asyncio client of the running loop (its connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        if self._reader is None or self._reader[0] is not loop:
            reader = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
            )
            self._reader = (loop, reader)
        return self._reader[1]

    def bump(self) -> None:
        try:
            self._redis.incr(VERSION_KEY)
        except redis.RedisError:
            # Other processes keep what they cached for at most TTL_SECONDS; this one drops its own (the caller).
            self._failed("bump")

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        # A client of another loop cannot be closed from this one (its connections belong to that loop); one process
        # serves from one loop, which is the one that shuts it down.
        if reader is not None and reader[0] is asyncio.get_running_loop():
            await reader[1].aclose()
        self._redis.close()

    def _failed(self, what: str) -> None:
        log.warning("tenant cache: Redis did not answer the version %s; looking tenants up in the database", what)
        self._down_until = self._clock() + REDIS_RETRY_AFTER_S


@dataclass(frozen=True)
class _Entry:
    installation: Installation
    expires: float


class TenantCache:
    def __init__(
        self,
        load: Callable[[str], Awaitable[Installation | None]],
        versions: TenantVersions,
        *,
        ttl_s: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._versions = versions
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._seen: int | None = None

    async def find(self, client_key: str) -> Installation | None:
        """The active installation with this clientKey, as the database has it now."""
        # Read before the load: a change after it shows as a new version.
        version = await self._versions.current()
        if version is None or version != self._seen:
            self._entries.clear()
            self._seen = version
        entry = self._entries.get(client_key)
        now = self._clock()
        if entry is not None and entry.expires > now:
            self._entries.move_to_end(client_key)
            return entry.installation
        installation = await self._load(client_key)
        if installation is None or version is None or await self._versions.current() != version:
            # Unknown, uncacheable, or the tenants changed while this load ran (it may hold the old row).
            return installation
        self._entries[client_key] = _Entry(installation, now + self._ttl_s)
        self._entries.move_to_end(client_key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return installation

    async def aclose(self) -> None:
        await self._versions.aclose()

    def __len__(self) -> int:
        return len(self._entries)
