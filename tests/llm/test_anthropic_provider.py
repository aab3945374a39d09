"""Anthropic through the real SDK (forced tool use), with the HTTP layer replaced by MockTransport."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.llm import LLMConfig, build_writer

if TYPE_CHECKING:
    from conftest import BriefFactory, RecordedSleep, Replies, ScriptedServer


pytestmark = [pytest.mark.unit, pytest.mark.generation]

ANTHROPIC = LLMConfig(provider="anthropic", model="claude-sonnet-4-5-20250929", api_key="sk-ant-test", max_retries=2)


@pytest.mark.anyio
async def test_a_tool_call_is_parsed_priced_and_the_tool_is_forced(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.anthropic(input_tokens=2000, output_tokens=300))
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 1
    assert result.prose.success_criteria == tuple(replies.good_prose["success_criteria"])
    assert result.usage.cost_usd == pytest.approx((2000 * 3 + 300 * 15) / 1e6)  # priced as claude-sonnet-4

    [request] = fake.requests
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    body = fake.bodies()[0]
    [tool] = body["tools"]
    assert tool["name"] == "ticket_prose" and tool["input_schema"]["required"] == ["user_story", "success_criteria"]
    assert body["tool_choice"] == {"type": "tool", "name": "ticket_prose"}
    assert "machine names" in body["system"].lower()
    assert "moderated by the Marketing workflow" in body["messages"][0]["content"]


@pytest.mark.anyio
async def test_an_overloaded_answer_is_retried_after_the_rate_limit_hint(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(429, {"retry-after": "3"}), replies.error(529), replies.anthropic())
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 3
    assert 3 <= sleep.delays[0] <= 4 and len(sleep.delays) == 2


@pytest.mark.anyio
async def test_an_answer_without_the_tool_call_gets_one_more_chance(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.anthropic(tool_name="something_else"), replies.anthropic())
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert result.flagged is None and result.attempts == 2
    assert "did not use the ticket_prose tool" in fake.bodies()[1]["messages"][0]["content"]


@pytest.mark.anyio
async def test_a_tool_input_missing_a_part_is_invalid(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.anthropic({"user_story": "As a visitor, I want it, so that it works."}))
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 2
    assert result.flagged is not None and "no success_criteria" in result.flagged


@pytest.mark.anyio
async def test_a_forbidden_key_is_not_retried(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(403))
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 1 and "Anthropic rejected the API key (403)" in (result.flagged or "")


@pytest.mark.anyio
async def test_a_rate_limit_asking_for_a_long_pause_gives_up_at_once(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, make_brief: BriefFactory
) -> None:
    fake = server(replies.error(429, {"retry-after": "3600"}))
    result = await build_writer(ANTHROPIC, fake.client(), sleep=sleep).write(make_brief())

    assert len(fake.requests) == 1 and sleep.delays == []
    assert "rate limiting" in (result.flagged or "")
