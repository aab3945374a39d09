"""The sandbox's Forge control endpoints under `/_sandbox/forge/`: the JWKS, install, the trigger, key rotation."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sandbox.forge import ui
from app.sandbox.forge.site import SandboxForge
from app.sandbox.runtime import runtime_of


def _forge(request: Request) -> SandboxForge:
    return runtime_of(request).forge


async def jwks(request: Request) -> Response:
    """`GET /_sandbox/forge/jwks.json`: the keys of the sandbox's Forge Invocation Tokens (DTG_FORGE_JWKS_URL)."""
    return JSONResponse(_forge(request).signer.jwks())


async def install(request: Request) -> Response:
    """`POST /_sandbox/forge/install`: install the Forge app (a new installationId) and send the installed event."""
    forge = _forge(request)
    installation = await forge.install(runtime_of(request).config.app_url)
    return JSONResponse(
        {"installationId": installation.installation_id, "cloudId": forge.cloud_id, "apiBaseUrl": forge.api_base_url}
    )


async def scheduled(request: Request) -> Response:
    """`POST /_sandbox/forge/scheduled`: fire the hourly scheduled trigger now."""
    await _forge(request).fire_scheduled()
    return JSONResponse({"fired": True})


async def rotate(request: Request) -> Response:
    """`POST /_sandbox/forge/rotate`: sign with the announced key from now on (and announce a new one)."""
    return JSONResponse({"kid": _forge(request).signer.rotate().kid})


ROUTES = [
    Route("/_sandbox/forge/jwks.json", jwks),
    Route("/_sandbox/forge/install", install, methods=["POST"]),
    Route("/_sandbox/forge/scheduled", scheduled, methods=["POST"]),
    Route("/_sandbox/forge/rotate", rotate, methods=["POST"]),
    Route("/_sandbox/forge/invoke", ui.invoke, methods=["POST"]),
    Route("/_sandbox/forge/remote", ui.fetch_remote, methods=["POST"]),
    Route("/_sandbox/forge/resources/{key}/{path:path}", ui.resource_file),
]
