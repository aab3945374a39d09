"""Forge's public signing keys (a JWKS), fetched by `kid`, cached, and refetched at a bounded rate.

A token naming a `kid` we do not hold triggers one refetch (Atlassian rotates keys), but never more often than
`min_refetch_seconds`: a stream of forged kids cannot turn us into a load generator against the key server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from app.errors import AppError


class ForgeKeysUnavailableError(AppError):
    """The JWKS could not be fetched or read; Forge retries triggers, the UI shows a retry message."""


class ForgeKeySet:
    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        min_refetch_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._http = http
        self._min_refetch = min_refetch_seconds
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> Any | None:
        """The RSA public key for `kid`, or None when the key server does not know it.

        Raises: ForgeKeysUnavailableError when the key set cannot be fetched.
        """
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:  # concurrent requests with a new kid share one fetch
            if kid not in self._keys and self._may_refetch():
                await self._refetch()
        return self._keys.get(kid)

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refetch

    async def _refetch(self) -> None:
        self._fetched_at = self._clock()
        self.fetches += 1
        try:
            response = await self._http.get(self._url, timeout=10)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ForgeKeysUnavailableError("Forge's signing keys could not be fetched; try again shortly.") from exc
        keys: dict[str, Any] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            # Only RSA signing keys with a kid: anything else in the set is ignored rather than trusted.
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK.from_dict(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                continue
        self._keys = keys
