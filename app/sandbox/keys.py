"""The install-key server: the sandbox's stand-in for https://connect-install-keys.atlassian.com/{kid}.

Jira signs `installed`/`uninstalled` callbacks with RS256 and publishes the public key under the token's `kid`.
@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/#installation-callbacks
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response


@dataclass(frozen=True)
class InstallKeyPair:
    kid: str
    private_key: rsa.RSAPrivateKey
    public_pem: str

    @classmethod
    def generate(cls) -> InstallKeyPair:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = (
            private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return cls(kid=str(uuid.uuid4()), private_key=private_key, public_pem=public_pem)


async def install_key(request: Request) -> Response:
    """`GET /connect-install-keys/{kid}`: the PEM public key as text, as Atlassian's CDN serves it."""
    keys: InstallKeyPair = request.app.state.sandbox.keys
    if request.path_params["kid"] != keys.kid:
        return PlainTextResponse("Not Found", status_code=404)
    return PlainTextResponse(keys.public_pem)
