"""Staying under a tenant's Jira rate limit instead of bouncing off it (retries are `app.retries`).

Jira Cloud applies three limits to an app at once: a points quota per hour (each call costs a point plus one per
object it returns; writes cost only the point), shared by all tenants in the app's global pool (tier 1) or per
tenant (tier 2); a burst limit per second for one tenant, one endpoint and one HTTP method; and a write limit per
issue. It answers 429 with `Retry-After` when any is exceeded, and asks apps to pace themselves and to pause on a
429. Atlassian does not publish the per-second figures, so the default pace (`DTG_JIRA_REQUESTS_PER_SECOND`, 10)
starts from the 10 calls a second its guide uses for an app's budget: 36,000 write points an hour at most, inside a
tenant's hourly quota, and well under any endpoint's burst limit.
@see https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
@see https://developer.atlassian.com/cloud/jira/platform/build-an-app-that-respects-rate-limits/
"""

from __future__ import annotations

import asyncio
import random
import time

from dramatiq.rate_limits import BucketRateLimiter, RateLimiterBackend

PAUSE_POLL_SECONDS = 0.25


class TenantPacer:
    """Lets one call through per `1 / requests_per_second` seconds for a tenant, across every worker process.

    Dramatiq's bucket limiter with one call per bucket spreads calls evenly (no bursts at bucket edges); with the
    Redis backend all workers share the buckets, with the stub backend the processes' threads do. A 429 pauses the
    tenant for everyone sharing the backend: `hold` sets a key that lives as long as the pause, and `wait` does not
    let a call through while it exists.
    """

    def __init__(self, backend: RateLimiterBackend, tenant_key: str, requests_per_second: float) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        self._backend = backend
        self._bucket_ms = max(1, round(1000 / requests_per_second))
        self._limiter = BucketRateLimiter(backend, f"dtg-jira-pace:{tenant_key}", limit=1, bucket=self._bucket_ms)
        self._pause_key = f"dtg-jira-pause:{tenant_key}"
        self._hold_until = 0.0

    async def wait(self) -> None:
        """Return when this process may make its next call to the tenant's Jira."""
        while True:
            pause = self._hold_until - time.time()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            if self.paused():
                # Another worker saw the 429 and knows how long; look again shortly (jittered).
                await asyncio.sleep(PAUSE_POLL_SECONDS * random.uniform(0.8, 1.2))
                continue
            with self._limiter.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    return
            into_bucket = (time.time() * 1000) % self._bucket_ms
            # A little jitter so waiters do not all hit the backend at the same instant.
            await asyncio.sleep((self._bucket_ms - into_bucket) / 1000 + random.uniform(0, self._bucket_ms / 4000))

    def hold(self, seconds: float) -> None:
        """After a 429: no worker calls the tenant's Jira again before `seconds` (Jira's `Retry-After`) have passed."""
        self._hold_until = max(self._hold_until, time.time() + seconds)
        # 0 or absent: no pause. A pause already set keeps its own end.
        self._backend.incr(self._pause_key, 1, 1, max(1, round(seconds * 1000)))

    def paused(self) -> bool:
        """Whether any worker's 429 pauses the tenant now (adding 0 fails only while the pause key holds 1)."""
        return not self._backend.incr(self._pause_key, 0, 0, 1)
