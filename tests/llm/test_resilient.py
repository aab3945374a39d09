"""The retry policy and the writer's deadline, independent of any vendor."""

from __future__ import annotations

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
from app.retries import RetryLater

if TYPE_CHECKING:
    from conftest import BriefFactory, RecordedSleep


pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=8.0)
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(failures) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step


@pytest.mark.anyio
async def test_a_call_past_the_deadline_is_retried_then_flagged(sleep: RecordedSleep, make_brief: BriefFactory) -> None:
    provider = SimulatedProvider(latency_s=5)
    writer = ResilientWriter(provider, timeout_s=0.01, policy=RetryPolicy(attempts=2), sleep=sleep)
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
async def test_a_rate_limit_without_a_hint_waits_the_default_pause(
    sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    writer = ResilientWriter(_RateLimitedOnce(), policy=RetryPolicy(default_retry_after=2.0), sleep=sleep)
    result = await writer.write(make_brief())

    assert result.flagged is None and result.usage == Usage(10, 5, 0.01)
    assert len(sleep.delays) == 1 and 2.0 <= sleep.delays[0] <= 2.25


class _AsksForAPause(_RateLimitedOnce):
    """A provider whose every answer asks for a pause of `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__()
        self.retry_after = retry_after

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        self.calls += 1
        raise LLMRateLimitedError("slow down", retry_after=self.retry_after)


@pytest.mark.anyio
async def test_a_pause_of_some_seconds_requeues_the_run_and_a_quota_sized_one_keeps_the_offline_text(
    sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    burst = _AsksForAPause(20.0)
    with pytest.raises(RetryLater) as raised:  # the worker turns this into dramatiq.Retry(delay=...)
        await ResilientWriter(burst, sleep=sleep).write(make_brief())
    assert 20.0 <= raised.value.delay <= 21.0 and burst.calls == 1 and sleep.delays == []

    quota = _AsksForAPause(3600.0)
    result = await ResilientWriter(quota, sleep=sleep).write(make_brief())
    assert quota.calls == 1 and sleep.delays == [] and "slow down" in (result.flagged or "")
