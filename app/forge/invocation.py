"""The Forge Invocation Token (FIT): the RS256 JWT Forge puts on every call to our remote.

Checked: RS256 only (the header's `alg` is never trusted), the key by `kid` from Forge's JWKS, `iss`
`forge/invocation-token`, `aud` our app id, `exp`/`nbf`/`iat` with a few seconds of skew (a FIT lives about 25 s).
Tokens from Isolated Cloud carry `icLabel` and are signed with other keys: refused unless those keys are configured.
@see https://developer.atlassian.com/platform/forge/forge-remote-invocation-contract
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jwt

from app.connect.verifiers import AuthenticationError
from app.forge.keys import ForgeKeySet

ISSUER = "forge/invocation-token"
LEEWAY_SECONDS = 5
_KID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


@dataclass(frozen=True)
class ForgeInvocation:
    """What a verified FIT says about the call: which installation, site and (for UI calls) user."""

    installation_id: str
    api_base_url: str
    cloud_id: str | None
    site_url: str | None
    account_id: str | None
    # The module's context (`context.extension` holds the project or issue the page was opened on).
    context: dict[str, Any] = field(default_factory=dict)
    expires_at: int = 0


class InvocationTokenVerifier:
    def __init__(
        self,
        *,
        app_id: str,
        keys: ForgeKeySet,
        isolated_cloud_keys: ForgeKeySet | None = None,
        leeway_seconds: int = LEEWAY_SECONDS,
    ) -> None:
        self._app_id = app_id
        self._keys = keys
        self._isolated_cloud_keys = isolated_cloud_keys
        self._leeway = leeway_seconds

    async def verify(self, token: str) -> ForgeInvocation:
        """Raises: AuthenticationError for anything but a valid FIT for this app; ForgeKeysUnavailableError."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The Forge invocation token cannot be read.") from exc
        if header.get("alg") != "RS256":
            raise AuthenticationError("Forge invocation tokens must be signed with RS256.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise AuthenticationError("The Forge invocation token has no valid key id (kid).")
        key_set = self._keys
        if "icLabel" in unverified:
            if self._isolated_cloud_keys is None:
                raise AuthenticationError("Tokens from Isolated Cloud are not accepted by this deployment.")
            key_set = self._isolated_cloud_keys
        public_key = await key_set.key(kid)
        if public_key is None:
            raise AuthenticationError("The Forge invocation token's key id is unknown.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                audience=self._app_id,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("The Forge invocation token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The Forge invocation token is not valid.") from exc
        return _invocation(claims)


def _object(claim: object) -> dict[str, Any]:
    """A claim that should be a JSON object, or an empty one."""
    return claim if isinstance(claim, dict) else {}


def _invocation(claims: dict[str, Any]) -> ForgeInvocation:
    app = _object(claims.get("app"))
    installation_id = app.get("installationId")
    api_base_url = app.get("apiBaseUrl")
    if not isinstance(installation_id, str) or not installation_id:
        raise AuthenticationError("The Forge invocation token names no installation.")
    if not isinstance(api_base_url, str) or not api_base_url:
        raise AuthenticationError("The Forge invocation token names no API base URL.")
    context = _object(claims.get("context"))
    cloud_id = context.get("cloudId") or _installation_cloud_id(app)
    principal = claims.get("principal")
    site_url = context.get("siteUrl")
    return ForgeInvocation(
        installation_id=installation_id,
        api_base_url=api_base_url.rstrip("/"),
        cloud_id=cloud_id if isinstance(cloud_id, str) else None,
        site_url=site_url.rstrip("/") if isinstance(site_url, str) and site_url else None,
        account_id=principal if isinstance(principal, str) and principal else None,
        context=context,
        expires_at=int(claims["exp"]),
    )


def _installation_cloud_id(app: dict[str, Any]) -> str | None:
    contexts = (app.get("installation") or {}).get("contexts") if isinstance(app.get("installation"), dict) else None
    for item in contexts or []:
        if isinstance(item, dict) and isinstance(item.get("cloudId"), str):
            return str(item["cloudId"])
    return None
