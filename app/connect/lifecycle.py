"""The lifecycle callbacks Jira sends: installed, uninstalled, enabled, disabled.

Each is idempotent, because Jira retries `installed`. `uninstalled` is not retried by Jira, so it must not fail
on a tenant we no longer know.
@see https://developer.atlassian.com/cloud/jira/platform/connect-app-descriptor/#lifecycle
"""

from __future__ import annotations

import json
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urlsplit

from app.connect.verifiers import AuthenticationError, ConnectIdentity, InstallTokenVerifier
from app.db.forge_installations import ForgeInstallationRepository
from app.db.tenants import TenantRepository
from app.domain.installation import Installation, InstallPayload
from app.errors import AppError
from app.offload import offload
from app.text_controls import CONTROL_CHARACTERS


class LifecyclePayloadError(AppError):
    """A lifecycle callback whose body is not what Connect sends."""


def parse_payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError; RecursionError: deep nesting
        raise LifecyclePayloadError("The lifecycle body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise LifecyclePayloadError("The lifecycle body must be a JSON object.")
    return payload


def _required_text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LifecyclePayloadError(f"The lifecycle body has no {key}.")
    if CONTROL_CHARACTERS.search(value):
        raise LifecyclePayloadError(f"The lifecycle body's {key} contains a control character.")
    return value


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_site(url: str, allowed: tuple[str, ...]) -> str:
    """The site URL if its host is one the operator allows (https, or a loopback host such as the sandbox).

    The install body is not covered by the token's qsh, and every later call to Jira goes to this URL: an
    unchecked one would let any site owner point our server at hosts inside its network.
    Raises: LifecyclePayloadError.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not any(fnmatch(host, pattern.lower()) for pattern in allowed):
        raise LifecyclePayloadError(f"{host or url} is not a Jira site this app installs on (DTG_JIRA_SITES).")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK):
        raise LifecyclePayloadError("A Jira site must be reached over https.")
    return url.rstrip("/")


async def installed(
    body: bytes,
    token: str,
    method: str,
    url: str,
    *,
    verifier: InstallTokenVerifier,
    tenants: TenantRepository,
    allowed_sites: tuple[str, ...],
) -> Installation:
    """Verify a signed install and store (or refresh) the tenant; nothing is stored unless all checks pass."""
    payload = parse_payload(body)
    claims = await verifier.verify(token, method, url)
    client_key = _required_text(payload, "clientKey")
    if claims["iss"] != client_key:
        raise AuthenticationError("The install token was issued for another Jira site.")
    display = payload.get("displayUrl")
    if display is not None and not isinstance(display, str):
        raise LifecyclePayloadError("The lifecycle body's displayUrl must be text.")
    install = InstallPayload(
        client_key=client_key,
        shared_secret=_required_text(payload, "sharedSecret"),
        base_url=check_site(_required_text(payload, "baseUrl"), allowed_sites),
        display_url=check_site(display, allowed_sites) if display else None,
        product_type=str(payload.get("productType") or "jira"),
        description=str(payload.get("description") or ""),
        cloud_id=payload.get("cloudId") if isinstance(payload.get("cloudId"), str) else None,
    )
    return await offload(tenants.save_installed, install)


async def uninstalled(
    body: bytes,
    token: str,
    method: str,
    url: str,
    *,
    verifier: InstallTokenVerifier,
    tenants: TenantRepository,
    forge_installations: ForgeInstallationRepository,
) -> None:
    """A site that keeps the Forge app (moving from Connect to Forge) keeps its tenant as a Forge tenant; any other
    site's tenant is marked uninstalled (the 30-day purge)."""
    payload = parse_payload(body)
    claims = await verifier.verify(token, method, url)
    if claims["iss"] != _required_text(payload, "clientKey"):
        raise AuthenticationError("The uninstall token was issued for another Jira site.")
    if await offload(forge_installations.keep_site_after_connect_left, claims["iss"]):
        await offload(tenants.versions.bump)  # every process stops taking the Connect key's cached secret
    else:
        await offload(tenants.mark_uninstalled, claims["iss"])


async def enabled_changed(body: bytes, identity: ConnectIdentity, *, enabled: bool, tenants: TenantRepository) -> None:
    payload = parse_payload(body)
    if payload.get("clientKey") not in (None, identity.installation.client_key):
        raise AuthenticationError("The token was issued for another Jira site.")
    await offload(tenants.set_enabled, identity.installation.client_key, enabled)
