"""Signing our calls to a tenant's Jira as the app (Connect JWT, `iss` = our app key)."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from app.connect.tokens import sign_request_token


class ConnectJWTAuth(httpx.Auth):
    """Adds `Authorization: JWT …` with a `qsh` computed for each request, valid three minutes.

    The `qsh` path is relative to the tenant's base URL, which may carry a path (`https://x.atlassian.net/jira`).
    """

    def __init__(self, *, app_key: str, shared_secret: str, tenant_base_url: str, ttl_seconds: int = 180) -> None:
        self._app_key = app_key
        self._shared_secret = shared_secret
        self._tenant_base_url = tenant_base_url
        self._ttl_seconds = ttl_seconds

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = sign_request_token(
            issuer=self._app_key,
            secret=self._shared_secret,
            method=request.method,
            url=str(request.url),
            base_url=self._tenant_base_url,
            ttl_seconds=self._ttl_seconds,
        )
        request.headers["Authorization"] = f"JWT {token}"
        yield request
