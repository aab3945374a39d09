"""Staying under a tenant's Jira rate limit instead of bouncing off it, and retrying what is safe to retry.

Jira Cloud limits each app per tenant and answers 429 with `Retry-After` when a caller goes faster; it asks apps
to honour that header and otherwise back off exponentially with jitter.
@see https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from dramatiq.rate_limits import BucketRateLimiter, RateLimiterBackend

from app.jira.errors import JiraRateLimitedError, JiraUnavailableError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


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


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying a call: 429s wait `Retry-After`; 5xx and timeouts back off with full jitter."""

    attempts: int = 6
    rate_limited_attempts: int = 30
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Jira's search index can trail a create by a few seconds: after a create whose outcome is unknown, the
    # search for what it made is repeated after each of these waits (seconds) before concluding it made nothing.
    index_lag_waits: tuple[float, ...] = (1.0, 1.5, 2.5)

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    pacer: TenantPacer | None = None,
    retry_unavailable: bool = True,
) -> T:
    """Run `call`, waiting out 429s (always safe: Jira did nothing) and, if `retry_unavailable`, 5xx and timeouts.

    Calls that create something pass `retry_unavailable=False`: after a 5xx the work may have been done, so the
    caller must look before it tries again.

    Raises:
        JiraRateLimitedError: still limited after `policy.rate_limited_attempts` waits.
        JiraUnavailableError: still failing after `policy.attempts` tries (or at once without `retry_unavailable`).
        JiraError: any other failure, at once.
    """
    unavailable = limited = 0
    while True:
        try:
            return await call()
        except JiraRateLimitedError as exc:
            limited += 1
            if limited >= policy.rate_limited_attempts:
                raise
            delay = exc.retry_after + random.uniform(0, 0.25)
            if pacer is not None:
                pacer.hold(delay)
            await sleep(delay)
        except JiraUnavailableError:
            unavailable += 1
            if not retry_unavailable or unavailable >= policy.attempts:
                raise
            await sleep(policy.backoff(unavailable))
