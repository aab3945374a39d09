"""The sandbox playing Forge for its one site: it installs the Forge app, fires its trigger, checks its tokens.

The app is installed through its lifecycle endpoint with a FIT signed by keys the sandbox publishes
(`/_sandbox/forge/jwks.json`), and reaches the sandbox's REST API at `/ex/jira/{cloudId}/rest/api/3` with the bearer
tokens the sandbox issued, as it reaches `https://api.atlassian.com/ex/jira/{cloudId}` in production.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from app.forge.manifest import MANIFEST_TEMPLATE
from app.sandbox.errors import SandboxError
from app.sandbox.forge.signing import ForgeInstallation, ForgeSigner
from app.sandbox.models import Installation


def deployed_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST_TEMPLATE.read_text(encoding="utf-8"))
    return manifest


def deployed_modules() -> dict[str, Any]:
    return dict(deployed_manifest()["modules"])


def deployed_resources() -> list[dict[str, Any]]:
    return list(deployed_manifest()["resources"])


INSTALLED_EVENT = "avi:forge:installed:app"
LIFECYCLE_PATH = "/forge/lifecycle"
SCHEDULED_PATH = "/forge/scheduled"
# What the REST gate checks a Forge app's scopes against (the manifest's Jira scopes allow no deletes).
FORGE_SCOPES = ("READ", "WRITE")


@dataclass
class SandboxForge:
    signer: ForgeSigner
    cloud_id: str
    site_url: str
    http: httpx.AsyncClient
    installation: ForgeInstallation | None = None
    app_base_url: str = ""
    # The app's HTTP status for each call the sandbox made as Forge, newest last.
    calls: list[tuple[str, int]] = field(default_factory=list)
    # The modules of the deployed manifest (Forge reads them at deploy time; the sandbox from manifest.yml).
    modules: dict[str, Any] = field(default_factory=lambda: deployed_modules())
    # The Custom UI resources (key, path) the manifest names; the sandbox serves their built folders.
    resources: list[dict[str, Any]] = field(default_factory=lambda: deployed_resources())

    @property
    def api_base_url(self) -> str:
        return f"{self.site_url}/ex/jira/{self.cloud_id}"

    async def install(self, app_base_url: str) -> ForgeInstallation:
        """Install (or reinstall, with a new installationId) and send the installed event. Raises: SandboxError."""
        self.app_base_url = app_base_url.rstrip("/")
        self.installation = ForgeInstallation(
            installation_id=f"ari:cloud:ecosystem::installation/{uuid.uuid4()}",
            cloud_id=self.cloud_id,
            site_url=self.site_url,
            api_base_url=self.api_base_url,
        )
        await self._trigger(LIFECYCLE_PATH, {"eventType": INSTALLED_EVENT})
        return self.installation

    def indexed_properties(self) -> set[tuple[str, str]]:
        """(propertyKey, path) pairs the installed Forge app indexes with `jira:entityProperty` modules on issues."""
        if self.installation is None:
            return set()
        return {
            (str(module["propertyKey"]), str(value["path"]))
            for module in self.modules.get("jira:entityProperty", [])
            if module.get("entityType", "issue") == "issue"
            for value in module.get("values", [])
        }

    async def fire_scheduled(self) -> None:
        """The hourly trigger: a fresh system token. Raises: SandboxError."""
        await self._trigger(SCHEDULED_PATH, {"context": {"cloudId": self.cloud_id}})

    def rest_installation(self, token: str) -> Installation | None:
        """The installed Forge app a bearer token belongs to; None for expired, forged or another site's tokens."""
        if self.installation is None or self.signer.check_oauth_token(token, cloud_id=self.cloud_id) is None:
            return None
        return Installation(
            app_key=self.signer.app_id,
            client_key=self.installation.installation_id,
            shared_secret="",
            app_base_url=self.app_base_url,
            descriptor={"name": "Forge app", "scopes": list(FORGE_SCOPES)},
        )

    def invocation_headers(
        self, *, account_id: str | None = None, extension: dict[str, Any] | None = None, oauth: bool = True
    ) -> dict[str, str]:
        """What Forge adds to a call to the remote: a fresh FIT, and (for invokeRemote and triggers) the system
        token and, for a person's call, their user token. Raises: SandboxError when the app is not installed."""
        if self.installation is None:
            raise SandboxError("the Forge app is not installed; POST /_sandbox/forge/install first")
        fit = self.signer.invocation_token(self.installation, account_id=account_id, extension=extension)
        headers = {"Authorization": f"Bearer {fit}"}
        if oauth:
            headers["x-forge-oauth-system"] = self.signer.oauth_token(self.installation)
            if account_id is not None:
                headers["x-forge-oauth-user"] = self.signer.oauth_token(self.installation, account_id=account_id)
        return headers

    async def _trigger(self, path: str, body: dict[str, Any]) -> None:
        headers = self.invocation_headers()
        try:
            response = await self.http.post(self.app_base_url + path, json=body, headers=headers, timeout=5.0)
        except httpx.HTTPError as exc:
            raise SandboxError(f"the app did not answer {path}: {exc}") from exc
        self.calls.append((path, response.status_code))
        if response.status_code != 200:
            raise SandboxError(f"the app answered {response.status_code} to {path}: {response.text[:300]}")
