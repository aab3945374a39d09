"""Which credentials a tenant's Jira calls carry: a Connect tenant signs JWTs, a Forge tenant sends bearer tokens."""

from __future__ import annotations

import httpx

from app.db.forge_installations import ForgeInstallationRepository
from app.domain.forge import OAuthToken
from app.domain.installation import Installation
from app.jira.auth import ForgeBearerAuth
from app.offload import offload


def system_auth(installations: ForgeInstallationRepository, installation: Installation) -> httpx.Auth | None:
    """For a Forge tenant, the app's own token (the newest stored, read before each call); None for Connect."""
    if not installation.is_forge:
        return None
    site = installations.active_site(installation.id)

    async def newest() -> OAuthToken | None:
        return await offload(installations.newest_system_token, installation.id)

    return ForgeBearerAuth(newest, installed_at=site.installed_at if site is not None else None)
