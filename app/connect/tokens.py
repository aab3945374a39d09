"""Signing Connect HS256 tokens bound to one request, as Jira and the app both do."""

from __future__ import annotations

import time
from typing import Any

import jwt

from app.connect.qsh import query_string_hash


def sign_request_token(
    *,
    issuer: str,
    secret: str,
    method: str,
    url: str,
    base_url: str = "",
    ttl_seconds: int = 180,
    now: float | None = None,
    **claims: Any,
) -> str:
    """A token whose `qsh` binds it to `method url` (relative to `base_url`), valid for `ttl_seconds`."""
    issued = int(now if now is not None else time.time())
    payload = {
        "iss": issuer,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "qsh": query_string_hash(method, url, base_url),
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")
