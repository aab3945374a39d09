"""Jira Cloud's rate limiting: a token bucket per app, 429 with Retry-After and X-RateLimit-* headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.sandbox.ratelimit import RateLimiter

pytestmark = [pytest.mark.unit, pytest.mark.export]


@pytest.fixture
def config(config: Any) -> Any:
    config.rate_limit_per_second = 1.0
    config.rate_limit_burst = 3
    return config


@pytest.mark.anyio
async def test_past_the_burst_jira_answers_429_with_retry_after(jira: httpx.AsyncClient) -> None:
    statuses = [(await jira.get("/rest/api/3/myself")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await jira.get("/rest/api/3/myself")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Limit"] == "3" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in limited.headers


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_second=2, burst=2, clock=lambda: now[0])
    assert [limiter.take("app") for _ in range(3)] == [0, 0, 0.5]
    now[0] = 0.5
    assert limiter.take("app") == 0
    assert limiter.take("other-app") == 0
