"""Running the writer over a whole batch, and what the settings page needs: a cost estimate and a connectivity check."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.llm.base import LLMConfig, LLMError, ProseWriter, Provider, TicketBrief, Usage, WriteResult
from app.llm.offline import OfflineProvider
from app.llm.pricing import pricing_note, usage_for
from app.llm.prompts import approx_prompt_tokens
from app.llm.resilient import DEFAULT_POLICY, ResilientWriter
from app.retries import Sleep

if TYPE_CHECKING:  # httpx loads click (its own CLI); the pure libraries import neither at run time
    import httpx

log = logging.getLogger(__name__)

# A typical answer: a 40-word story and about eight criteria of 20 words.
EXPECTED_OUTPUT_TOKENS = 300

OnResult = Callable[[WriteResult], Awaitable[None] | None]


@dataclass(frozen=True)
class RunReport:
    """The outcome of a run: results in input order, and the keys a cancellation left unwritten."""

    results: tuple[WriteResult, ...]
    not_written: tuple[str, ...] = ()

    @property
    def cancelled(self) -> bool:
        return bool(self.not_written)

    @property
    def usage(self) -> Usage:
        return sum((result.usage for result in self.results), Usage())

    @property
    def flagged(self) -> int:
        return sum(result.flagged is not None for result in self.results)

    @property
    def pricing_note(self) -> str | None:
        return pricing_note({result.model for result in self.results})


@dataclass(frozen=True)
class CostEstimate:
    """What a run should cost before it starts, assuming one call per ticket and no retries."""

    tickets: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    note: str | None


@dataclass(frozen=True)
class ConnectivityResult:
    ok: bool
    message: str


def build_provider(
    config: LLMConfig, http_client: httpx.AsyncClient | None = None, *, close_client: bool = False
) -> Provider:
    """The provider `config` names; a shared `http_client` lets tests and the app choose the transport, and
    `close_client` hands it over, to be closed with the provider.

    Each SDK is imported only when its provider is built: importing it costs a second, and the offline path (the
    default, the tests, `dtg --help`) never needs it.
    """
    match config.provider:
        case "openai" | "openai_compatible":
            from app.llm.openai_provider import OpenAIProvider

            return OpenAIProvider.from_config(config, http_client, close_client=close_client)
        case "anthropic":
            from app.llm.anthropic_provider import AnthropicProvider

            return AnthropicProvider.from_config(config, http_client, close_client=close_client)
        case _:
            return OfflineProvider()


def build_writer(
    config: LLMConfig,
    http_client: httpx.AsyncClient | None = None,
    *,
    close_client: bool = False,
    sleep: Sleep = asyncio.sleep,
) -> ResilientWriter:
    """The writer for `config`: its provider behind our retry, validation and fallback policy.

    Share one writer among runs with the same configuration so its concurrency bound holds across them; close it
    with `await writer.aclose()` when it opened its own HTTP client or was handed one (`close_client`).
    """
    return ResilientWriter(
        build_provider(config, http_client, close_client=close_client),
        concurrency=config.concurrency,
        timeout_s=config.timeout_s,
        policy=dataclasses.replace(DEFAULT_POLICY, attempts=config.max_retries + 1),
        sleep=sleep,
    )


async def write_all(
    briefs: Sequence[TicketBrief],
    writer: ProseWriter,
    *,
    concurrency: int = 8,
    on_result: OnResult | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> RunReport:
    """Write every brief with at most `concurrency` tickets in progress.

    `on_result` sees each result as it lands (to store it or report progress) and may be a coroutine function.
    `is_cancelled` is asked before each ticket starts; once it says yes no new ticket starts, the ones in flight
    finish (their tokens are already being spent), and the rest are listed in `RunReport.not_written`.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    results: list[WriteResult | None] = [None] * len(briefs)
    queue = iter(enumerate(briefs))  # shared by the workers; asyncio never switches between next() and its use

    async def work() -> None:
        for index, brief in queue:
            if is_cancelled is not None and is_cancelled():
                return
            results[index] = result = await writer.write(brief)
            if on_result is not None and inspect.isawaitable(outcome := on_result(result)):
                await outcome

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(briefs))):
                group.create_task(work())
    except ExceptionGroup as failures:
        # Only a bug or a failing `on_result` gets here; the caller should see that error, not a group around it.
        raise failures.exceptions[0] from None
    done = tuple(result for result in results if result is not None)
    skipped = tuple(brief.key for brief, result in zip(briefs, results, strict=True) if result is None)
    return RunReport(done, skipped)


def estimate_cost(briefs: Sequence[TicketBrief], config: LLMConfig) -> CostEstimate:
    """Tokens and dollars for a run, from the prompts' length (about 4 characters a token) and a typical answer."""
    if config.provider == "offline":
        return CostEstimate(len(briefs), 0, 0, 0.0, "The offline writer makes no calls and costs nothing.")
    input_tokens = sum(approx_prompt_tokens(brief) for brief in briefs)
    output_tokens = EXPECTED_OUTPUT_TOKENS * len(briefs)
    usage = usage_for(config.model, input_tokens, output_tokens)
    return CostEstimate(len(briefs), input_tokens, output_tokens, usage.cost_usd, pricing_note({config.model}))


async def check_connectivity(config: LLMConfig, http_client: httpx.AsyncClient | None = None) -> ConnectivityResult:
    """Make one tiny call to the configured provider; report what happened and never raise."""
    started = time.perf_counter()
    try:
        provider = build_provider(config, http_client)
        try:
            async with asyncio.timeout(config.timeout_s):
                await provider.ping()
        finally:
            await provider.aclose()
    except LLMError as exc:
        return ConnectivityResult(False, exc.message)
    except TimeoutError:
        return ConnectivityResult(False, f"No answer within {config.timeout_s:g} s.")
    except Exception as exc:  # the settings page must show something whatever went wrong
        log.exception("connectivity check failed unexpectedly")
        # Only the error's kind: its text may hold what the endpoint answered.
        return ConnectivityResult(False, f"The check failed unexpectedly ({type(exc).__name__}).")
    if config.provider == "offline":
        return ConnectivityResult(True, "The offline writer needs no connection.")
    return ConnectivityResult(True, f"{config.model} answered in {time.perf_counter() - started:.1f} s.")
