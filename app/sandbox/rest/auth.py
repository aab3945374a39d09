"""Verifying our app's REST calls as Jira does: HS256 JWT, `iss` = an installed app's key, `qsh` of the request.

@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/
"""

from __future__ import annotations

import hmac
import re

import jwt
from starlette.requests import Request

from app.connect.qsh import query_string_hash
from app.sandbox.forge.site import SandboxForge
from app.sandbox.models import Installation
from app.sandbox.store import SandboxStore

# The Forge apps' way in, as at https://api.atlassian.com/ex/jira/{cloudId}/rest/api/3/...
FORGE_API = re.compile(r"^/ex/jira/(?P<cloud_id>[^/]+)(?P<rest>/rest/.*)$")


class JiraAuthError(Exception):
    """The request is not authenticated; the message says why (the sandbox is for developers)."""


def authenticate(request: Request, store: SandboxStore, jira_base_url: str) -> Installation:
    """The installation that signed this request.

    Raises:
        JiraAuthError: no `Authorization: JWT`, unknown issuer, bad signature, expired, or a `qsh` that does not
            match this request (relative to the sandbox's base URL, as our `ConnectJWTAuth` computes it).
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme != "JWT" or not token:
        raise JiraAuthError("expected an 'Authorization: JWT <token>' header")
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise JiraAuthError(f"malformed JWT: {exc}") from exc
    installation = store.installations.get(str(issuer))
    if installation is None or not (installation.installed and installation.enabled):
        # Connect apps sign with their app key; a clientKey as `iss` is a common mistake worth naming.
        hint = " (that is a clientKey; sign with the app key)" if store.installation_by_client_key(str(issuer)) else ""
        raise JiraAuthError(f"no installed app with key {issuer!r}{hint}")
    try:
        claims = jwt.decode(
            token,
            installation.shared_secret,
            algorithms=["HS256"],
            options={"require": ["iss", "iat", "exp", "qsh"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise JiraAuthError(f"JWT rejected: {exc}") from exc
    expected = query_string_hash(request.method, str(request.url), jira_base_url)
    if not hmac.compare_digest(str(claims["qsh"]), expected):
        raise JiraAuthError("the qsh claim does not match this request")
    return installation


def authenticate_forge(request: Request, forge: SandboxForge, cloud_id: str) -> Installation:
    """The Forge app whose bearer token (system or user, issued by the sandbox for this site) signs this request.

    Raises: JiraAuthError for a missing, expired, forged or another site's token, or a site that is not this one.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise JiraAuthError("expected an 'Authorization: Bearer <token>' header")
    if cloud_id != forge.cloud_id:
        raise JiraAuthError(f"no site with cloudId {cloud_id!r}")
    installation = forge.rest_installation(token)
    if installation is None:
        raise JiraAuthError("the bearer token is expired, forged or not for this site")
    return installation
