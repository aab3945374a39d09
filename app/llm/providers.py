"""The language-model providers the app knows, one entry each.

`LLMConfig` checks a configuration against its entry; the `dtg generate` options, the app's settings, the configure
page and the provider choice of a run all list providers from here, so adding one is one entry (and its adapter in
`runner.build_provider`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ProviderName = Literal["offline", "openai", "anthropic", "openai_compatible"]


@dataclass(frozen=True)
class ProviderInfo:
    name: ProviderName
    label: str
    needs_api_key: bool
    needs_base_url: bool
    # Where `dtg generate` reads the API key from unless told otherwise; None: the provider takes no key.
    key_variable: str | None


PROVIDERS: dict[ProviderName, ProviderInfo] = {
    info.name: info
    for info in (
        ProviderInfo("offline", "Offline writer (no cost, deterministic)", False, False, None),
        ProviderInfo("openai", "OpenAI", True, False, "OPENAI_API_KEY"),
        ProviderInfo("anthropic", "Anthropic", True, False, "ANTHROPIC_API_KEY"),
        ProviderInfo("openai_compatible", "OpenAI-compatible endpoint", False, True, "OPENAI_API_KEY"),
    )
}
PROVIDER_NAMES: tuple[ProviderName, ...] = get_args(ProviderName)
# What writes when nobody chose: costs nothing and needs no key.
DEFAULT_PROVIDER: ProviderName = "offline"


def provider_named(text: str) -> ProviderName | None:
    """The provider called `text`, or None when no provider has that name."""
    return next((name for name in PROVIDER_NAMES if name == text), None)
