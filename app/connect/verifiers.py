"""The three kinds of inbound Connect token, one verifier each.

- `InstallTokenVerifier`: RS256 tokens on the `installed`/`uninstalled` callbacks (signed-install), the public key
  fetched by `kid` from Atlassian's install-key server.
- `RequestTokenVerifier`: HS256 tokens Jira signs for one request (module iframe URLs, `enabled`/`disabled`),
  whose `qsh` must match the request we received.
- `ContextTokenVerifier`: HS256 tokens from `AP.context.getToken()`, whose `qsh` is the literal `context-qsh`;
  only our own JSON API accepts them.

@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/
@see https://developer.atlassian.com/cloud/jira/platform/security-for-connect-apps/
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.domain.installation import Installation
from app.errors import AppError

# Leeway for clock skew between Jira and us; Atlassian recommends keeping it small.
LEEWAY_SECONDS = 30
# Atlassian's tokens live minutes; a token valid for longer was minted to be replayed (DTG_JWT_MAX_LIFETIME_SECONDS).
MAX_LIFETIME_SECONDS = 3600
# The key server's ids are UUIDs: letters, digits, `-` and `_` only, so a `kid` can never be `..`, a path or a URL.
_KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

InstallationLookup = Callable[[str], Awaitable[Installation | None]]


class AuthenticationError(AppError):
    """A request whose token is missing, forged, expired or bound to another request."""


class KeyServerError(AppError):
    """The install-key server could not be reached; Jira retries the callback."""


@dataclass(frozen=True)
class ConnectIdentity:
    installation: Installation
    account_id: str | None
    context: dict[str, Any] = field(default_factory=dict)


class InstallTokenVerifier:
    def __init__(
        self,
        *,
        keys_url: str,
        app_base_url: str,
        http: httpx.AsyncClient,
        max_lifetime_s: int = MAX_LIFETIME_SECONDS,
    ) -> None:
        self._keys_url = keys_url.rstrip("/")
        self._app_base_url = app_base_url
        self._http = http
        self._max_lifetime_s = max_lifetime_s
        self._keys: dict[str, str] = {}

    async def verify(self, token: str, method: str, url: str) -> dict[str, Any]:
        """The verified claims; `iss` is the installing site's clientKey.

        Raises:
            AuthenticationError: the token is not a valid signed-install token for this request.
            KeyServerError: the key server did not answer.
        """
        header = _unverified_header(token)
        if header.get("alg") != "RS256":
            raise AuthenticationError("Install callbacks must be signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise AuthenticationError("The install token has no valid key id (kid).")
        public_key = await self._public_key(kid)
        claims = _decode(
            token,
            public_key,
            algorithm="RS256",
            audience=self._app_base_url,
            required=["exp", "iss", "qsh", "aud"],
            max_lifetime_s=self._max_lifetime_s,
        )
        if claims["qsh"] != query_string_hash(method, url, self._app_base_url):
            raise AuthenticationError("The install token was signed for another request.")
        return claims

    async def _public_key(self, kid: str) -> str:
        if kid not in self._keys:
            try:
                response = await self._http.get(f"{self._keys_url}/{kid}", timeout=10)
            except httpx.HTTPError as exc:
                raise KeyServerError("The Atlassian install-key server could not be reached.") from exc
            if response.status_code == 404:
                raise AuthenticationError("The install token's key id is unknown to the key server.")
            if response.status_code != 200:
                raise KeyServerError(f"The install-key server answered {response.status_code}.")
            self._keys[kid] = response.text
        return self._keys[kid]


class _SharedSecretVerifier(ABC):
    """Decode unverified, find the tenant by `iss`, verify with its shared secret, then check `qsh`."""

    def __init__(
        self, *, app_base_url: str, lookup: InstallationLookup, max_lifetime_s: int = MAX_LIFETIME_SECONDS
    ) -> None:
        self._app_base_url = app_base_url
        self._lookup = lookup
        self._max_lifetime_s = max_lifetime_s

    async def verify(self, token: str, method: str, url: str) -> ConnectIdentity:
        """Raises: AuthenticationError when the token is not valid for this tenant and request."""
        if _unverified_header(token).get("alg") != "HS256":
            raise AuthenticationError("Jira tokens must be signed with HS256.")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The token cannot be read.") from exc
        if not isinstance(issuer, str) or not issuer:
            raise AuthenticationError("The token names no issuer.")
        installation = await self._lookup(issuer)
        if installation is None:
            raise AuthenticationError("The app is not installed on this Jira site.")
        claims = _decode(
            token,
            installation.shared_secret,
            algorithm="HS256",
            required=["exp", "iss", "qsh"],
            max_lifetime_s=self._max_lifetime_s,
        )
        self._check_qsh(claims["qsh"], method, url)
        context_claim = claims.get("context")
        context = context_claim if isinstance(context_claim, dict) else {}
        subject = claims.get("sub")
        return ConnectIdentity(installation, subject if isinstance(subject, str) else None, context)

    @abstractmethod
    def _check_qsh(self, qsh: str, method: str, url: str) -> None: ...


class RequestTokenVerifier(_SharedSecretVerifier):
    def _check_qsh(self, qsh: str, method: str, url: str) -> None:
        if qsh == CONTEXT_QSH:
            raise AuthenticationError("A context token cannot open an app page.")
        if qsh != query_string_hash(method, url, self._app_base_url):
            raise AuthenticationError("The token was signed for another request.")


class ContextTokenVerifier(_SharedSecretVerifier):
    def _check_qsh(self, qsh: str, method: str, url: str) -> None:
        if qsh != CONTEXT_QSH:
            raise AuthenticationError("The app's API accepts only context tokens from AP.context.getToken().")


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationError("The token cannot be read.") from exc


def _decode(
    token: str, key: str, *, algorithm: str, required: list[str], max_lifetime_s: int, audience: str | None = None
) -> dict[str, Any]:
    """The verified claims of a token that lives at most `max_lifetime_s` (from `iat`, or from now without one)."""
    claims = _verified(token, key, algorithm=algorithm, required=required, audience=audience)
    issued = claims.get("iat")
    start = issued if isinstance(issued, int | float) and not isinstance(issued, bool) else time.time()
    if claims["exp"] - start > max_lifetime_s + LEEWAY_SECONDS:
        raise AuthenticationError(f"The token lives longer than {max_lifetime_s} s; Jira's tokens live minutes.")
    return claims


def _verified(token: str, key: str, *, algorithm: str, required: list[str], audience: str | None) -> dict[str, Any]:
    # The algorithm is pinned: the header's `alg` is never trusted (no `none`, no RS/HS confusion).
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": required, "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("The token has expired; reload the page.") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("The token is not valid.") from exc
