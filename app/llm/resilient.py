"""The shared policy around any provider: bounded concurrency, retries, output checks and the offline fallback."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from app.llm.base import (
    LLMError,
    LLMOutputInvalidError,
    LLMUnavailableError,
    Provider,
    TicketBrief,
    TicketProse,
    Usage,
    WriteResult,
)
from app.llm.offline import compose
from app.llm.validation import check_prose
from app.retries import Retrier, RetryPolicy, Sleep

log = logging.getLogger(__name__)

# A completion changes nothing, so timeouts and 5xx are retried like reads. A provider asking for a pause of more
# than a minute has a quota problem, not a burst: that ticket keeps the offline text.
DEFAULT_POLICY = RetryPolicy(attempts=4, base_delay=1.0, max_delay=30.0, max_wait=60.0, retry_after_jitter=1.0)


class ResilientWriter:
    """A `ProseWriter` around one provider.

    Each ticket gets a call, retried on transient errors by `policy` (`app.retries`; a pause too long to sleep
    through raises `RetryLater` out of the run, so the worker re-queues it). The answer is checked; a failing answer is
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
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self._slots = asyncio.Semaphore(concurrency)  # bounds calls to this provider across all runs using it
        self._timeout_s = timeout_s
        self._retrier = Retrier(policy, sleep=sleep)

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

        async def once() -> tuple[TicketProse, Usage]:
            tally.attempts += 1
            try:
                return await self._complete_once(brief, feedback)
            except LLMOutputInvalidError as exc:
                tally.usage += exc.usage
                raise

        prose, usage = await self._retrier.call(once, idempotent=True)
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
