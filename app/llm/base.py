"""The language-model layer's types: what goes in (a brief), what comes out (prose), the seams and the errors.

Error tree::

    AppError
     └── LLMError                    any failure of the language-model layer
          ├── LLMConfigError         the provider settings are incomplete or unknown
          ├── LLMAuthError           the provider refused the key (401/403): never retried
          ├── LLMRateLimitedError    429: retried after `retry_after` seconds when the provider says so
          ├── LLMUnavailableError    timeout, connection failure or 5xx: retried with backoff
          │                          (both retried as `app.retries` says)
          └── LLMOutputInvalidError  the answer is malformed or fails the checks: retried once with feedback
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.errors import AppError
from app.llm.providers import DEFAULT_PROVIDER, PROVIDERS, ProviderName, provider_named
from app.retries import OutcomeUnknown, RateLimited

Action = Literal["build", "change", "remove", "hold"]


@dataclass(frozen=True)
class TicketBrief:
    """Everything the writer may know about one ticket; the model sees nothing else."""

    key: str
    area: str
    action: Action
    subject: str
    kind: str
    facts: tuple[str, ...] = ()
    machine_names: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()
    site_name: str = ""
    site_description: str = ""
    persona: str = ""  # who the story is for, chosen from the data ("a site administrator")
    criteria: tuple[str, ...] = ()  # the criteria the data already gives; the writer adds only what notes imply
    names: tuple[str, ...] = ()  # per table, its rows as "label = machine_name" (invalid names marked)
    findings: tuple[str, ...] = ()  # spec defects on this ticket, one line each
    held: tuple[str, ...] = ()  # rows on hold inside this ticket
    blockers: tuple[str, ...] = ()  # titles of the tickets this one waits for


@dataclass(frozen=True)
class TicketProse:
    """The two parts of a ticket the model writes: a one-sentence user story and a success checklist."""

    user_story: str
    success_criteria: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    """Tokens spent and what they cost (0 when the model's price is unknown)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass(frozen=True)
class WriteResult:
    """The prose for one ticket; `flagged` says why the offline text was kept instead of the model's."""

    key: str
    prose: TicketProse
    usage: Usage
    provider: str
    model: str
    flagged: str | None
    attempts: int


@dataclass(frozen=True)
class LLMConfig:
    """Which provider writes the prose and how hard to push it (set per tenant)."""

    provider: ProviderName = DEFAULT_PROVIDER
    model: str = ""
    api_key: str | None = field(default=None, repr=False)  # repr=False keeps keys out of logs and tracebacks
    base_url: str | None = None
    concurrency: int = 8
    timeout_s: float = 60.0
    max_retries: int = 3

    def __post_init__(self) -> None:
        info = PROVIDERS[parse_provider(self.provider)]
        if self.provider != "offline" and not self.model:
            raise LLMConfigError(f"Choose a model for the {self.provider} provider.")
        if info.needs_api_key and not self.api_key:
            raise LLMConfigError(f"The {self.provider} provider needs an API key.")
        if info.needs_base_url and not self.base_url:
            raise LLMConfigError(f"An {info.label} needs a base URL.")
        if self.concurrency < 1 or self.timeout_s <= 0 or self.max_retries < 0:
            raise LLMConfigError("Concurrency must be at least 1, the timeout positive and retries not negative.")


class Provider(Protocol):
    """One vendor behind one call per ticket; raises `LLMError` subclasses only."""

    name: str
    model: str

    async def complete(self, brief: TicketBrief, feedback: str | None) -> tuple[TicketProse, Usage]:
        """Ask for the prose of one ticket; `feedback` says what was wrong with the previous answer."""
        ...

    async def ping(self) -> None:
        """Make the smallest possible call, to prove the key, model and endpoint work."""
        ...

    async def aclose(self) -> None:
        """Release connections the provider opened itself."""
        ...


class ProseWriter(Protocol):
    """Writes the prose of one ticket and never fails on a provider error (it flags the ticket instead)."""

    async def write(self, brief: TicketBrief) -> WriteResult: ...

    async def aclose(self) -> None:
        """Release the connections behind the writer; whoever built the writer closes it."""
        ...


class LLMError(AppError):
    """A failure of the language-model layer."""


class LLMConfigError(LLMError):
    """The language model settings are incomplete or name an unknown provider."""


class LLMAuthError(LLMError):
    """The provider rejected the API key or the key lacks access to the model."""


class LLMRateLimitedError(LLMError, RateLimited):
    """The provider asked us to slow down; `retry_after` is its hint in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMUnavailableError(LLMError, OutcomeUnknown):
    """The call timed out, could not connect, or the provider answered with a server error."""


class LLMOutputInvalidError(LLMError):
    """The answer was malformed or failed the checks; `usage` is what the answer cost, if known."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


def parse_provider(text: str) -> ProviderName:
    """The provider named `text` (a setting, a stored choice, a command option). Raises: LLMConfigError."""
    name = provider_named(text)
    if name is None:
        raise LLMConfigError(f"Unknown language model provider {text!r}.")
    return name
