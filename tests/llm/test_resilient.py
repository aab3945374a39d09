"""The retry policy and the writer's deadline, independent of any vendor."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from app.llm import (
    LLMRateLimitedError,
    ResilientWriter,
    RetryPolicy,
    SimulatedProvider,
    TicketBrief,
    TicketProse,
    Usage,
)

if TYPE_CHECKING:
    from conftest import BriefFactory, RecordedSleep


pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(max_retries=10, base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.delay(retry, None, rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step


def test_retry_after_is_a_floor_and_too_long_a_pause_or_too_many_retries_stop() -> None:
    policy = RetryPolicy(max_retries=2, base_delay_s=1.0, max_retry_after_s=60)
    rng = random.Random(2)
    assert all(5 <= policy.delay(1, 5.0, rng) <= 6 for _ in range(100))
    assert policy.delay(1, 61.0, rng) is None
    assert policy.delay(3, None, rng) is None


@pytest.mark.anyio
async def test_a_call_past_the_deadline_is_retried_then_flagged(sleep: RecordedSleep, make_brief: BriefFactory) -> None:
    provider = SimulatedProvider(latency_s=5)
    writer = ResilientWriter(provider, timeout_s=0.01, policy=RetryPolicy(max_retries=1), sleep=sleep)
    result = await writer.write(make_brief())

    assert provider.calls == 2 and result.attempts == 2
    assert result.flagged == "The language model call failed: No answer within 0.01 s. The offline text was kept."


class _RateLimitedOnce:
    """Rate-limits the first call and answers the second with a fixed text."""

    name = "scripted"
    model = "gpt-4o-mini"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        self.calls += 1
        if self.calls == 1:
            raise LLMRateLimitedError("slow down", retry_after=None)
        return TicketProse("As a visitor, I want pages, so that I can read.", ("One.", "Two.")), Usage(10, 5, 0.01)

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.mark.anyio
async def test_a_rate_limit_without_a_hint_uses_the_backoff(sleep: RecordedSleep, make_brief: BriefFactory) -> None:
    writer = ResilientWriter(
        _RateLimitedOnce(), policy=RetryPolicy(base_delay_s=2.0), sleep=sleep, rng=random.Random(3)
    )
    result = await writer.write(make_brief())

    assert result.flagged is None and result.usage == Usage(10, 5, 0.01)
    assert len(sleep.delays) == 1 and 0 <= sleep.delays[0] <= 2.0
