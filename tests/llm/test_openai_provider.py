"""OpenAI and OpenAI-compatible endpoints through the real SDK, with the HTTP layer replaced by MockTransport."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.llm import LLMConfig, build_writer, compose
from app.llm.openai_provider import OpenAIProvider

if TYPE_CHECKING:
    from conftest import BriefFactory, RecordedSleep, Replies, ScriptedServer


pytestmark = [pytest.mark.unit, pytest.mark.generation]

OPENAI = LLMConfig(provider="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=2)


@pytest.mark.anyio
async def test_a_good_answer_is_parsed_priced_and_sent_with_the_json_schema(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.openai(prompt_tokens=1000, completion_tokens=200))
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None
    assert result.prose.user_story == replies.good_prose["user_story"]
    assert result.prose.success_criteria == tuple(replies.good_prose["success_criteria"])
    assert (result.provider, result.model, result.attempts) == ("openai", "gpt-4o-mini", 1)
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 200)
    assert result.usage.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.60) / 1e6)

    [request] = fake.requests
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = fake.bodies()[0]
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert schema["schema"]["required"] == ["user_story", "success_criteria"]
    assert body["max_completion_tokens"] > 0 and "max_tokens" not in body
    system, user = body["messages"]
    assert "never invent" in system["content"].lower() and "tables" in system["content"]
    assert "Academic Program content type" in user["content"] and "field_degree_level" in user["content"]


@pytest.mark.anyio
async def test_a_compatible_endpoint_gets_the_request_at_its_base_url(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    config = LLMConfig(provider="openai_compatible", model="llama3.1:8b", base_url="http://localhost:11434/v1")
    fake = server(replies.openai(prompt_tokens=900, completion_tokens=150))
    result = await build_writer(config, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.provider == "openai_compatible"
    assert str(fake.requests[0].url) == "http://localhost:11434/v1/chat/completions"
    body = fake.bodies()[0]
    assert body["model"] == "llama3.1:8b"
    assert body["response_format"]["json_schema"]["name"] == "ticket_prose"
    assert body["max_tokens"] > 0 and "max_completion_tokens" not in body
    assert result.usage.cost_usd == 0  # no price known for a local model


@pytest.mark.anyio
async def test_a_429_waits_at_least_as_long_as_retry_after(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(429, {"retry-after": "4"}), replies.openai())
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 2
    assert len(fake.requests) == 2  # the SDK's own retries are off: each request is one of ours
    [delay] = sleep.delays
    assert 4 <= delay <= 5  # the hint is a floor; at most a second of jitter on top


@pytest.mark.anyio
async def test_retry_after_ms_is_read_before_retry_after(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(429, {"retry-after-ms": "2500", "retry-after": "30"}), replies.openai())
    await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert 2.5 <= sleep.delays[0] <= 3.5


@pytest.mark.anyio
async def test_a_server_error_is_retried_with_backoff(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(500), replies.openai())
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 2
    assert len(sleep.delays) == 1 and 0 <= sleep.delays[0] <= 1.0


@pytest.mark.anyio
async def test_a_timeout_is_retried(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.timeout, replies.openai())
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 2 and len(fake.requests) == 2


@pytest.mark.anyio
async def test_persistent_server_errors_end_in_the_offline_text_flagged(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(503))
    brief = make_brief()
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(brief)

    assert len(fake.requests) == 3 and result.attempts == 3  # first call + max_retries=2
    assert len(sleep.delays) == 2
    assert result.flagged is not None and "server error (503)" in result.flagged
    assert "offline text was kept" in result.flagged
    assert result.prose == compose(brief)
    assert "Done as the spec notes: Program pages replace the old catalogue PDFs." in result.prose.success_criteria


@pytest.mark.anyio
async def test_a_wrong_key_is_not_retried_and_says_so(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(401))
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 1 and sleep.delays == []
    assert result.flagged is not None and "rejected the API key" in result.flagged
    assert result.prose.user_story.startswith("As a content editor, I want the Academic Program content type set up")


@pytest.mark.anyio
async def test_a_bad_request_is_not_retried(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(404))
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 1 and "refused the request (404)" in (result.flagged or "")


@pytest.mark.anyio
async def test_malformed_json_is_asked_for_again_with_the_reason(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.openai('{"user_story": "As a'), replies.openai())
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 2
    assert "was not valid JSON" in fake.bodies()[1]["messages"][1]["content"]
    assert result.usage.input_tokens == 2000  # the broken answer's tokens were spent too


@pytest.mark.anyio
async def test_a_cut_off_answer_counts_as_invalid(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.openai(finish_reason="length"))
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 2 and "cut off" in (result.flagged or "")


@pytest.mark.anyio
async def test_an_invented_machine_name_is_retried_once_then_replaced_and_flagged(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    invented = {**replies.good_prose, "success_criteria": ["The field_program_code field is required.", "It works."]}
    fake = server(replies.openai(invented))
    brief = make_brief()
    result = await build_writer(OPENAI, fake.client(), sleep=sleep).write(brief)

    assert len(fake.requests) == 2 and sleep.delays == []
    retry_prompt = fake.bodies()[1]["messages"][1]["content"]
    assert "previous answer was rejected" in retry_prompt and "field_program_code" in retry_prompt
    assert result.flagged is not None and "field_program_code" in result.flagged
    assert "field_program_code" not in " ".join((result.prose.user_story, *result.prose.success_criteria))
    assert result.usage.output_tokens == 400


@pytest.mark.anyio
async def test_closing_the_provider_leaves_a_shared_http_client_open(
    server: type[ScriptedServer], replies: type[Replies]
) -> None:
    shared = server(replies.openai()).client()
    provider = OpenAIProvider.from_config(OPENAI, shared)
    await provider.aclose()

    assert not shared.is_closed
