"""Which language model providers a session may generate with: the offline writer, and the one the admin set.

The admin's provider is the configure page's (`effective_llm_config`), or the app's settings while none is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.llm import LLMConfig
from app.llm.base import LLMConfigError
from app.llm.providers import PROVIDERS
from app.pipeline.configuration import effective_llm_config
from app.pipeline.ports import ConfigurationPorts

OFFLINE = LLMConfig()


@dataclass(frozen=True)
class ProviderChoice:
    name: str
    label: str
    config: LLMConfig


def choices(ports: ConfigurationPorts, tenant_id: int) -> list[ProviderChoice]:
    """The admin's provider first (when it is usable and not the offline writer), then the offline writer."""
    found = [ProviderChoice("offline", PROVIDERS["offline"].label, OFFLINE)]
    try:
        admin = effective_llm_config(ports, tenant_id)
    except LLMConfigError:
        return found
    if admin.provider != "offline":
        label = f"{PROVIDERS[admin.provider].label} ({admin.model}), set by your Jira admin"
        found.insert(0, ProviderChoice(admin.provider, label, admin))
    return found


def choose(ports: ConfigurationPorts, tenant_id: int, name: str | None) -> ProviderChoice:
    """The named choice, or the first one. Raises: LLMConfigError for a provider this site does not offer."""
    options = choices(ports, tenant_id)
    if not name:
        return options[0]
    for option in options:
        if option.name == name:
            return option
    raise LLMConfigError(f"The provider {name!r} is not set up for this Jira site; choose one of the list.")
