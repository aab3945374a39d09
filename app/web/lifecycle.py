"""Routes for the Connect lifecycle callbacks; the use cases do the checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.connect import lifecycle
from app.web.routing import token_from

SignedInstallUseCase = Callable[..., Awaitable[Any]]


async def _signed_install(request: Request, use_case: SignedInstallUseCase, **options: Any) -> Response:
    services = request.state.services
    token = token_from(request, allow_query=False)  # before the body: an unsigned caller gets nothing read
    await use_case(
        await request.body(),
        token,
        request.method,
        str(request.url),
        verifier=services.install_verifier,
        tenants=services.tenants,
        **options,
    )
    return Response(status_code=204)


async def installed(request: Request) -> Response:
    return await _signed_install(request, lifecycle.installed, allowed_sites=request.state.services.settings.jira_sites)


async def uninstalled(request: Request) -> Response:
    return await _signed_install(
        request, lifecycle.uninstalled, forge_installations=request.state.services.forge_installations
    )


async def enabled(request: Request) -> Response:
    await lifecycle.enabled_changed(
        await request.body(), request.state.identity, enabled=True, tenants=request.state.services.tenants
    )
    return Response(status_code=204)


async def disabled(request: Request) -> Response:
    await lifecycle.enabled_changed(
        await request.body(), request.state.identity, enabled=False, tenants=request.state.services.tenants
    )
    return Response(status_code=204)
