"""Routes of the Forge front: lifecycle events, the scheduled trigger and `preUninstall`, each a POST with a FIT.

The route policy (`Auth.FORGE_TRIGGER`) verifies the FIT and stores the installation and its system token before
these handlers run, so each only answers: Forge waits 5 s and retries four times, and wants JSON back.
@see https://developer.atlassian.com/platform/forge/events-reference/life-cycle/
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.forge import lifecycle
from app.forge.tokens import oauth_tokens
from app.offload import offload
from app.pipeline.export import resume_exports_waiting_for_token
from app.web.routing import Auth, SecuredRoute


async def lifecycle_event(request: Request) -> Response:
    """`avi:forge:installed:app` and `avi:forge:upgraded:app`: the installation is stored by now; a site that has
    the Connect app too joins that tenant (one history)."""
    services = request.state.services
    site = await lifecycle.link_connect_install(
        services.forge_installations,
        services.http,
        request.state.forge_site,
        oauth_tokens(request.headers).system,
        app_key=services.settings.app_key,
    )
    return JSONResponse({"installed": True, "linkedToConnect": site.tenant_id != request.state.forge_site.tenant_id})


async def scheduled(request: Request) -> Response:
    """The hourly trigger brings the fresh system token the policy has stored: exports waiting for one resume."""
    resumed = await offload(
        resume_exports_waiting_for_token, request.state.services, request.state.forge_site.tenant_id
    )
    return JSONResponse({"tokenStored": True, "exportsResumed": resumed})


async def uninstalling(request: Request) -> Response:
    await lifecycle.uninstalling(request.state.forge, installations=request.state.services.forge_installations)
    return JSONResponse({"uninstalled": True})


def routes() -> list[SecuredRoute]:
    return [
        SecuredRoute("/forge/lifecycle", lifecycle_event, auth=Auth.FORGE_TRIGGER, methods=["POST"]),
        SecuredRoute("/forge/scheduled", scheduled, auth=Auth.FORGE_TRIGGER, methods=["POST"]),
        SecuredRoute("/forge/uninstalling", uninstalling, auth=Auth.FORGE_UNINSTALL, methods=["POST"]),
    ]
