"""The Forge manifest: the committed `manifest.yml` with `app.id` and the remote's `baseUrl` taken from settings.

The Connect descriptor is built the same way from `atlassian-connect.json`, so both fronts name one backend.
@see https://developer.atlassian.com/platform/forge/manifest-reference/
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from app.errors import AppError

MANIFEST_TEMPLATE = Path(__file__).resolve().parents[2] / "manifest.yml"
REMOTE_KEY = "backend"


class ManifestSettingsError(AppError):
    """The settings cannot make a deployable manifest (Forge reaches remotes over https only)."""


def render_manifest(*, base_url: str, app_id: str, template: Path = MANIFEST_TEMPLATE) -> dict[str, Any]:
    """The manifest for this deployment. Raises: ManifestSettingsError."""
    if urlsplit(base_url).scheme != "https":
        raise ManifestSettingsError(f"Forge calls remotes over https only; DTG_BASE_URL is {base_url}.")
    if not app_id.startswith("ari:cloud:ecosystem::app/"):
        raise ManifestSettingsError("DTG_FORGE_APP_ID must be the app's ARI (ari:cloud:ecosystem::app/<uuid>).")
    manifest: dict[str, Any] = yaml.safe_load(template.read_text(encoding="utf-8"))
    manifest["app"]["id"] = app_id
    for remote in manifest["remotes"]:
        if remote["key"] == REMOTE_KEY:
            remote["baseUrl"] = base_url.rstrip("/")
    return manifest


def manifest_text(manifest: dict[str, Any]) -> str:
    header = "# Written by `dtg forge-manifest` from manifest.yml and the settings; deploy with `forge deploy`.\n"
    body: str = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    return header + body


def endpoint_routes(manifest: dict[str, Any]) -> dict[str, str]:
    """Route path by endpoint key, for the endpoints that name one (triggers); UI endpoints take the call's path."""
    return {
        endpoint["key"]: endpoint["route"]["path"]
        for endpoint in manifest["modules"].get("endpoint", [])
        if "route" in endpoint
    }
