"""The Connect descriptor: the top-level `atlassian-connect.json` with `baseUrl` and `key` from settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DESCRIPTOR_TEMPLATE = Path(__file__).resolve().parents[2] / "atlassian-connect.json"


def render_descriptor(*, base_url: str, app_key: str, template: Path = DESCRIPTOR_TEMPLATE) -> dict[str, Any]:
    descriptor: dict[str, Any] = json.loads(template.read_text(encoding="utf-8"))
    descriptor["baseUrl"] = base_url
    descriptor["key"] = app_key
    return descriptor


def module_urls(descriptor: dict[str, Any]) -> list[str]:
    """Every app-relative URL the descriptor declares (lifecycle and modules), without query strings."""
    urls = list(descriptor.get("lifecycle", {}).values())
    for modules in descriptor.get("modules", {}).values():
        for module in modules if isinstance(modules, list) else [modules]:
            target = module.get("target", {})
            for url in (module.get("url"), module.get("iconUrl"), target.get("url"), module.get("icon", {}).get("url")):
                if url:
                    urls.append(url)
    return [url.split("?", 1)[0] for url in urls]
