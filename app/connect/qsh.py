"""The Connect query string hash (`qsh`): a SHA-256 of the canonical request a JWT is bound to.

@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlsplit

CONTEXT_QSH = "context-qsh"


def _encode(value: str) -> str:
    # RFC 3986: everything but unreserved characters is percent-encoded (space is %20, `*` is %2A).
    return quote(value, safe="~")


def canonical_path(path: str, base_path: str = "") -> str:
    """The request path relative to the app's base path, with `&` escaped and no trailing slash."""
    base_path = base_path.rstrip("/")
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :]
    if len(path) > 1:
        path = path.rstrip("/")
    return (path or "/").replace("&", "%26")


def canonical_query(query: str) -> str:
    """Parameters sorted by encoded key, repeated keys joined by `,` without `jwt`.

    Repeated values are sorted before encoding: the vectors put `.1` before `%3A1`.
    """
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "jwt":
            grouped.setdefault(_encode(key), []).append(value)
    return "&".join(
        f"{key}={','.join(_encode(value) for value in sorted(values))}" for key, values in sorted(grouped.items())
    )


def canonical_request(method: str, url: str, base_url: str = "") -> str:
    """`METHOD&path&query` for an absolute or path-only URL, relative to `base_url`'s path."""
    parts = urlsplit(url)
    base_path = urlsplit(base_url).path if base_url else ""
    return f"{method.upper()}&{canonical_path(parts.path, base_path)}&{canonical_query(parts.query)}"


def query_string_hash(method: str, url: str, base_url: str = "") -> str:
    return hashlib.sha256(canonical_request(method, url, base_url).encode()).hexdigest()
