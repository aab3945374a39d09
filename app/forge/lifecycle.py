"""What every verified Forge invocation does first: store its installation and its newest system token.

Forge gives no refresh endpoint for the system token; every call and the hourly scheduled trigger bring a fresh one,
so keeping the newest is how a worker always has one. Events and triggers time out after 5 s and are retried four
times: storing is all they wait for, anything longer is enqueued.
@see https://developer.atlassian.com/platform/forge/remote/essentials/
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

import httpx

from app.connect.lifecycle import LifecyclePayloadError, check_site
from app.connect.verifiers import AuthenticationError
from app.db.forge_installations import ForgeInstallationRepository
from app.domain.forge import ForgeInvocationSite, ForgeSite, OAuthToken
from app.forge.invocation import ForgeInvocation
from app.forge.tokens import ForgeTokens
from app.offload import offload

log = logging.getLogger(__name__)


def invocation_site(invocation: ForgeInvocation, *, allowed_api_hosts: tuple[str, ...]) -> ForgeInvocationSite:
    """The installation named by a verified FIT. Raises: AuthenticationError, LifecyclePayloadError.

    The API base URL is signed by Forge, but every later Jira call (with this tenant's tokens) goes there, so it must
    be a host the operator allows and must name the token's own site: `.../ex/jira/{cloudId}`.
    """
    if invocation.cloud_id is None:
        raise AuthenticationError("The Forge invocation token names no site (cloudId).")
    api_base_url = check_site(invocation.api_base_url, allowed_api_hosts)
    if urlsplit(api_base_url).path.rstrip("/") != f"/ex/jira/{invocation.cloud_id}":
        raise LifecyclePayloadError("The Forge invocation token's API base URL is not its own site's Jira API.")
    return ForgeInvocationSite(
        installation_id=invocation.installation_id,
        cloud_id=invocation.cloud_id,
        site_url=invocation.site_url or api_base_url,
        api_base_url=api_base_url,
    )


async def admit(
    invocation: ForgeInvocation,
    tokens: ForgeTokens,
    *,
    installations: ForgeInstallationRepository,
    allowed_api_hosts: tuple[str, ...],
) -> ForgeSite:
    """Store the invocation's installation and system token. Raises: AuthenticationError when it was uninstalled."""
    site = invocation_site(invocation, allowed_api_hosts=allowed_api_hosts)
    stored = await offload(installations.record_invocation, site, tokens.system)
    if stored is None:
        raise AuthenticationError("This Forge installation was uninstalled; install the app again.")
    return stored


async def uninstalling(invocation: ForgeInvocation, *, installations: ForgeInstallationRepository) -> None:
    """`preUninstall` (55 s, best effort): the tenant keeps its data for the same 30 days as a Connect uninstall."""
    await offload(installations.mark_uninstalled, invocation.installation_id)


# Two missed hourly triggers (and a little slack): Forge has stopped calling us for this site.
TRIGGERS_STOPPED_AFTER_SECONDS = 2 * 3600 + 300
GONE_STATUSES = (401, 404)


def uninstalled_if_gone(
    installations: ForgeInstallationRepository, tenant_id: int, *, jira_status: int | None, now: float
) -> bool:
    """There is no uninstall event to a remote but `preUninstall` (best effort): a Forge site whose scheduled
    triggers stopped and whose Jira answers 401/404 to the app's own token is taken as uninstalled, with the same
    30-day purge as Connect. True when it was marked so; a Connect tenant or a site Forge still calls is left alone.
    """
    if jira_status not in GONE_STATUSES:
        return False
    site = installations.active_site(tenant_id)
    if site is None or now - site.last_invoked_at < TRIGGERS_STOPPED_AFTER_SECONDS:
        return False
    for installation_id in installations.active_installation_ids(tenant_id):
        installations.mark_uninstalled(installation_id)
    return True


# Jira's reserved, read-only app property that names the clientKey of the Connect app with our key on this site.
# @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-app-properties/
CONNECT_CLIENT_KEY_PROPERTY = "connect_client_key_019cdff3-8bfb-71fe-9628-875b700aebb8"
# The installed event waits 5 s for us; the lookup gets part of that, and the next `upgraded` event tries again.
LINK_TIMEOUT_SECONDS = 2.0


async def link_connect_install(
    installations: ForgeInstallationRepository,
    http: httpx.AsyncClient,
    site: ForgeSite,
    system_token: OAuthToken | None,
    *,
    app_key: str,
) -> ForgeSite:
    """A site that has the Connect app too is one tenant with one history: Jira's reserved Connect-key property,
    read with the app's own token, names the Connect install, whose tenant this installation then joins.

    The site's Forge tenant as it was when there is no Connect install, Jira does not answer, or the Forge tenant
    already has a history of its own.
    """
    if system_token is None:
        return site
    url = (
        f"{site.api_base_url}/rest/atlassian-connect/1/addons/{quote(app_key, safe='')}/properties/"
        f"{CONNECT_CLIENT_KEY_PROPERTY}"
    )
    headers = {"Authorization": f"Bearer {system_token.value}", "Accept": "application/json"}
    try:
        response = await http.get(url, headers=headers, timeout=LINK_TIMEOUT_SECONDS)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("could not read the Connect key property of a Forge site: %s", exc)
        return site
    value = body.get("value") if isinstance(body, dict) else None
    client_key = value.get("clientKey") if isinstance(value, dict) else value
    if not isinstance(client_key, str) or not client_key:
        return site
    linked = await offload(installations.link_to_connect_tenant, site.installation_id, client_key)
    if linked is None:
        log.warning("a Forge site with a Connect install was not linked: its Forge tenant has a history of its own")
        return site
    return linked
