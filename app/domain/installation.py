"""A tenant as the rest of the app sees it: a Jira site with its decrypted shared secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.forge import FORGE_CLIENT_KEY_PREFIX


@dataclass(frozen=True)
class Installation:
    id: int
    client_key: str
    base_url: str
    display_url: str
    shared_secret: str = field(repr=False)
    enabled: bool = True
    active: bool = True

    @property
    def is_forge(self) -> bool:
        """Installed through the Forge front: Jira is called with Forge's bearer tokens, not Connect JWTs."""
        return self.client_key.startswith(FORGE_CLIENT_KEY_PREFIX)


@dataclass(frozen=True)
class InstallPayload:
    """The body Jira posts to the `installed` lifecycle URL (only the fields we keep)."""

    client_key: str
    shared_secret: str = field(repr=False)
    base_url: str
    display_url: str | None = None
    product_type: str = "jira"
    description: str = ""
    cloud_id: str | None = None
