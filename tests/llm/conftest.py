"""Fixtures for the language-model tests: briefs, a scripted fake vendor behind httpx.MockTransport, a fake sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from app.llm import TicketBrief

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]
BriefFactory = Callable[..., TicketBrief]

GOOD_PROSE = {
    "user_story": "As a content editor, I want the Academic Program content type, so that I can publish programs.",
    "success_criteria": [
        "The field_degree_level field offers the listed degree levels.",
        "Academic Program items are moderated by the Marketing workflow.",
    ],
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_brief() -> BriefFactory:
    """A realistic content type brief; keyword arguments override any field."""
    base = TicketBrief(
        key="CM-1",
        area="Content model",
        action="build",
        subject="Academic Program content type",
        kind="content type",
        facts=("40 fields including Degree level (list)", "moderated by the Marketing workflow"),
        machine_names=frozenset({"academic_program", "field_degree_level", "marketing"}),
        notes=("Program pages replace the old catalogue PDFs.",),
        site_name="UWEC",
        site_description="University of Wisconsin-Eau Claire",
    )
    return lambda **changes: replace(base, **changes)


class ScriptedServer:
    """A fake vendor API: answers requests with `replies` in order (the last one repeats) and records them."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return reply if isinstance(reply, httpx.Response) else reply(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


@pytest.fixture
def server() -> type[ScriptedServer]:
    return ScriptedServer


class RecordedSleep:
    """Stands in for asyncio.sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


class Replies:
    """Canned vendor replies, reached through the `replies` fixture so tests need no imports from conftest."""

    good_prose = GOOD_PROSE

    @staticmethod
    def openai(
        content: object = GOOD_PROSE,
        *,
        prompt_tokens: int = 1000,
        completion_tokens: int = 200,
        finish_reason: str = "stop",
    ) -> httpx.Response:
        """A Chat Completions response whose message content is `content` (JSON-encoded unless a string)."""
        text = content if isinstance(content, str) else json.dumps(content)
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish_reason,
                        "logprobs": None,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    @staticmethod
    def anthropic(
        tool_input: object = GOOD_PROSE,
        *,
        input_tokens: int = 1000,
        output_tokens: int = 200,
        tool_name: str = "ticket_prose",
    ) -> httpx.Response:
        """A Messages API response carrying one tool_use block."""
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": tool_name, "input": tool_input}],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            },
        )

    @staticmethod
    def error(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.Response(status, headers=headers, json={"error": {"message": f"status {status}", "type": "x"}})

    @staticmethod
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)


@pytest.fixture
def replies() -> type[Replies]:
    return Replies
