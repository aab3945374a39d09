"""Staying under a tenant's Jira rate limit instead of bouncing off it (retries are `app.retries`).

Jira Cloud limits each app per tenant and answers 429 with `Retry-After` when a caller goes faster.
@see https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
"""

from __future__ import annotations

import asyncio
import random
import time

from dramatiq.rate_limits import BucketRateLimiter, RateLimiterBackend


class TenantPacer:
    """Lets one call through per `1 / requests_per_second` seconds for a tenant, across every worker process.

    Dramatiq's bucket limiter with one call per bucket spreads calls evenly (no bursts at bucket edges); with the
    Redis backend all workers share the buckets, with the stub backend the processes' threads do.
    """

    def __init__(self, backend: RateLimiterBackend, tenant_key: str, requests_per_second: float) -> None:
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        self._bucket_ms = max(1, round(1000 / requests_per_second))
        self._limiter = BucketRateLimiter(backend, f"dtg-jira-pace:{tenant_key}", limit=1, bucket=self._bucket_ms)
        self._hold_until = 0.0

    async def wait(self) -> None:
        """Return when this process may make its next call to the tenant's Jira."""
        while True:
            pause = self._hold_until - time.time()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            with self._limiter.acquire(raise_on_failure=False) as acquired:
                if acquired:
                    return
            into_bucket = (time.time() * 1000) % self._bucket_ms
            # A little jitter so waiters do not all hit the backend at the same instant.
            await asyncio.sleep((self._bucket_ms - into_bucket) / 1000 + random.uniform(0, self._bucket_ms / 4000))

    def hold(self, seconds: float) -> None:
        """After a 429, nobody in this process calls again before Jira's `Retry-After` has passed."""
        self._hold_until = max(self._hold_until, time.time() + seconds)
