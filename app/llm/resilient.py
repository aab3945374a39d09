"""The shared policy around any provider: bounded concurrency, retries, output checks and the offline fallback."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.llm.base import (
    LLMError,
    LLMOutputInvalidError,
    LLMRateLimitedError,
    LLMUnavailableError,
    Provider,
    TicketBrief,
    TicketProse,
    Usage,
    WriteResult,
)
from app.llm.offline import compose
from app.llm.validation import check_prose

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of transient failures (rate limits, timeouts, 5xx) with full-jitter exponential backoff."""

    max_retries: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    # A provider asking for a longer pause than this has a quota problem, not a burst: give up on the ticket.
    max_retry_after_s: float = 60.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before retry number `retry` (1-based), or None when we should stop."""
        if retry > self.max_retries or (retry_after is not None and retry_after > self.max_retry_after_s):
            return None
        if retry_after is not None:
            # The server's hint is a floor; the jitter on top keeps parallel tickets from retrying in lockstep.
            return retry_after + rng.uniform(0, self.base_delay_s)
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1)))


class ResilientWriter:
    """A `ProseWriter` around one provider.

    Each ticket gets a call, retried on transient errors by `policy`. The answer is checked; a failing answer is
    asked for once more with the problems given back to the model. If the call finally fails or the second answer
    fails too, the ticket keeps the offline text and `WriteResult.flagged` says why. Only `LLMError`s are
    absorbed; anything else is a bug and propagates.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        concurrency: int = 8,
        timeout_s: float = 60.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.provider = provider
        self._slots = asyncio.Semaphore(concurrency)  # bounds calls to this provider across all runs using it
        self._timeout_s = timeout_s
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def write(self, brief: TicketBrief) -> WriteResult:
        """Write one ticket's prose; never raises an `LLMError`."""
        tally = _Tally()
        feedback: str | None = None
        try:
            for _ in range(2):  # the first answer, then one corrected answer
                try:
                    prose = await self._call(brief, feedback, tally)
                except LLMOutputInvalidError as exc:
                    feedback = exc.message
                    continue
                problems = check_prose(prose, brief)
                if not problems:
                    return self._result(brief, prose, tally, None)
                feedback = " ".join(problems)
            reason = f"The language model's answer failed the checks twice: {feedback}"
        except LLMError as exc:
            reason = f"The language model call failed: {exc.message}"
        log.warning("ticket %s keeps the offline text: %s", brief.key, reason)
        return self._result(brief, compose(brief), tally, f"{reason} The offline text was kept.")

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def _call(self, brief: TicketBrief, feedback: str | None, tally: _Tally) -> TicketProse:
        """One answer from the provider, retrying transient failures; invalid answers are raised, not retried."""
        retry = 0
        while True:
            tally.attempts += 1
            try:
                prose, usage = await self._complete_once(brief, feedback)
            except LLMOutputInvalidError as exc:
                tally.usage += exc.usage
                raise
            except (LLMRateLimitedError, LLMUnavailableError) as exc:
                retry += 1
                retry_after = exc.retry_after if isinstance(exc, LLMRateLimitedError) else None
                delay = self._policy.delay(retry, retry_after, self._rng)
                if delay is None:
                    raise
                log.info("ticket %s: %s Retry %d in %.1f s.", brief.key, exc.message, retry, delay)
                await self._sleep(delay)
                continue
            tally.usage += usage
            return prose

    async def _complete_once(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        # The slot is taken before the deadline starts, so waiting for a free slot never counts as a timeout.
        async with self._slots:
            try:
                async with asyncio.timeout(self._timeout_s):
                    return await self.provider.complete(brief, feedback)
            except TimeoutError as exc:
                raise LLMUnavailableError(f"No answer within {self._timeout_s:g} s.") from exc

    def _result(self, brief: TicketBrief, prose: TicketProse, tally: _Tally, flagged: str | None) -> WriteResult:
        return WriteResult(
            brief.key, prose, tally.usage, self.provider.name, self.provider.model, flagged, tally.attempts
        )


@dataclass
class _Tally:
    """What one ticket has spent so far, across retries and the corrected answer."""

    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
