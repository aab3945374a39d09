"""Running a batch: order, bounded concurrency, cancellation, accounting, estimates and the connectivity check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from app.llm import (
    LLMConfig,
    LLMConfigError,
    OfflineProvider,
    ResilientWriter,
    SimulatedProvider,
    TicketBrief,
    WriteResult,
    build_provider,
    build_writer,
    check_connectivity,
    estimate_cost,
    write_all,
)
from app.llm.anthropic_provider import AnthropicProvider
from app.llm.openai_provider import OpenAIProvider

if TYPE_CHECKING:
    from conftest import BriefFactory, RecordedSleep, Replies, ScriptedServer


pytestmark = [pytest.mark.unit, pytest.mark.generation]

OPENAI = LLMConfig(provider="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=1)


def _briefs(make_brief: BriefFactory, count: int) -> list[TicketBrief]:
    return [make_brief(key=f"CM-{n}", subject=f"Type {n} content type") for n in range(count)]


@pytest.mark.anyio
async def test_results_come_back_in_input_order_whatever_order_they_finish_in(make_brief: BriefFactory) -> None:
    briefs = _briefs(make_brief, 12)
    finished: list[str] = []
    report = await write_all(
        briefs,
        ResilientWriter(SimulatedProvider(latency_s=0.01)),
        concurrency=5,
        on_result=lambda result: finished.append(result.key),
    )

    assert [result.key for result in report.results] == [brief.key for brief in briefs]
    assert sorted(finished) == sorted(brief.key for brief in briefs)
    assert report.results[3].prose.user_story.startswith("As a content editor, I want the Type 3 content type set up")
    assert not report.cancelled and report.flagged == 0


@pytest.mark.anyio
@pytest.mark.parametrize(("run_limit", "provider_limit", "expected"), [(10, 3, 3), (4, 10, 4)])
async def test_never_more_calls_in_flight_than_the_tighter_bound(
    make_brief: BriefFactory, run_limit: int, provider_limit: int, expected: int
) -> None:
    provider = SimulatedProvider(latency_s=0.02)
    await write_all(
        _briefs(make_brief, 20), ResilientWriter(provider, concurrency=provider_limit), concurrency=run_limit
    )

    assert provider.calls == 20 and provider.max_in_flight == expected


@pytest.mark.anyio
async def test_cancelling_stops_new_tickets_and_lists_the_unwritten_ones(make_brief: BriefFactory) -> None:
    briefs = _briefs(make_brief, 10)
    done: list[str] = []

    async def store(result: WriteResult) -> None:
        done.append(result.key)

    report = await write_all(
        briefs,
        ResilientWriter(SimulatedProvider(latency_s=0.01)),
        concurrency=2,
        on_result=store,
        is_cancelled=lambda: len(done) >= 3,
    )

    written = [result.key for result in report.results]
    assert report.cancelled and 3 <= len(written) <= 4  # the ticket in flight at cancellation still lands
    assert written == [brief.key for brief in briefs[: len(written)]]
    assert list(report.not_written) == [brief.key for brief in briefs[len(written) :]]


@pytest.mark.anyio
async def test_an_error_in_the_result_callback_stops_the_run_and_surfaces_as_itself(make_brief: BriefFactory) -> None:
    def store(result: WriteResult) -> None:
        raise RuntimeError(f"database is down while storing {result.key}")

    with pytest.raises(RuntimeError, match="database is down while storing CM-"):
        await write_all(_briefs(make_brief, 4), ResilientWriter(SimulatedProvider(0)), on_result=store)


@pytest.mark.anyio
async def test_a_failing_ticket_is_flagged_and_the_run_goes_on_with_tokens_and_cost_totalled(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        failing = "Ticket CM-2," in request.content.decode()
        return replies.error(502) if failing else replies.openai(prompt_tokens=1000, completion_tokens=200)

    fake = server(answer)
    report = await write_all(_briefs(make_brief, 5), build_writer(OPENAI, fake.client(), sleep=sleep), concurrency=2)

    assert [result.flagged is not None for result in report.results] == [False, False, True, False, False]
    assert report.flagged == 1 and report.results[2].attempts == 2
    assert report.results[2].usage.input_tokens == 0  # a failed call is not billed
    assert (report.usage.input_tokens, report.usage.output_tokens) == (4000, 800)
    assert report.usage.cost_usd == pytest.approx(4 * (1000 * 0.15 + 200 * 0.60) / 1e6)
    assert report.pricing_note is None


@pytest.mark.anyio
async def test_an_unknown_model_costs_nothing_and_the_report_says_so(make_brief: BriefFactory) -> None:
    report = await write_all(_briefs(make_brief, 2), ResilientWriter(SimulatedProvider(0, model="my-local-llm")))

    assert report.usage.input_tokens > 0 and report.usage.cost_usd == 0
    assert report.pricing_note == "No price is known for my-local-llm; its cost is counted as $0."


def test_the_estimate_prices_prompt_length_and_a_typical_answer(make_brief: BriefFactory) -> None:
    estimate = estimate_cost(_briefs(make_brief, 10), OPENAI)

    assert estimate.tickets == 10 and estimate.output_tokens == 3000
    assert 10 * 300 < estimate.input_tokens < 10 * 1500  # the system prompt, schema and brief, at ~4 chars a token
    assert estimate.cost_usd == pytest.approx((estimate.input_tokens * 0.15 + 3000 * 0.60) / 1e6)
    assert estimate.note is None


def test_the_estimate_for_offline_and_unknown_models(make_brief: BriefFactory) -> None:
    offline = estimate_cost(_briefs(make_brief, 3), LLMConfig())
    local = estimate_cost(
        _briefs(make_brief, 3), LLMConfig(provider="openai_compatible", model="qwen2.5", base_url="http://gpu:8000/v1")
    )

    assert (offline.input_tokens, offline.cost_usd) == (0, 0) and "costs nothing" in (offline.note or "")
    assert local.input_tokens > 0 and local.cost_usd == 0 and "qwen2.5" in (local.note or "")


@pytest.mark.anyio
async def test_the_connectivity_check_makes_one_tiny_call(server: type[ScriptedServer], replies: type[Replies]) -> None:
    fake = server(replies.openai("OK"))
    result = await check_connectivity(OPENAI, fake.client())

    assert result.ok and result.message.startswith("gpt-4o-mini answered in")
    [body] = fake.bodies()
    assert body["max_completion_tokens"] == 16 and "response_format" not in body


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (httpx.Response(401, json={"error": {"message": "bad key"}}), "Anthropic rejected the API key (401)"),
        (httpx.Response(500, json={"error": {"message": "boom"}}), "Anthropic had a server error (500)"),
    ],
)
async def test_the_connectivity_check_reports_failures_without_raising(
    server: type[ScriptedServer], reply: httpx.Response, message: str
) -> None:
    config = LLMConfig(provider="anthropic", model="claude-haiku-4-5", api_key="sk-ant-wrong")
    result = await check_connectivity(config, server(reply).client())

    assert not result.ok and message in result.message


@pytest.mark.anyio
async def test_an_unreachable_endpoint_is_reported(server: type[ScriptedServer]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    config = LLMConfig(provider="openai_compatible", model="llama3", base_url="http://localhost:9/v1")
    result = await check_connectivity(config, server(refuse).client())

    assert result == type(result)(False, "The endpoint at http://localhost:9/v1 could not be reached.")


@pytest.mark.anyio
async def test_the_offline_writer_is_always_connected() -> None:
    assert (await check_connectivity(LLMConfig())).ok


@pytest.mark.parametrize(
    ("config", "kind", "name"),
    [
        (LLMConfig(), OfflineProvider, "offline"),
        (OPENAI, OpenAIProvider, "openai"),
        (
            LLMConfig(provider="openai_compatible", model="m", base_url="http://x/v1"),
            OpenAIProvider,
            "openai_compatible",
        ),
        (LLMConfig(provider="anthropic", model="claude-haiku-4-5", api_key="k"), AnthropicProvider, "anthropic"),
    ],
)
def test_the_configured_provider_is_built(config: LLMConfig, kind: str, name: str) -> None:
    provider = build_provider(config, httpx.AsyncClient())
    assert isinstance(provider, kind) and provider.name == name


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"provider": "gemini", "model": "x"}, "Unknown language model provider"),
        ({"provider": "openai", "model": "gpt-4o"}, "needs an API key"),
        ({"provider": "anthropic", "api_key": "k"}, "Choose a model"),
        ({"provider": "openai_compatible", "model": "m"}, "needs a base URL"),
        ({"concurrency": 0}, "Concurrency must be at least 1"),
    ],
)
def test_incomplete_settings_are_refused_with_a_reason(settings: dict[str, object], message: str) -> None:
    with pytest.raises(LLMConfigError, match=message):
        LLMConfig(**settings)


def test_the_key_stays_out_of_the_config_repr() -> None:
    assert "sk-test" not in repr(OPENAI)
