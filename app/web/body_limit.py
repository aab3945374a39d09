"""Request bodies are capped before anything reads them, so no caller (signed in or not) can make us buffer more.

Every route takes at most `DEFAULT_LIMIT` (lifecycle callbacks and JSON calls are a few KB); the spec upload
applies its own larger limit as it streams.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError

DEFAULT_LIMIT = 1024 * 1024
# The upload endpoint streams multipart bodies up to the session's limits itself.
_OWN_LIMIT = re.compile(r"^/api/sessions/\d+/files$")


class BodyTooLargeError(AppError):
    """The request body is larger than the route allows."""


def limited(receive: Receive, limit: int, error: Callable[[], AppError]) -> Callable[[], Awaitable[Message]]:
    """`receive` that raises `error()` as soon as the body passes `limit` bytes, before reading the rest."""
    seen = 0

    async def limited_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise error()
        return message

    return limited_receive


def _too_large() -> AppError:
    return BodyTooLargeError(f"The request body is larger than {DEFAULT_LIMIT // 1024} KB.")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _OWN_LIMIT.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            error = _too_large()
            body = {"error": {"status": 413, "title": "Too large", "message": error.message}}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        await self.app(scope, limited(receive, self.limit, _too_large), send)
