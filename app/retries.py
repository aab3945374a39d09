"""The one retry policy for calls to Jira and to a language model.

The rules:
- A rate-limited call (429) did nothing, so it is sent again after the server's `Retry-After` plus a little jitter
  (Jira asks apps to honour the header and spread their retries). A wait longer than `max_inline_wait` is not slept
  in a worker: `RetryLater` carries it out, and the worker re-queues the message with that delay
  (`dramatiq.Retry(delay=...)`). With `max_wait` set, a longer wait than that is a quota problem, not a burst: the
  429 itself is raised (the language-model writer then keeps the offline text for that ticket).
- A failure whose outcome is unknown (5xx, timeout, cut connection) is retried in process only for idempotent calls:
  reads, and language-model completions (which change nothing). A write whose answer was lost goes through
  `Retrier.create_once`: wait, look for what it made, and create again only what is missing.
- Anything else (refused credentials, a bad request, not found) raises at once; the actors list those in `throws`.

Bounds: within one delivery of a message, any one request is sent at most `RetryPolicy.attempts` times (4 by
default), whatever mix of failures it meets, and a create is sent at most `attempts` times by `create_once`. A
worker delivers a message at most 1 + its actor's `max_retries` times (3 for the export), so any one request to Jira
is sent at most 4 x 4 = 16 times in all before its task fails.
@see https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
OnRateLimited = Callable[[float], None]


class RateLimited(Exception):
    """Mixed into an adapter's 429 error: the server did nothing and asked to be called again later."""

    retry_after: float | None


class OutcomeUnknown(Exception):
    """Mixed into an adapter's 5xx/timeout error: the call may or may not have taken effect."""


class RetryLater(Exception):
    """The server asked for a pause too long to sleep through in a worker; re-queue the message after `delay`."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"The server asked to wait {delay:.0f} s before calling again.")
        self.delay = delay


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; see the module docstring for the rules."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Retry-After beyond this is handed to the queue (`RetryLater`) instead of holding a worker's event loop.
    max_inline_wait: float = 5.0
    max_wait: float | None = None
    # A 429 without a usable Retry-After waits this long.
    default_retry_after: float = 2.0
    retry_after_jitter: float = 0.25
    # Jira's search index can trail a create by a few seconds: after a create whose outcome is unknown, the export
    # searches again after each of these waits (seconds) before concluding it made nothing.
    index_lag_waits: tuple[float, ...] = (1.0, 1.5, 2.5)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1: the first send is an attempt")

    def backoff(self, failures: int) -> float:
        """Full-jitter exponential backoff before the next try after `failures` failures (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (failures - 1)))

    def rate_limit_wait(self, retry_after: float | None) -> float:
        """Seconds to wait after a 429: the server's hint is a floor, the jitter keeps callers out of lockstep."""
        floor = self.default_retry_after if retry_after is None else max(0.0, retry_after)
        return floor + random.uniform(0, self.retry_after_jitter)


class Retrier:
    """A `RetryPolicy` bound to a sleep (tests pass a fast one) and to whoever must hear of a 429 (a shared pace)."""

    def __init__(
        self, policy: RetryPolicy, *, sleep: Sleep = asyncio.sleep, on_rate_limited: OnRateLimited | None = None
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self._on_rate_limited = on_rate_limited

    async def call(self, call: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        """`call()`, retried as the module docstring says; `idempotent=False` for writes.

        Raises:
            RetryLater: the server asked for a longer pause than `max_inline_wait`.
            RateLimited, OutcomeUnknown: still failing after `policy.attempts` sends (`OutcomeUnknown` at once for a
                write, `RateLimited` at once when the server asks for more than `max_wait`).
            Exception: anything else `call` raises, at once.
        """
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return await call()
            except RateLimited as exc:
                wait = self.policy.rate_limit_wait(exc.retry_after)
                if self._on_rate_limited is not None:
                    self._on_rate_limited(wait)
                if self.policy.max_wait is not None and wait > self.policy.max_wait:
                    raise
                if wait > self.policy.max_inline_wait:
                    raise RetryLater(wait) from exc
                if attempt == self.policy.attempts:
                    raise
                await self.sleep(wait)
            except OutcomeUnknown:
                if not idempotent or attempt == self.policy.attempts:
                    raise
                await self.sleep(self.policy.backoff(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def create_once(self, create: Callable[[], Awaitable[T]], look: Callable[[], Awaitable[bool]]) -> T | None:
        """Create something exactly once although answers get lost.

        `create()` makes whatever is still missing (so it must read what `look` found); `look()` records what
        exists and says whether nothing is missing any more. After a create whose outcome is unknown: wait, look,
        and create again only if something is missing. The look also follows the last failed create, so a
        redelivered message does not meet a search index that trails it.

        Returns `create()`'s result, or None when the look found everything made.

        Raises:
            OutcomeUnknown: still unknown after `policy.attempts` creates (what they made has been recorded).
            Exception: anything else `create` or `look` raises.
        """
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return await self.call(create, idempotent=False)
            except OutcomeUnknown:
                if attempt < self.policy.attempts:
                    await self.sleep(self.policy.backoff(attempt))
                if await look():
                    return None
                if attempt == self.policy.attempts:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")
