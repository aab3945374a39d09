"""Authenticating our calls to a tenant's Jira: Connect JWTs (`iss` = our app key) or Forge bearer tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import UTC, datetime

import httpx

from app.connect.tokens import sign_request_token
from app.domain.forge import OAuthToken
from app.jira.errors import JiraAuthError, JiraGrantPendingError


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


TokenSource = Callable[[], Awaitable[OAuthToken | None]]
# Right after an install Atlassian may still be granting the app's scopes and answer 401/403 for a while.
GRANT_WINDOW_SECONDS = 300.0
# How long such a refusal asks the caller to wait (its retry policy adds jitter and bounds the attempts).
GRANT_RETRY_AFTER = 2.0
# A token about to expire is not sent: the call would fail half-way through a chunk of creates.
MIN_TOKEN_VALIDITY_SECONDS = 60.0


class ForgeTokenExpiredError(JiraAuthError):
    """No Forge token that stays valid long enough: Forge brings one with each use of the app and every hour.

    `expires_at`: when the newest token expired (or expires), None when there was never one.
    """

    def __init__(self, message: str, *, expires_at: int | None = None) -> None:
        super().__init__(message)
        self.expires_at = expires_at


class ForgeBearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>` with a Forge OAuth token, read from `token` before every request.

    `token` gives the newest token (a long export picks up the one the hourly trigger stored meanwhile). With the
    app's own (system) token, pass `installed_at`: a 401/403 within `GRANT_WINDOW_SECONDS` of it raises
    `JiraGrantPendingError`, which the caller's retry policy treats as a 429: the next attempt reads the newest token
    again. A user's token leaves it None: its 401/403 is that person's own permissions, which waiting cannot change.
    @see https://developer.atlassian.com/platform/forge/remote/calling-product-apis/
    """

    def __init__(
        self,
        token: TokenSource,
        *,
        installed_at: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self._installed_at = installed_at
        self._clock = clock

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await self._authorize(request)
        response = yield request
        if response.status_code in (401, 403) and self._granting():
            raise JiraGrantPendingError(
                "Jira is still granting the app its permissions on this new installation; try again in a few seconds.",
                retry_after=GRANT_RETRY_AFTER,
                status=response.status_code,
            )

    def _granting(self) -> bool:
        return self._installed_at is not None and self._clock() - self._installed_at <= GRANT_WINDOW_SECONDS

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("ForgeBearerAuth reads its token asynchronously; use an httpx.AsyncClient.")

    async def _authorize(self, request: httpx.Request) -> None:
        token = await self._token()
        now = self._clock()
        if token is None or not token.valid_for(MIN_TOKEN_VALIDITY_SECONDS, now=now):
            expired = "" if token is None else f" (the newest expired or expires at {_utc(token.expires_at)})"
            raise ForgeTokenExpiredError(
                f"Jira cannot be called for this site: no valid Forge token{expired}. Forge sends a new one whenever "
                "someone opens the app and with its hourly trigger; open the app in Jira, then start again.",
                expires_at=None if token is None else token.expires_at,
            )
        request.headers["Authorization"] = f"Bearer {token.value}"


def static_token(token: OAuthToken | None) -> TokenSource:
    """A source for the token of one call (the user token of a Custom UI request)."""

    async def source() -> OAuthToken | None:
        return token

    return source


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
