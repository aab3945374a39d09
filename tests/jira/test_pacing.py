"""The shared pace: a 429 one worker sees pauses every worker calling that Jira site, and no other site."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from dramatiq.rate_limits import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from app.jira.pacing import TenantPacer


async def _seconds_to_wait(pacer: TenantPacer) -> float:
    started = time.monotonic()
    await pacer.wait()
    return time.monotonic() - started


async def _a_429_pauses_the_site_for_every_worker(backend: RateLimiterBackend) -> None:
    site, other_site = f"jira:{uuid.uuid4()}", f"jira:{uuid.uuid4()}"
    # Each pacer is what one worker process builds; they share nothing but the backend.
    seeing_the_429, other_worker = TenantPacer(backend, site, 50), TenantPacer(backend, site, 50)
    other_site_worker = TenantPacer(backend, other_site, 50)
    assert not other_worker.paused()

    seeing_the_429.hold(1.0)
    assert other_worker.paused() and not other_site_worker.paused()
    waited, other_site_waited = await asyncio.gather(
        _seconds_to_wait(other_worker), _seconds_to_wait(other_site_worker)
    )
    assert 0.9 <= waited <= 1.6 and other_site_waited < 0.2
    assert not other_worker.paused()


@pytest.mark.unit
@pytest.mark.export
@pytest.mark.anyio
async def test_a_429_pauses_every_worker_of_the_site_with_the_in_memory_backend() -> None:
    await _a_429_pauses_the_site_for_every_worker(StubBackend())


@pytest.mark.integration
@pytest.mark.export
@pytest.mark.anyio
async def test_a_429_pauses_every_worker_of_the_site_through_redis(redis_url: str) -> None:
    await _a_429_pauses_the_site_for_every_worker(RedisBackend(url=redis_url))
