"""Anthropic through the official SDK, with a forced tool call as the structured output."""

from __future__ import annotations

import anthropic
import httpx
from anthropic.types import Message, MessageParam, ToolParam

from app.llm._sdk_errors import translate
from app.llm.base import LLMConfig, LLMOutputInvalidError, TicketBrief, TicketProse, Usage
from app.llm.pricing import usage_for
from app.llm.prompts import MAX_OUTPUT_TOKENS, OUTPUT_NAME, PROSE_SCHEMA, SYSTEM_PROMPT, user_prompt
from app.llm.validation import parse_prose

_TOOL: ToolParam = {
    "name": OUTPUT_NAME,
    "description": "Record the user story and success criteria of the ticket.",
    "input_schema": PROSE_SCHEMA,
}


class AnthropicProvider:
    """Messages API with `tool_choice` forcing our one tool; SDK retries are off, the policy is ours."""

    name = "anthropic"

    def __init__(self, client: anthropic.AsyncAnthropic, model: str, *, owns_client: bool = False) -> None:
        self.model = model
        self._client = client
        self._owns_client = owns_client

    @classmethod
    def from_config(
        cls, config: LLMConfig, http_client: httpx.AsyncClient | None = None, *, close_client: bool = False
    ) -> AnthropicProvider:
        """Build the SDK client for `config`; a shared `http_client` stays open when the provider closes, unless
        `close_client` hands it over."""
        client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        return cls(client, config.model, owns_client=http_client is None or close_client)

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        message = await self._create(
            [{"role": "user", "content": user_prompt(brief, feedback)}], MAX_OUTPUT_TOKENS, with_tool=True
        )
        usage = usage_for(self.model, message.usage.input_tokens, message.usage.output_tokens)
        if message.stop_reason == "max_tokens":
            raise LLMOutputInvalidError("The answer was cut off at the length limit; keep it shorter.", usage)
        calls = [block for block in message.content if block.type == "tool_use" and block.name == OUTPUT_NAME]
        if not calls:
            raise LLMOutputInvalidError(f"The answer did not use the {OUTPUT_NAME} tool.", usage)
        return parse_prose(calls[0].input, usage), usage

    async def ping(self) -> None:
        await self._create([{"role": "user", "content": "Reply with OK."}], 1)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def _create(self, messages: list[MessageParam], max_tokens: int, *, with_tool: bool = False) -> Message:
        """One Messages call; `with_tool` adds our system prompt and forces the answer through our one tool."""
        omit = anthropic.omit
        try:
            return await self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                messages=messages,
                system=SYSTEM_PROMPT if with_tool else omit,
                tools=[_TOOL] if with_tool else omit,
                tool_choice={"type": "tool", "name": OUTPUT_NAME} if with_tool else omit,
            )
        except anthropic.AnthropicError as exc:
            raise translate(exc, anthropic, "Anthropic") from exc
