"""The sandbox hosting the Forge app's Custom UI: it serves the built resources in an iframe, with a stand-in for
the `window.__bridge` that Forge gives @forge/bridge, and carries the bridge's calls to the app as Forge does.

- `invoke` (invokeRemote): proxied to the remote with a FIT naming the user and module, and both OAuth tokens.
- `fetchRemote` (requestRemote): a FIT only, no OAuth tokens; a FormData body arrives as the bridge encodes it
  (each `file...` part base64 with `__<name>Name`/`__<name>Type`) and goes on as multipart/form-data.
Both refuse calls from other origins than the sandbox's own pages (the iframe reaches them through its host page).
@see https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/invokeRemote/
@see https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/requestRemote
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from app.sandbox.control import json_object
from app.sandbox.errors import CrossOriginError, NotInstalledError, RemoteUnavailableError
from app.sandbox.forge.site import SandboxForge
from app.sandbox.frames import origin_of
from app.sandbox.models import Issue, Project, SandboxUser, user_for_role
from app.sandbox.runtime import SandboxRuntime, runtime_of

BRIDGE_SCRIPT = '<script src="/_sandbox/static/forge-bridge.js"></script>'
# Forge's limits on a UI call to a remote (invokeRemote): 25 s and 500 KB of request payload.
UI_TIMEOUT_SECONDS = 25.0
MAX_INVOKE_BYTES = 500 * 1024
MODULE_TYPES = {"project": "jira:projectPage", "glance": "jira:issueGlance", "configure": "jira:adminPage"}


@dataclass(frozen=True)
class ForgeFrame:
    """A Custom UI iframe on a sandbox page: its resource and the context getContext answers."""

    module_key: str
    src: str
    context: dict[str, Any]


def extension(module_type: str, project: Project | None, issue: Issue | None) -> dict[str, Any]:
    """`context.extension` as Jira fills it for these modules: the type, the project and the issue."""
    found: dict[str, Any] = {"type": module_type}
    if project is not None:
        found["project"] = {"id": project.id, "key": project.key, "type": "software"}
    if issue is not None:
        found["issue"] = {"id": issue.id, "key": issue.key, "type": issue.issuetype_id}
    return found


def forge_frame(
    forge: SandboxForge, page: str, user: SandboxUser, *, project: Project | None = None, issue: Issue | None = None
) -> ForgeFrame | None:
    """The iframe of the installed Forge app's module for `page` (project, glance, configure), or None."""
    if forge.installation is None:
        return None
    module_type = MODULE_TYPES[page]
    module = next(iter(forge.modules.get(module_type, [])), None)
    if module is None:
        return None
    context = {
        "accountId": user.account_id,
        "cloudId": forge.cloud_id,
        "siteUrl": forge.site_url,
        "moduleKey": module["key"],
        "localId": f"{module['key']}-sandbox",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "environmentType": "DEVELOPMENT",
        "extension": extension(module_type, project, issue),
    }
    return ForgeFrame(module["key"], f"/_sandbox/forge/resources/{module['resource']}/index.html", context)


def _resource_folder(runtime: SandboxRuntime, key: str) -> Path | None:
    for entry in runtime.forge.resources:
        if entry.get("key") == key:
            return (runtime.config.forge_resources_root / str(entry["path"])).resolve()
    return None


async def resource_file(request: Request) -> Response:
    """`GET /_sandbox/forge/resources/{key}/{path}`: a built Custom UI file; index.html gets the bridge stand-in."""
    runtime = runtime_of(request)
    folder = _resource_folder(runtime, request.path_params["key"])
    if folder is None:
        return JSONResponse({"error": "no such resource in the manifest"}, status_code=404)
    path = (folder / request.path_params["path"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        message = "not built: run `dtg forge-ui`" if not folder.is_dir() else "no such file"
        return JSONResponse({"error": message}, status_code=404)
    if path.name == "index.html":
        html = path.read_text(encoding="utf-8")
        return HTMLResponse(html.replace("<head>", "<head>\n  " + BRIDGE_SCRIPT, 1))
    return FileResponse(path)


async def _call(request: Request) -> tuple[SandboxRuntime, dict[str, Any], SandboxUser]:
    runtime = runtime_of(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != origin_of(runtime.config.public_url):
        raise CrossOriginError("cross-origin request refused")
    if runtime.forge.installation is None:
        raise NotInstalledError("the Forge app is not installed")
    body = await json_object(request)
    return runtime, body, user_for_role(body.get("as"))


def _extension(runtime: SandboxRuntime, body: dict[str, Any]) -> dict[str, Any]:
    """The module context, rebuilt from the store by key: never what the page claims about itself."""
    claimed = body.get("extension") or {}
    store = runtime.store
    project = store.project(str((claimed.get("project") or {}).get("key", "")))
    issue = store.issue(str((claimed.get("issue") or {}).get("key", "")))
    module_type = str(claimed.get("type", ""))
    return extension(module_type, project, issue) if module_type in MODULE_TYPES.values() else {}


def _headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name in ("content-type", "content-disposition")}


async def invoke(request: Request) -> Response:
    """`POST /_sandbox/forge/invoke {as, extension, request: {path, method, headers, body}}`: an invokeRemote."""
    runtime, body, user = await _call(request)
    call = body.get("request") or {}
    payload = call.get("body")
    if len(json.dumps(payload)) > MAX_INVOKE_BYTES:
        refused = {"error": {"message": "Forge refuses invokeRemote payloads over 500 KB."}}
        return JSONResponse({"success": False, "error": {"status": 413, "headers": {}, "body": refused}})
    forge = runtime.forge
    headers = {
        **{str(k): str(v) for k, v in (call.get("headers") or {}).items() if str(k).lower() != "authorization"},
        **forge.invocation_headers(account_id=user.account_id, extension=_extension(runtime, body)),
    }
    try:
        answer = await forge.http.request(
            str(call.get("method", "GET")),
            forge.app_base_url + str(call.get("path", "/")),
            headers=headers,
            json=payload if payload is not None else None,
            timeout=UI_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise RemoteUnavailableError(f"the remote did not answer within Forge's 25 s: {exc}") from exc
    try:
        parsed = answer.json() if answer.content else None
    except ValueError:
        parsed = None  # Forge wants JSON from a remote; anything else reaches the page as no body
    result = {"status": answer.status_code, "headers": {k: [v] for k, v in _headers(answer).items()}, "body": parsed}
    return JSONResponse({"success": True, "payload": result})


def _multipart(encoded: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The bridge's JSON encoding of a FormData back into multipart file parts."""
    fields = json.loads(encoded)
    return [
        (name, (str(fields.get(f"__{name}Name", name)), base64.b64decode(_data(value)), _type(fields, name)))
        for name, value in fields.items()
        if name.startswith("file") and isinstance(value, str)
    ]


def _type(fields: dict[str, Any], name: str) -> str:
    return str(fields.get(f"__{name}Type") or "application/octet-stream")


def _data(value: str) -> str:
    """A data URL's payload (the bridge's blobToBase64 gives `data:<type>;base64,<data>`) or plain base64."""
    return value.split(",", 1)[1] if value.startswith("data:") else value


async def fetch_remote(request: Request) -> Response:
    """`POST /_sandbox/forge/remote {as, extension, remoteKey, fetchRequestInit, isMultipartFormData}`."""
    runtime, body, user = await _call(request)
    forge = runtime.forge
    init = body.get("fetchRequestInit") or {}
    sent = {str(k).lower(): str(v) for k, v in (init.get("headers") or [])}
    headers = {k: v for k, v in sent.items() if k in ("accept",)}
    headers |= forge.invocation_headers(account_id=user.account_id, extension=_extension(runtime, body), oauth=False)
    files = _multipart(str(init.get("body") or "{}")) if body.get("isMultipartFormData") else None
    content = None if files is not None else init.get("body")
    try:
        answer = await forge.http.request(
            str(init.get("method", "GET")),
            forge.app_base_url + str(init.get("path", "/")),
            headers=headers | ({"content-type": sent["content-type"]} if content and "content-type" in sent else {}),
            files=files,
            content=content,
            timeout=UI_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise RemoteUnavailableError(f"the remote did not answer: {exc}") from exc
    textual = any(kind in answer.headers.get("content-type", "") for kind in ("json", "text"))
    return JSONResponse(
        {
            "status": answer.status_code,
            "statusText": answer.reason_phrase,
            "headers": _headers(answer),
            "isAttachment": not textual,
            "body": answer.text if textual else base64.b64encode(answer.content).decode(),
        }
    )
