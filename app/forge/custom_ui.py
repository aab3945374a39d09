"""The Forge front's Custom UI resources, built from the same templates and scripts as the Connect pages.

Forge hosts static files only and frames them itself, so each resource the manifest names (`resources[].path`) is
a small page: the stylesheets and scripts of the Connect page's template (its `head` block, rendered here), the
Forge host adapter `forge-host.js` in place of host.js (DTGHost over @forge/bridge, bundled by esbuild from
`forge-ui/`, installed by `npm ci` from its lock file; nothing comes from a CDN), and an empty `<main>` the adapter
fills with the same template's content block, answered by `GET /api/pages/{name}`.
@see https://developer.atlassian.com/platform/forge/custom-ui/
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from app.errors import AppError
from app.forge.manifest import MANIFEST_TEMPLATE

REPO = MANIFEST_TEMPLATE.parent
UI_PACKAGE = REPO / "forge-ui"
STATIC = REPO / "app" / "static"
TEMPLATES = REPO / "templates"
HOST_BUNDLE = "forge-host.js"
# Which page each manifest resource is (the names of GET /api/pages/{name}).
RESOURCE_PAGES = {"project-page": "project", "glance": "glance", "configure": "configure"}
PAGE_TEMPLATES = {"project": "project.html", "glance": "glance.html", "configure": "configure.html"}
# What base.html loads on every page before the template's own head block (host.js is the Connect adapter).
BASE_STYLES = ("app.css",)
BASE_SCRIPTS = ("app.js",)
_ASSET = re.compile(r"""<(script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


class CustomUIBuildError(AppError):
    """The resources cannot be built (npm or node missing, the bundle failing)."""


@dataclass(frozen=True)
class Resource:
    key: str
    page: str
    folder: Path
    title: str


def resources(manifest: dict[str, Any] | None = None, *, root: Path = REPO) -> list[Resource]:
    """The manifest's Custom UI resources, each with the page it shows, the folder Forge deploys and the title of
    the module that shows it."""
    manifest = manifest or yaml.safe_load(MANIFEST_TEMPLATE.read_text(encoding="utf-8"))
    titles = {
        module["resource"]: str(module.get("title", ""))
        for modules in manifest["modules"].values()
        for module in modules
        if isinstance(module, dict) and "resource" in module
    }
    return [
        Resource(entry["key"], RESOURCE_PAGES[entry["key"]], root / entry["path"], titles.get(entry["key"], ""))
        for entry in manifest["resources"]
    ]


def page_assets(page: str) -> tuple[list[str], list[str]]:
    """The stylesheets and scripts the Connect page loads (base.html's and its template's head block), in order."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    environment.globals["url_for"] = lambda _name, path: path
    template = environment.get_template(PAGE_TEMPLATES[page])
    head = "".join(template.blocks["head"](template.new_context({})))
    styles, scripts = list(BASE_STYLES), list(BASE_SCRIPTS)
    for tag, path in _ASSET.findall(head):
        (scripts if tag == "script" else styles).append(path)
    return styles, scripts


def shell(page: str, title: str) -> str:
    styles, scripts = page_assets(page)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return environment.get_template("forge_resource.html").render(
        title=title, page=page, styles=styles, scripts=scripts, host=HOST_BUNDLE
    )


def bundle_host(output: Path, *, npm: str | None = None) -> Path:
    """`forge-ui/src/host.js` with @forge/bridge bundled into one file. Raises: CustomUIBuildError."""
    npm = npm or shutil.which("npm")
    if npm is None:
        raise CustomUIBuildError("npm is needed to build the Forge Custom UI (it installs @forge/bridge).")
    esbuild = UI_PACKAGE / "node_modules" / ".bin" / "esbuild"
    lock = UI_PACKAGE / "package-lock.json"
    installed = UI_PACKAGE / "node_modules" / ".package-lock.json"
    if not esbuild.exists() or not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci")
    _run(
        [
            str(esbuild),
            "src/host.js",
            "--bundle",
            "--minify",
            "--format=iife",
            "--target=es2020",
            "--log-level=error",
            f"--outfile={output}",
        ],
        "esbuild",
    )
    return output


def _run(command: list[str], what: str) -> None:
    try:
        subprocess.run(command, cwd=UI_PACKAGE, check=True, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise CustomUIBuildError(f"{what} failed while building the Forge Custom UI: {detail[-2000:]}") from exc


def build(*, root: Path = REPO, npm: str | None = None) -> list[Resource]:
    """Write every resource folder the manifest names (under `root`). Raises: CustomUIBuildError."""
    found = resources(root=root)
    for folder in {r.folder.parent for r in found}:
        folder.mkdir(parents=True, exist_ok=True)
    host = bundle_host(found[0].folder.parent / HOST_BUNDLE, npm=npm)
    for resource in found:
        if resource.folder.exists():
            shutil.rmtree(resource.folder)
        resource.folder.mkdir(parents=True)
        styles, scripts = page_assets(resource.page)
        for name in {*styles, *scripts, "icon.svg"}:
            shutil.copyfile(STATIC / name, resource.folder / name)
        shutil.copyfile(host, resource.folder / HOST_BUNDLE)
        (resource.folder / "index.html").write_text(shell(resource.page, resource.title), encoding="utf-8")
    host.unlink()
    return found
