"""A Forge tenant as the rest of the app sees it: a site's installation of the Forge app and its tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

# A Forge tenant's `client_key`: there is no Connect client key, and the cloudId is stable across reinstalls.
FORGE_CLIENT_KEY_PREFIX = "forge:"


@dataclass(frozen=True)
class OAuthToken:
    """A token Forge sent for calling Atlassian's APIs, with its expiry (epoch seconds)."""

    value: str = field(repr=False)
    expires_at: int

    def valid_for(self, seconds: float, *, now: float) -> bool:
        return self.expires_at - now >= seconds


@dataclass(frozen=True)
class ForgeSite:
    tenant_id: int
    installation_id: str
    cloud_id: str
    site_url: str
    # Where this site's Jira REST API is reached (`https://api.atlassian.com/ex/jira/{cloudId}`).
    api_base_url: str
    # When this installation was first seen (epoch seconds): Atlassian may still be granting its scopes for a while.
    installed_at: float = 0.0
    # When Forge last called us for this installation (a UI call or a trigger; epoch seconds). The hourly trigger
    # keeps it within the hour while the app is installed.
    last_invoked_at: float = 0.0


@dataclass(frozen=True)
class ForgeInvocationSite:
    """What a verified invocation says about the installation, before it is stored."""

    installation_id: str
    cloud_id: str
    site_url: str
    api_base_url: str
