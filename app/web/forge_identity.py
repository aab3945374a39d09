"""Who a Forge call is from, in the terms the rest of the web layer already uses.

A Custom UI call (invokeRemote) reaches the same JSON API as the Connect pages, with a FIT instead of a context
token: its verified installation becomes the tenant, `principal` the account, and the module's `context.extension`
(project, issue) the Jira context, so every handler and every tenant scope works unchanged. Jira calls made for
such a request carry the user's own token, so they respect that person's permissions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
from starlette.requests import Request

from app.connect.verifiers import AuthenticationError, ConnectIdentity
from app.domain.forge import ForgeSite
from app.forge import lifecycle
from app.forge.tokens import oauth_tokens
from app.jira.auth import ForgeBearerAuth, static_token
from app.logs import tenant_var
from app.offload import offload


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    raise AuthenticationError("This request carries no Forge invocation token.")


def is_forge_call(request: Request) -> bool:
    return request.headers.get("authorization", "")[:7].lower() == "bearer "


async def admit(request: Request, *, needs_user: bool, store: bool = True) -> None:
    """Verify the FIT into `request.state.forge` and, unless `store` is off, store the installation and its token.

    Raises: AuthenticationError; LifecyclePayloadError for an API base URL outside the site's own Jira.
    """
    services = request.state.services
    request.state.forge = await services.forge_verifier.verify(bearer_token(request))
    if needs_user and request.state.forge.account_id is None:
        raise AuthenticationError("This call must come from a person using the app in Jira.")
    if store:
        site: ForgeSite = await lifecycle.admit(
            request.state.forge,
            oauth_tokens(request.headers),
            installations=services.forge_installations,
            allowed_api_hosts=services.settings.forge_api_hosts,
        )
        request.state.forge_site = site
        tenant_var.set(site.tenant_id)


async def identity(request: Request) -> ConnectIdentity:
    """The caller of a Custom UI request, as a context token would name it. Raises: AuthenticationError."""
    await admit(request, needs_user=True)
    site: ForgeSite = request.state.forge_site
    installation = await offload(request.state.services.tenants.get, site.tenant_id)
    if installation is None:
        raise AuthenticationError("The app is not installed on this Jira site.")
    if not installation.is_forge:
        # A site linked to its Connect tenant: this call's Jira requests carry Forge's user token, which only
        # Atlassian's API gateway takes.
        installation = replace(installation, base_url=site.api_base_url)
    extension = request.state.forge.context.get("extension") or {}
    jira: dict[str, Any] = {
        name: extension[name] for name in ("project", "issue") if isinstance(extension.get(name), dict)
    }
    return ConnectIdentity(installation, request.state.forge.account_id, {"jira": jira})


def user_auth(request: Request) -> httpx.Auth | None:
    """For a Forge call, Jira is asked as the calling user (their token); None keeps the Connect JWT."""
    if getattr(request.state, "forge", None) is None:
        return None
    # No grant window: a 401/403 for the user is their own permissions, reported as it is.
    return ForgeBearerAuth(static_token(oauth_tokens(request.headers).user))
