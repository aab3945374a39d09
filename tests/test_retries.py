"""The one retry policy: what is retried in process, what is handed to the queue, and how often anything is sent."""

from __future__ import annotations

import pytest

from app.jira.errors import JiraBadRequestError, JiraRateLimitedError, JiraUnavailableError
from app.llm.base import LLMRateLimitedError, LLMUnavailableError
from app.retries import Retrier, RetryLater, RetryPolicy

pytestmark = [pytest.mark.unit, pytest.mark.export]

POLICY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0, max_inline_wait=5.0, retry_after_jitter=0.25)


class Script:
    """A call that raises the scripted errors in turn, then answers "ok"; it counts what was sent."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent = 0

    async def __call__(self) -> str:
        self.sent += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def limited(retry_after: float | None) -> JiraRateLimitedError:
    return JiraRateLimitedError("slow down", retry_after=retry_after)


@pytest.mark.anyio
async def test_a_429_waits_at_least_retry_after_with_jitter_and_tells_the_shared_pace() -> None:
    sleeps, heard = Sleeps(), []
    retrier = Retrier(POLICY, sleep=sleeps, on_rate_limited=heard.append)
    call = Script(limited(1.0), limited(2.0))
    assert await retrier.call(call, idempotent=False) == "ok"  # a 429 did nothing, so even a write is sent again
    assert call.sent == 3
    assert 1.0 <= sleeps[0] <= 1.25 and 2.0 <= sleeps[1] <= 2.25
    assert heard == sleeps


@pytest.mark.anyio
async def test_a_long_retry_after_is_handed_to_the_queue_instead_of_slept() -> None:
    sleeps = Sleeps()
    call = Script(limited(30.0))
    with pytest.raises(RetryLater) as raised:
        await Retrier(POLICY, sleep=sleeps).call(call, idempotent=True)
    assert 30.0 <= raised.value.delay <= 30.25
    assert call.sent == 1 and sleeps == []


@pytest.mark.anyio
async def test_unknown_outcomes_are_retried_for_reads_only() -> None:
    sleeps = Sleeps()
    read = Script(JiraUnavailableError("502"), LLMUnavailableError("timeout"))
    assert await Retrier(POLICY, sleep=sleeps).call(read, idempotent=True) == "ok"
    assert read.sent == 3 and len(sleeps) == 2 and all(0 <= s <= 8.0 for s in sleeps)

    write = Script(JiraUnavailableError("502"))
    with pytest.raises(JiraUnavailableError):
        await Retrier(POLICY, sleep=sleeps).call(write, idempotent=False)
    assert write.sent == 1


@pytest.mark.anyio
async def test_no_request_is_sent_more_than_attempts_times_whatever_the_mix_of_failures() -> None:
    errors = [limited(0.1), JiraUnavailableError("502"), LLMRateLimitedError("429", retry_after=None)] * 5
    call = Script(*errors)
    with pytest.raises((JiraUnavailableError, JiraRateLimitedError, LLMRateLimitedError)):
        await Retrier(POLICY, sleep=Sleeps()).call(call, idempotent=True)
    assert call.sent == POLICY.attempts


@pytest.mark.anyio
async def test_a_permanent_error_is_raised_at_once() -> None:
    call = Script(JiraBadRequestError("no", messages=["no"], field_errors={}))
    with pytest.raises(JiraBadRequestError):
        await Retrier(POLICY, sleep=Sleeps()).call(call, idempotent=True)
    assert call.sent == 1


@pytest.mark.anyio
async def test_create_once_looks_before_creating_again_and_stops_when_the_look_finds_it() -> None:
    made: list[str] = []
    looks = 0

    async def create() -> str:
        made.append("issue")
        raise JiraUnavailableError("answer lost")  # Jira made it, but we cannot know

    async def look() -> bool:
        nonlocal looks
        looks += 1
        return bool(made)

    assert await Retrier(POLICY, sleep=Sleeps()).create_once(create, look) is None
    assert made == ["issue"] and looks == 1


@pytest.mark.anyio
async def test_create_once_gives_up_after_attempts_creates_and_looks_after_the_last_one() -> None:
    looks = 0
    create = Script(*[JiraUnavailableError("502")] * 10)

    async def look() -> bool:
        nonlocal looks
        looks += 1
        return False

    with pytest.raises(JiraUnavailableError):
        await Retrier(POLICY, sleep=Sleeps()).create_once(create, look)
    assert create.sent == POLICY.attempts and looks == POLICY.attempts


def test_a_policy_must_allow_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
