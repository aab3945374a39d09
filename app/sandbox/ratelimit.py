"""Jira Cloud's rate limiting, as a token bucket per tenant and app.

@see https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, tenant: str) -> float:
        """Spend one token; 0 when allowed, else the seconds until a token is back."""
        now = self._clock()
        bucket = self._buckets.setdefault(tenant, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def rejection_headers(self, wait_seconds: float) -> dict[str, str]:
        """The headers of Jira's 429: whole seconds in `Retry-After`, an ISO reset time."""
        reset = datetime.now(UTC) + timedelta(seconds=wait_seconds)
        return {
            "Retry-After": str(max(1, math.ceil(wait_seconds))),
            "X-RateLimit-Limit": str(self.burst),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "RateLimit-Reason": "jira-burst-based",
        }
