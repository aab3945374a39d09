"""Every request runs under a request id: the caller's `X-Request-Id` when it is sane, else a new one.

The id is returned in the response header, stamped on every log line of the request, and copied into the
Dramatiq messages the request enqueues, so one id follows an upload from the page to the worker that handles it.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import request_id_var, tenant_var

HEADER = "x-request-id"
# An id from a proxy or the page is kept only when it is short and plain: it is written into every log line.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == HEADER.encode():
            candidate = value.decode("latin-1")
            if _ACCEPTED.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        # The tenant is bound later, once a route's verifier knows who is calling (app/web/routing.py).
        request_token, tenant_token = request_id_var.set(request_id), tenant_var.set(None)
        await self.app(scope, receive, send_with_id)
        # Reset only after a normal return: on an exception, Starlette's outermost error handler logs it after we
        # are gone and should still see the id; the request's task (and its context) ends right after anyway.
        tenant_var.reset(tenant_token)
        request_id_var.reset(request_token)
