"""OpenAI, and any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio...), through the official SDK."""

from __future__ import annotations

import json

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from app.llm._sdk_errors import translate
from app.llm.base import LLMConfig, LLMOutputInvalidError, TicketBrief, TicketProse, Usage
from app.llm.pricing import usage_for
from app.llm.prompts import MAX_OUTPUT_TOKENS, OUTPUT_NAME, PROSE_SCHEMA, SYSTEM_PROMPT, user_prompt
from app.llm.validation import parse_prose

_RESPONSE_FORMAT: ResponseFormatJSONSchema = {
    "type": "json_schema",
    "json_schema": {"name": OUTPUT_NAME, "strict": True, "schema": PROSE_SCHEMA},
}


class OpenAIProvider:
    """Chat Completions with a strict JSON schema `response_format`; SDK retries are off, the policy is ours."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        *,
        name: str = "openai",
        label: str = "OpenAI",
        owns_client: bool = False,
    ) -> None:
        self.name = name
        self.model = model
        self._client = client
        self._label = label
        self._owns_client = owns_client
        # OpenAI's reasoning models refuse `max_tokens`; many compatible servers only know `max_tokens`.
        self._limits_completion = name == "openai"

    @classmethod
    def from_config(
        cls, config: LLMConfig, http_client: httpx.AsyncClient | None = None, *, close_client: bool = False
    ) -> OpenAIProvider:
        """Build the SDK client for `config`; a shared `http_client` stays open when the provider closes, unless
        `close_client` hands it over."""
        compatible = config.provider == "openai_compatible"
        client = openai.AsyncOpenAI(
            # Local servers often need no key, but the SDK insists on one.
            api_key=config.api_key or "not-needed",
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        label = f"The endpoint at {config.base_url}" if compatible else "OpenAI"
        owns = http_client is None or close_client
        return cls(client, config.model, name=config.provider, label=label, owns_client=owns)

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        completion = await self._create(
            [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt(brief, feedback)}],
            MAX_OUTPUT_TOKENS,
            response_format=_RESPONSE_FORMAT,
        )
        counts = completion.usage
        usage = usage_for(self.model, counts.prompt_tokens, counts.completion_tokens) if counts else Usage()
        if not completion.choices:
            raise LLMOutputInvalidError("The answer had no content.", usage)
        choice = completion.choices[0]
        if choice.message.refusal:
            raise LLMOutputInvalidError(f"The model refused: {choice.message.refusal}", usage)
        if choice.finish_reason == "length":
            raise LLMOutputInvalidError("The answer was cut off at the length limit; keep it shorter.", usage)
        try:
            payload = json.loads(choice.message.content or "")
        except json.JSONDecodeError as exc:
            raise LLMOutputInvalidError("The answer was not valid JSON.", usage) from exc
        return parse_prose(payload, usage), usage

    async def ping(self) -> None:
        await self._create([{"role": "user", "content": "Reply with OK."}], 16)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def _create(
        self,
        messages: list[ChatCompletionMessageParam],
        limit: int,
        response_format: ResponseFormatJSONSchema | openai.Omit = openai.omit,
    ) -> ChatCompletion:
        try:
            return await self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_completion_tokens=limit if self._limits_completion else openai.omit,
                max_tokens=openai.omit if self._limits_completion else limit,
                response_format=response_format,
            )
        except openai.OpenAIError as exc:
            raise translate(exc, openai, self._label) from exc
