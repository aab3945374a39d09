"""Routes for the Connect lifecycle callbacks; the use cases do the checks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.connect import lifecycle
from app.web.routing import token_from


async def installed(request: Request) -> Response:
    services = request.state.services
    await lifecycle.installed(
        await request.body(),
        token_from(request, allow_query=False),
        request.method,
        str(request.url),
        verifier=services.install_verifier,
        tenants=services.tenants,
    )
    return Response(status_code=204)


async def uninstalled(request: Request) -> Response:
    services = request.state.services
    await lifecycle.uninstalled(
        await request.body(),
        token_from(request, allow_query=False),
        request.method,
        str(request.url),
        verifier=services.install_verifier,
        tenants=services.tenants,
    )
    return Response(status_code=204)


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
