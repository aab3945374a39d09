"""The OAuth tokens Forge adds beside the FIT: `x-forge-oauth-system` (the app's bot) and `x-forge-oauth-user`.

Both are JWTs with an `exp` of at most four hours. We cannot verify their signature (they are for Atlassian's API,
not for us) and need not: they reach us on a call whose FIT we verified, and we only send them back to Atlassian.
Their `exp` is read so a worker knows when a stored token stops working. There is no refresh endpoint.
@see https://developer.atlassian.com/platform/forge/remote/calling-product-apis/
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from starlette.datastructures import Headers

from app.domain.forge import OAuthToken

SYSTEM_HEADER = "x-forge-oauth-system"
USER_HEADER = "x-forge-oauth-user"


@dataclass(frozen=True)
class ForgeTokens:
    system: OAuthToken | None
    user: OAuthToken | None


def oauth_tokens(headers: Headers) -> ForgeTokens:
    return ForgeTokens(system=_token(headers.get(SYSTEM_HEADER)), user=_token(headers.get(USER_HEADER)))


def _token(value: str | None) -> OAuthToken | None:
    """The token with its expiry, or None when absent or unreadable (a token without `exp` cannot be scheduled)."""
    if not value:
        return None
    try:
        claims = jwt.decode(value, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    expires = claims.get("exp")
    if not isinstance(expires, int):
        return None
    return OAuthToken(value=value, expires_at=expires)
