"""The language-model layer: writes each ticket's one-sentence user story and its success criteria.

The tables, grouping and ADF of a ticket are built elsewhere; this package only turns a `TicketBrief` (the
ticket's kind, action, subject, facts and machine names) into `TicketProse`.

Public API::

    config = LLMConfig(provider="openai", model="gpt-4o-mini", api_key=key)   # or "offline" (default),
                                                                              # "anthropic", "openai_compatible"
    writer = build_writer(config, http_client)            # ResilientWriter around the configured provider
    result = await writer.write(brief)                    # WriteResult; never raises LLMError
    report = await write_all(briefs, writer, concurrency=8, on_result=store, is_cancelled=stop_requested)
    report.results, report.usage, report.flagged, report.not_written, report.pricing_note
    estimate_cost(briefs, config) -> CostEstimate         # before a run
    await check_connectivity(config, http_client) -> ConnectivityResult(ok, message)   # never raises

Policy (`ResilientWriter`): one call per ticket, at most `config.concurrency` calls in flight per writer, each
bounded by `config.timeout_s`. Rate limits (honouring Retry-After), timeouts and 5xx are retried up to
`config.max_retries` times as `app.retries` says; the SDKs' own retries are off. An answer that is
malformed or fails `validation.check_prose` is asked for once more with the problems as feedback. A ticket whose
call finally fails, or whose second answer fails too, keeps the offline text and `WriteResult.flagged` says why;
an auth error is never retried. The run always goes on.

Seams: a `Provider` implements `complete(brief, feedback) -> (TicketProse, Usage)`, `ping()` and `aclose()`:
`OfflineProvider` (templates, no network), `openai_provider.OpenAIProvider` (OpenAI and OpenAI-compatible base
URLs, JSON schema `response_format`), `anthropic_provider.AnthropicProvider` (forced tool use), and
`SimulatedProvider` (fixed latency, for tests and benchmarks). The two SDK providers are not re-exported here: this
package loads no SDK until `build_provider` needs one. Errors: `LLMError` and its subclasses in `app.llm.base`.
"""

from __future__ import annotations

from app.llm.base import (
    LLMAuthError,
    LLMConfig,
    LLMConfigError,
    LLMError,
    LLMOutputInvalidError,
    LLMRateLimitedError,
    LLMUnavailableError,
    ProseWriter,
    Provider,
    TicketBrief,
    TicketProse,
    Usage,
    WriteResult,
)
from app.llm.offline import OfflineProvider, compose, default_persona
from app.llm.resilient import ResilientWriter
from app.llm.runner import (
    ConnectivityResult,
    CostEstimate,
    RunReport,
    build_provider,
    build_writer,
    check_connectivity,
    estimate_cost,
    write_all,
)
from app.llm.simulated import SimulatedProvider
from app.llm.validation import check_prose
from app.retries import RetryPolicy

__all__ = [
    "ConnectivityResult",
    "CostEstimate",
    "LLMAuthError",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMOutputInvalidError",
    "LLMRateLimitedError",
    "LLMUnavailableError",
    "OfflineProvider",
    "ProseWriter",
    "Provider",
    "ResilientWriter",
    "RetryPolicy",
    "RunReport",
    "SimulatedProvider",
    "TicketBrief",
    "TicketProse",
    "Usage",
    "WriteResult",
    "build_provider",
    "build_writer",
    "check_connectivity",
    "check_prose",
    "compose",
    "default_persona",
    "estimate_cost",
    "write_all",
]
