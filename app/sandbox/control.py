"""The sandbox's own control endpoints under `/_sandbox/` (not part of Jira's API): install, tokens, faults."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from app.sandbox.config import STATIC_DIR
from app.sandbox.errors import NoSuchIssueError, NotInstalledError, SandboxError
from app.sandbox.frames import origin_of, page_context
from app.sandbox.models import Installation, user_actor, user_for_role
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.issues import apply_edit
from app.sandbox.runtime import runtime_of
from app.sandbox.stats import Stats
from app.sandbox.tokens import context_token


def installation_summary(installation: Installation) -> dict[str, Any]:
    """What tests and `dtg demo` need to know about an installation, the shared secret included (sandbox only)."""
    return {
        "appKey": installation.app_key,
        "clientKey": installation.client_key,
        "sharedSecret": installation.shared_secret,
        "baseUrl": installation.app_base_url,
        "installed": installation.installed,
        "enabled": installation.enabled,
        "callbackStatus": installation.callback_status,
    }


async def json_object(request: Request) -> dict[str, Any]:
    """A control endpoint's body, which must be a JSON object."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise SandboxError("the body must be JSON") from exc
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


async def install(request: Request) -> Response:
    """`POST /_sandbox/install {"descriptorUrl": …}`: install or reinstall an app."""
    runtime = runtime_of(request)
    body = await json_object(request)
    descriptor_url = body.get("descriptorUrl") or runtime.config.descriptor_url
    installation = await runtime.installer.install_app(str(descriptor_url))
    return JSONResponse(installation_summary(installation))


async def uninstall(request: Request) -> Response:
    """`POST /_sandbox/uninstall {"appKey": …}`."""
    body = await json_object(request)
    installation = await runtime_of(request).installer.uninstall_app(str(body.get("appKey")))
    return JSONResponse(installation_summary(installation))


async def installations(request: Request) -> Response:
    return JSONResponse([installation_summary(i) for i in runtime_of(request).store.installations.values()])


async def context_token_endpoint(request: Request) -> Response:
    """`POST /_sandbox/context-token`: what host.js asks for when an iframe calls `AP.context.getToken`.

    The context is rebuilt from the store by key, never copied from the request.
    """
    runtime = runtime_of(request)
    origin = request.headers.get("origin")
    if origin is not None and origin != origin_of(runtime.config.public_url):
        # Only the sandbox's own pages may ask; an app iframe must go through postMessage like in Jira.
        return JSONResponse({"error": "cross-origin request refused"}, status_code=403)
    body = await json_object(request)
    installation = runtime.store.installations.get(str(body.get("appKey")))
    if installation is None or not installation.enabled:
        raise NotInstalledError(f"{body.get('appKey')} is not installed and enabled")
    context = body.get("context") or {}
    project = runtime.store.project(str((context.get("project") or {}).get("key", "")))
    issue = runtime.store.issue(str((context.get("issue") or {}).get("key", "")))
    user = user_for_role(body.get("as"))
    token = context_token(installation, user=user, jira=page_context(project, issue))
    return JSONResponse({"token": token})


async def faults(request: Request) -> Response:
    """`GET`/`POST /_sandbox/faults`: read or change fault injection (partial JSON update)."""
    injector = runtime_of(request).faults
    if request.method == "POST":
        try:
            injector.configure(await json_object(request))
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc
    return JSONResponse(asdict(injector.config))


async def stats(request: Request) -> Response:
    return JSONResponse(runtime_of(request).stats.snapshot())


async def reset(request: Request) -> Response:
    """`POST /_sandbox/reset`: forget issues and counters; installations stay."""
    runtime = runtime_of(request)
    await runtime.store.reset_issues()
    runtime.stats = Stats()
    return Response(status_code=204)


async def edit_issue_as_person(request: Request) -> Response:
    """`POST /_sandbox/issues/{key}/edit {"as": "developer", "fields": ..., "update": ...}`: someone edits the
    issue in Jira, as a person would in the issue view, so tests can see how the app treats edits made by others."""
    runtime = runtime_of(request)
    issue = runtime.store.issue(request.path_params["key"])
    if issue is None:
        raise NoSuchIssueError(f"no issue {request.path_params['key']}")
    body = await json_object(request)
    edit = {name: body[name] for name in ("fields", "update") if name in body}
    try:
        await apply_edit(runtime, issue, edit, user_actor(user_for_role(body.get("as"))))
    except JiraRequestError as exc:
        return exc.response()
    return Response(status_code=204)


async def all_js(request: Request) -> Response:
    """`GET /atlassian-connect/all.js`: the sandbox's `AP` (pages load it via DTG_ALL_JS_URL)."""
    return FileResponse(STATIC_DIR / "all.js", media_type="application/javascript")


async def attachment_download(request: Request) -> Response:
    """The issue view's attachment links (the REST content endpoint needs a JWT a browser does not have)."""
    store = runtime_of(request).store
    attachment = store.attachments.get(request.path_params["id"])
    content = store.attachment_content(request.path_params["id"])
    if attachment is None or content is None:
        return JSONResponse({"error": "no such attachment"}, status_code=404)
    filename = attachment.filename.replace('"', "")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=attachment.mime_type, headers=headers)


async def sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    return JSONResponse({"error": exc.message}, status_code=exc.status_code)
