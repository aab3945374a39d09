"""Everything Jira does to a REST call before and around the handler: count, authenticate, rate-limit, faults.

A pure ASGI middleware so it can see the response as it is sent, which the `drop_after_create` fault needs:
the handler creates the issues and starts a 201, then the connection is cut (or a 502 replaces the body).
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.faults import Fault
from app.sandbox.rest import rest_routes
from app.sandbox.rest.auth import FORGE_API, JiraAuthError, authenticate, authenticate_forge
from app.sandbox.rest.errors import jira_error
from app.sandbox.runtime import SandboxRuntime

logger = logging.getLogger(__name__)

CREATE_ENDPOINTS = {"POST /rest/api/3/issue", "POST /rest/api/3/issue/bulk"}
# Connect scopes that allow deleting (each implies the ones below it).
# @see https://developer.atlassian.com/cloud/jira/platform/scopes-for-connect-apps/
DELETE_SCOPES = {"DELETE", "PROJECT_ADMIN", "ADMIN"}


class DroppedConnection(httpx.RemoteProtocolError):
    """The injected cut connection.

    Under uvicorn the client sees the socket close mid-response (httpx raises `RemoteProtocolError`); under
    `httpx.ASGITransport` this exception reaches the client instead, so both look the same to our exporter.
    """


class RestGate:
    def __init__(self, app: ASGIApp, runtime: SandboxRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        forge_api = FORGE_API.match(scope["path"])
        if forge_api is None and not scope["path"].startswith("/rest/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if forge_api is not None:
            # The same handlers serve both: `/ex/jira/{cloudId}/rest/...` is `/rest/...` of that site.
            rest = forge_api.group("rest")
            scope = {**scope, "path": rest, "raw_path": rest.encode()}
        runtime = self.runtime
        stats = runtime.stats
        endpoint = f"{scope['method']} {_route_path(scope)}"
        stats.requests[endpoint] += 1

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.statuses[message["status"]] += 1
            await send(message)

        try:
            if forge_api is not None:
                installation = authenticate_forge(request, runtime.forge, forge_api.group("cloud_id"))
            else:
                installation = authenticate(request, runtime.store, runtime.config.public_url)
        except JiraAuthError as exc:
            stats.unauthorized += 1
            scheme = "Bearer" if forge_api is not None else "JWT"
            response = jira_error(401, f"Authentication failed: {exc}", headers={"WWW-Authenticate": scheme})
            await response(scope, receive, counting_send)
            return
        scope.setdefault("state", {})["installation"] = installation
        scopes = {str(name).upper() for name in installation.descriptor.get("scopes") or []}
        if scope["method"] == "DELETE" and not scopes & DELETE_SCOPES:
            message = (
                f"The app {installation.app_key} may not delete: its descriptor does not declare the DELETE scope."
            )
            await jira_error(403, message)(scope, receive, counting_send)
            return

        if runtime.limiter is not None:
            wait = runtime.limiter.take(installation.app_key)
            if wait > 0:
                stats.rate_limited += 1
                headers = runtime.limiter.rejection_headers(wait)
                await jira_error(429, "Rate limit exceeded.", headers=headers)(scope, receive, counting_send)
                return

        faults = runtime.faults
        if faults.config.latency_ms:
            await asyncio.sleep(faults.config.latency_ms / 1000)
        fault = faults.draw(creates_issues=endpoint in CREATE_ENDPOINTS)
        if fault is not None:
            stats.faults[fault] += 1
        if fault is Fault.ERROR:
            status = faults.error_status()
            await jira_error(status, "Injected sandbox fault.")(scope, receive, counting_send)
            return
        if fault is Fault.TIMEOUT:
            # Hang (longer than the client waits), then answer as a gateway that gave up; nothing was done.
            await asyncio.sleep(faults.config.timeout_seconds)
            await jira_error(504, "Injected sandbox timeout.")(scope, receive, counting_send)
            return
        if fault is Fault.DROP_AFTER_CREATE:
            await self.app(scope, receive, _dropping_send(counting_send, faults.config.drop_mode))
            return
        await self.app(scope, receive, counting_send)


def _route_path(scope: Scope) -> str:
    """The route template (`/rest/api/3/issue/{issueIdOrKey}`) so stats group requests by endpoint."""
    for route in rest_routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return route.path
    path: str = scope["path"]
    return path


def _dropping_send(send: Send, mode: str) -> Send:
    """A `send` that lets a 201 start and then loses its body: cut (`disconnect`) or replaced by a 502."""
    state = {"created": False}

    async def dropping_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["created"] = message["status"] == 201
            if not state["created"] or mode == "disconnect":
                await send(message)
                return
            body = json.dumps({"errorMessages": ["Injected sandbox fault after create."], "errors": {}}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 502, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif not state["created"]:
            await send(message)
        elif mode == "disconnect":
            logger.info("sandbox fault: dropping the connection after a create")
            raise DroppedConnection("peer closed connection without sending complete message body")
        # In "error" mode the 201 body is swallowed: the 502 has been sent in its place.

    return dropping_send
