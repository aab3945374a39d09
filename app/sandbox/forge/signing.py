"""The sandbox as Forge: it signs Forge Invocation Tokens with keys it publishes as a JWKS, and rotates them.

It also issues the OAuth tokens Forge adds to calls (`x-forge-oauth-system`/`-user`), HS256 JWTs only the sandbox's
REST API checks, each bound to one installation's cloudId, so a token of one tenant is refused by another's Jira.
@see https://developer.atlassian.com/platform/forge/forge-remote-invocation-contract
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from app.forge.invocation import ISSUER

FIT_TTL_SECONDS = 25
OAUTH_TTL_SECONDS = 4 * 3600


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(
            kid=f"sandbox-{uuid.uuid4()}", private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass(frozen=True)
class ForgeInstallation:
    """One site's installation of the Forge app, as Forge knows it."""

    installation_id: str
    cloud_id: str
    site_url: str
    api_base_url: str


class ForgeSigner:
    """Signs FITs with the current key and publishes it with the next one, as a key server announces rotations.

    `rotate()` signs with the announced key from then on; the retired one stays published until the next rotation.
    """

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self._keys = [SigningKey.generate(), SigningKey.generate()]  # [..., current, upcoming]
        self._oauth_secret = secrets.token_urlsafe(32)

    @property
    def current(self) -> SigningKey:
        return self._keys[-2]

    def rotate(self) -> SigningKey:
        self._keys = [*self._keys[-2:], SigningKey.generate()]
        return self.current

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self._keys]}

    def invocation_token(
        self,
        installation: ForgeInstallation,
        *,
        account_id: str | None = None,
        extension: dict[str, Any] | None = None,
        ttl_seconds: int = FIT_TTL_SECONDS,
        now: float | None = None,
        **overrides: Any,
    ) -> str:
        issued = int(now if now is not None else time.time())
        context: dict[str, Any] = {
            "cloudId": installation.cloud_id,
            "siteUrl": installation.site_url,
            "extension": extension or {},
        }
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": self.app_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
            "jti": str(uuid.uuid4()),
            "app": {
                "id": self.app_id,
                "installationId": installation.installation_id,
                "apiBaseUrl": installation.api_base_url,
                "installation": {"contexts": [{"cloudId": installation.cloud_id}]},
                "license": {"isActive": True},
            },
            "context": context,
        }
        if account_id is not None:
            claims["principal"] = account_id
        claims.update(overrides)
        return jwt.encode(claims, self.current.private_key, algorithm="RS256", headers={"kid": self.current.kid})

    def oauth_token(
        self,
        installation: ForgeInstallation,
        *,
        account_id: str | None = None,
        ttl_seconds: int = OAUTH_TTL_SECONDS,
        now: float | None = None,
    ) -> str:
        """A system token (no account) or a user token, valid for `ttl_seconds` on this installation's site only."""
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": "sandbox-forge",
            "sub": account_id or f"app-bot:{self.app_id}",
            "cloudId": installation.cloud_id,
            "kind": "user" if account_id else "system",
            "iat": issued,
            "exp": issued + ttl_seconds,
        }
        return jwt.encode(claims, self._oauth_secret, algorithm="HS256")

    def check_oauth_token(self, token: str, *, cloud_id: str) -> dict[str, Any] | None:
        """The claims of a token the sandbox issued for this site, or None (expired, forged, another site's)."""
        try:
            claims: dict[str, Any] = jwt.decode(token, self._oauth_secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        return claims if claims.get("cloudId") == cloud_id else None
