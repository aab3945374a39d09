"""The project page's JSON API for upload sessions: list, open, resume, upload files, set their type, re-check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.db.models import UploadSession
from app.domain.retention import SESSION_IDLE_DAYS
from app.errors import AppError
from app.offload import offload
from app.pipeline.intake import (
    LIMITS,
    IncomingFile,
    UploadRejectedError,
    add_files,
    open_session,
    rename_session,
    set_file_kind,
    validate_session,
)
from app.pipeline.intake import (
    remove_file as remove_file_step,
)
from app.pipeline.queries import project_sessions, session_contents
from app.pipeline.retention import delete_session as delete_session_step
from app.web import body_schemas
from app.web.body_limit import limited
from app.web.routing import Auth, SecuredRoute
from app.web.scope import (
    UnsupportedMediaError,
    actor,
    heavy,
    json_body,
    project_key,
    scope_of,
    services,
    stored_id,
    tenant_id,
    upload_session,
    upload_session_contents,
)

# Room for the multipart boundaries and headers around the files themselves.
MAX_UPLOAD_BODY = LIMITS.max_total_bytes + 1024 * 1024


def session_name(upload: UploadSession, files: list[str]) -> str:
    """A name people recognise: the one the director typed, else the files' shared prefix ("UWEC spec"), else the
    first file, else the number. A revision says so, with its place in the spec's line (the first revision is 1),
    before its files' name: it holds the same files as the session it revises, at first."""
    if upload.name:
        return upload.name
    if upload.revision:
        revision = f"Revision {len(upload.revision.get('lineage') or ()) or 1}"
        return f"{revision}: {_files_name(files)}" if files else f"{revision} (no files yet)"
    return _files_name(files) or f"Session {stored_id(upload)} (no files yet)"


def _files_name(files: list[str]) -> str:
    stems = [name.rsplit(".", 1)[0] for name in files]
    # The shared leading characters of all names: those of the first and the last in sort order.
    first, last = min(stems, default=""), max(stems, default="")
    same = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    prefix = first[:same].rstrip(" _-.")
    if len(prefix) >= 2:
        return f"{prefix} spec"
    if stems:
        return stems[0] + (f" and {len(stems) - 1} more" if len(stems) > 1 else "")
    return ""


def session_json(upload: UploadSession, files: list[str]) -> dict[str, Any]:
    return {
        "id": stored_id(upload),
        "name": session_name(upload, files),
        "typedName": upload.name,
        "files": len(files),
        "createdBy": upload.created_by,
        "projectKey": upload.project_key,
        "stage": upload.stage,
        "createdAt": upload.created_at.isoformat(),
        "lastActivityAt": upload.last_activity_at.isoformat(),
        "expiresAt": (upload.last_activity_at + timedelta(days=SESSION_IDLE_DAYS)).isoformat(),
    }


async def list_sessions(request: Request) -> Response:
    found = await offload(project_sessions, services(request), tenant_id(request), project_key(request))
    rows = [session_json(s, contents.files) for s, contents in found]
    return JSONResponse({"sessions": rows, "retentionDays": SESSION_IDLE_DAYS})


async def create_session(request: Request) -> Response:
    context = (request.state.identity.context or {}).get("jira") or {}
    upload = await offload(
        open_session,
        services(request),
        tenant_id(request),
        actor(request),
        project_key=project_key(request),
        project_id=str((context.get("project") or {}).get("id", "")),
    )
    return JSONResponse(session_json(upload, []), status_code=201)


async def get_session(request: Request) -> Response:
    upload, contents = await upload_session_contents(request)
    return JSONResponse(session_json(upload, contents.files))


async def rename(request: Request) -> Response:
    """`{"name": "..."}` names the session; `{"name": null}` (or blank) names it after its files again."""
    upload = await upload_session(request)
    name = (await json_body(request, body_schemas.RENAME_SESSION)).get("name")
    renamed = await offload(rename_session, services(request), scope_of(upload), actor(request), name)
    contents = await offload(session_contents, services(request), scope_of(renamed))
    return JSONResponse(session_json(renamed, contents.files))


def _too_large() -> UploadRejectedError:
    return UploadRejectedError(
        f"The upload is larger than a session allows ({LIMITS.max_total_bytes // (1024 * 1024)} MB in all, "
        f"{LIMITS.max_file_bytes // (1024 * 1024)} MB per CSV file, {LIMITS.max_workbook_bytes // (1024 * 1024)} "
        "MB per workbook). Upload fewer or smaller files."
    )


async def upload_files(request: Request) -> Response:
    """Multipart file parts named `file...` (`files` from the Connect page, `file0`, `file1`... from Forge's
    requestRemote, which carries one part per name); a file with the name of a stored one replaces it."""
    upload = await upload_session(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaError("Upload the CSV files as multipart/form-data (a file picker or drag and drop).")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BODY:
        raise _too_large()
    limited_request = Request(request.scope, limited(request.receive, MAX_UPLOAD_BODY, _too_large))
    form = await limited_request.form(max_files=LIMITS.max_files, max_fields=10)
    try:
        incoming = [
            IncomingFile(item.filename or "", await item.read())
            for name, item in form.multi_items()
            if name.startswith("file") and isinstance(item, UploadFile)
        ]
    finally:
        await form.close()
    if not incoming:
        raise AppError("Choose at least one CSV file to upload.")
    stored = await offload(add_files, services(request), scope_of(upload), actor(request), incoming)
    return JSONResponse({"stored": stored}, status_code=201)


async def set_kind(request: Request) -> Response:
    upload = await upload_session(request)
    body = await json_body(request, body_schemas.SET_FILE_KIND)
    kind = body.get("kind") or None
    name = request.path_params["name"]
    await offload(set_file_kind, services(request), scope_of(upload), actor(request), name, kind)
    return JSONResponse({"name": name, "kind": kind})


async def remove_file(request: Request) -> Response:
    upload = await upload_session(request)
    await offload(remove_file_step, services(request), scope_of(upload), actor(request), request.path_params["name"])
    return Response(status_code=204)


async def delete_session(request: Request) -> Response:
    upload = await upload_session(request)
    await offload(delete_session_step, services(request), scope_of(upload), actor(request))
    return Response(status_code=204)


async def intake_report(request: Request) -> Response:
    upload = await upload_session(request)
    result = await heavy(
        request, validate_session, services(request), tenant_id=upload.tenant_id, session_id=stored_id(upload)
    )
    return JSONResponse(result.to_dict(include_model=False))


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}"
    return [
        SecuredRoute("/api/sessions", list_sessions, auth=Auth.CONTEXT),
        SecuredRoute("/api/sessions", create_session, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(base, get_session, auth=Auth.CONTEXT),
        SecuredRoute(base, delete_session, auth=Auth.CONTEXT, methods=["DELETE"]),
        SecuredRoute(base, rename, auth=Auth.CONTEXT, methods=["PATCH"]),
        SecuredRoute(f"{base}/files", upload_files, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(f"{base}/files/{{name}}/kind", set_kind, auth=Auth.CONTEXT, methods=["PUT"]),
        SecuredRoute(f"{base}/files/{{name}}", remove_file, auth=Auth.CONTEXT, methods=["DELETE"]),
        SecuredRoute(f"{base}/intake", intake_report, auth=Auth.CONTEXT),
    ]
