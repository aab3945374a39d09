"""Translate the OpenAI and Anthropic SDK exceptions, which share one shape, into our `LLMError` tree."""

from __future__ import annotations

import email.utils
import time
from types import ModuleType

import httpx

from app.egress import EgressRefusedError
from app.llm.base import LLMAuthError, LLMError, LLMRateLimitedError, LLMUnavailableError

# Statuses worth another try: request timeout, conflict (both SDKs retry these themselves) and server errors.
_TRANSIENT_STATUSES = {408, 409}


def translate(exc: Exception, sdk: ModuleType, vendor: str) -> LLMError:
    """Map an exception raised by `sdk` (the `openai` or `anthropic` module) to our errors.

    Anything that is not an SDK API error is returned as a plain `LLMError` too, so callers can `raise ... from`.
    """
    if isinstance(exc, sdk.APITimeoutError):
        return LLMUnavailableError(f"{vendor} did not answer in time.")
    if isinstance(exc, sdk.APIConnectionError):
        if isinstance(exc.__cause__, EgressRefusedError):  # the guard refused the call: say why, never retry
            return LLMError(exc.__cause__.message)
        return LLMUnavailableError(f"{vendor} could not be reached.")
    if not isinstance(exc, sdk.APIStatusError):
        return LLMError(f"{vendor} call failed ({type(exc).__name__}).")
    status = exc.status_code
    if status in (401, 403):
        return LLMAuthError(
            f"{vendor} rejected the API key ({status}): check the key and the model's access in the "
            "language model settings."
        )
    if status == 429:
        retry_after = retry_after_seconds(exc.response.headers)
        return LLMRateLimitedError(f"{vendor} is rate limiting requests (429).", retry_after)
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return LLMUnavailableError(f"{vendor} had a server error ({status}).")
    # 400, 404, 422...: a wrong model name or a request the endpoint does not support; retrying will not help.
    # Never the answer's body: an endpoint a tenant typed must not be readable through our error messages.
    return LLMError(
        f"{vendor} refused the request ({status}): check the model name and that the endpoint speaks the API."
    )


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The server's wait hint: OpenAI's `retry-after-ms`, else `Retry-After` as seconds or an HTTP date."""
    if (millis := _number(headers.get("retry-after-ms"))) is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    if (seconds := _number(value)) is not None:
        return max(0.0, seconds)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
