"""The JSON API the pages call with context tokens; every lookup is scoped to the caller's tenant."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def whoami(request: Request) -> Response:
    identity = request.state.identity
    return JSONResponse(
        {"accountId": identity.account_id, "siteUrl": identity.installation.display_url, "context": identity.context}
    )
