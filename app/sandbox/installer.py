"""Installing an app the way Jira Cloud does: descriptor, signed `installed` callback, then `enabled`.

@see https://developer.atlassian.com/cloud/jira/platform/connect-app-descriptor/#lifecycle
@see https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/#installation-callbacks
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from dataclasses import replace
from typing import Any

import httpx

from app.sandbox.config import SandboxConfig
from app.sandbox.errors import InstallError, NotInstalledError
from app.sandbox.keys import InstallKeyPair
from app.sandbox.models import ADMIN_USER, Installation
from app.sandbox.store import SandboxStore
from app.sandbox.tokens import install_token, lifecycle_token

logger = logging.getLogger(__name__)

SERVER_VERSION = "100272"
PLUGINS_VERSION = "1001.0.0-SNAPSHOT"


class Installer:
    def __init__(self, config: SandboxConfig, store: SandboxStore, keys: InstallKeyPair, http: httpx.AsyncClient):
        self._config = config
        self._store = store
        self._keys = keys
        self._http = http

    async def install_app(self, descriptor_url: str) -> Installation:
        """Install (or reinstall) the app whose descriptor is at `descriptor_url`.

        A reinstall keeps the clientKey and rotates the shared secret, as Jira does.

        Raises:
            InstallError: the descriptor is unreachable or invalid, or the app answered the callback with non-2xx.
        """
        descriptor = await self._fetch_descriptor(descriptor_url)
        app_key = descriptor["key"]
        previous = self._store.installations.get(app_key)
        installation = Installation(
            app_key=app_key,
            client_key=previous.client_key if previous else str(uuid.uuid4()),
            shared_secret=secrets.token_urlsafe(32),
            app_base_url=descriptor["baseUrl"].rstrip("/"),
            descriptor=descriptor,
        )
        response = await self._signed_install_callback(installation, "installed")
        if not response.is_success:
            # Jira keeps the previous installation (and its secret) when a reinstall is refused.
            raise InstallError(
                f"{app_key} refused the installed callback with HTTP {response.status_code}: {response.text[:300]}"
            )
        installation.callback_status["installed"] = response.status_code
        await self._store.save_installation(installation)
        await self._hs256_callback(installation, "enabled")
        logger.info("installed %s (clientKey %s)", app_key, installation.client_key)
        return installation

    async def uninstall_app(self, app_key: str) -> Installation:
        """Send `disabled` then the signed `uninstalled` callback; the app's answer is recorded, not enforced.

        Jira does not retry or block on `uninstalled`, so neither do we.

        Raises:
            NotInstalledError: no app with that key is installed.
        """
        installation = self._store.installations.get(app_key)
        if installation is None or not installation.installed:
            raise NotInstalledError(f"{app_key} is not installed")
        try:
            await self._hs256_callback(installation, "disabled")
            status = (await self._signed_install_callback(installation, "uninstalled")).status_code
        except InstallError as exc:
            logger.warning("uninstalling %s anyway: %s", app_key, exc)
            status = 0
        installation = replace(
            installation,
            installed=False,
            enabled=False,
            callback_status=installation.callback_status | {"uninstalled": status},
        )
        await self._store.save_installation(installation)
        return installation

    async def install_when_ready(self, descriptor_url: str, wait_seconds: float) -> Installation:
        """Install once the app's descriptor answers, retrying for up to `wait_seconds` while it starts."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                await self._fetch_descriptor(descriptor_url)
            except InstallError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.5)
            else:
                return await self.install_app(descriptor_url)

    async def _fetch_descriptor(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"Accept": "application/json"}, follow_redirects=True)
            response.raise_for_status()
            descriptor: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise InstallError(f"cannot read the app descriptor at {url}: {exc}") from exc
        missing = [name for name in ("key", "baseUrl") if not isinstance(descriptor.get(name), str)]
        if not (descriptor.get("lifecycle") or {}).get("installed"):
            missing.append("lifecycle.installed")
        if missing:
            raise InstallError(f"the descriptor at {url} lacks {', '.join(missing)}")
        return descriptor

    def _payload(self, installation: Installation, event_type: str) -> dict[str, Any]:
        # The standard lifecycle payload; one shape for every event.
        # @see https://developer.atlassian.com/cloud/jira/platform/connect-app-descriptor/#lifecycle-http-request-payload
        base_url = self._config.public_url
        return {
            "key": installation.app_key,
            "clientKey": installation.client_key,
            "sharedSecret": installation.shared_secret,
            "serverVersion": SERVER_VERSION,
            "pluginsVersion": PLUGINS_VERSION,
            "baseUrl": base_url,
            "displayUrl": base_url,
            "productType": "jira",
            "description": "Atlassian JIRA at " + base_url,
            "eventType": event_type,
            "cloudId": self._config.cloud_id,
        }

    def _callback_url(self, installation: Installation, event_type: str) -> str | None:
        path = (installation.descriptor.get("lifecycle") or {}).get(event_type)
        return installation.app_base_url + "/" + path.lstrip("/") if path else None

    async def _signed_install_callback(self, installation: Installation, event_type: str) -> httpx.Response:
        url = self._callback_url(installation, event_type)
        if url is None:
            # Only `uninstalled` can be missing: the descriptor check requires `installed`.
            return httpx.Response(204)
        token = install_token(
            self._keys,
            client_key=installation.client_key,
            app_base_url=installation.app_base_url,
            url=url,
            user=ADMIN_USER,
        )
        return await self._post(url, token, self._payload(installation, event_type))

    async def _hs256_callback(self, installation: Installation, event_type: str) -> None:
        url = self._callback_url(installation, event_type)
        if url is None:
            return
        response = await self._post(url, lifecycle_token(installation, url), self._payload(installation, event_type))
        installation.callback_status[event_type] = response.status_code
        await self._store.save_installation(installation)

    async def _post(self, url: str, token: str, payload: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._http.post(url, json=payload, headers={"Authorization": f"JWT {token}"})
        except httpx.HTTPError as exc:
            raise InstallError(f"the {payload['eventType']} callback to {url} failed: {exc}") from exc
        if not response.is_success:
            logger.warning("%s callback to %s: HTTP %s", payload["eventType"], url, response.status_code)
        return response
