"""Tokens the sandbox signs as Jira: install callbacks (RS256), lifecycle, iframe and context tokens (HS256).

@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.connect.tokens import sign_request_token
from app.sandbox.keys import InstallKeyPair
from app.sandbox.models import Installation, SandboxUser

REQUEST_TOKEN_TTL = 180
CONTEXT_TOKEN_TTL = 900


def install_token(keys: InstallKeyPair, *, client_key: str, app_base_url: str, url: str, user: SandboxUser) -> str:
    """The RS256 token of a signed `installed`/`uninstalled` callback: `aud` is the app's baseUrl."""
    issued = int(time.time())
    claims = {
        "iss": client_key,
        "sub": user.account_id,
        "aud": app_base_url,
        "qsh": query_string_hash("POST", url, app_base_url),
        "iat": issued,
        "exp": issued + REQUEST_TOKEN_TTL,
    }
    return jwt.encode(claims, keys.private_key, algorithm="RS256", headers={"kid": keys.kid})


def lifecycle_token(installation: Installation, url: str) -> str:
    """The HS256 token of an `enabled`/`disabled` callback, signed with the shared secret."""
    return sign_request_token(
        issuer=installation.client_key,
        secret=installation.shared_secret,
        method="POST",
        url=url,
        base_url=installation.app_base_url,
    )


def _context_claim(user: SandboxUser, jira: dict[str, Any]) -> dict[str, Any]:
    # Since the GDPR migration the user context holds the account id only (no user key or name).
    return {"user": {"accountId": user.account_id, "accountType": "atlassian"}, "jira": jira}


def iframe_token(installation: Installation, *, url: str, user: SandboxUser, jira: dict[str, Any]) -> str:
    """The `jwt` query parameter of an iframe URL: `qsh` binds it to exactly that GET."""
    return sign_request_token(
        issuer=installation.client_key,
        secret=installation.shared_secret,
        method="GET",
        url=url,
        base_url=installation.app_base_url,
        sub=user.account_id,
        aud=installation.app_key,
        context=_context_claim(user, jira),
    )


def context_token(installation: Installation, *, user: SandboxUser, jira: dict[str, Any]) -> str:
    """What `AP.context.getToken` hands the iframe: `qsh` is the fixed `context-qsh`, valid 15 minutes."""
    issued = int(time.time())
    claims = {
        "iss": installation.client_key,
        "sub": user.account_id,
        "aud": installation.app_key,
        "qsh": CONTEXT_QSH,
        "iat": issued,
        "exp": issued + CONTEXT_TOKEN_TTL,
        "context": _context_claim(user, jira),
    }
    return jwt.encode(claims, installation.shared_secret, algorithm="HS256")
