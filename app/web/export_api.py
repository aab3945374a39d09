"""Export from the project page: readiness, start (and retry), results, the spec CSVs with Jira keys, the audit."""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.db.models import UploadSession
from app.jira.client import JiraClient
from app.offload import offload
from app.pipeline.dry_run import dry_run
from app.pipeline.export import export_csvs, export_results
from app.pipeline.queries import session_events
from app.pipeline.readiness import Readiness, assess_readiness, export_session
from app.web.forge_identity import user_auth
from app.web.routing import Auth, SecuredRoute
from app.web.scope import actor, heavy, scope_of, services, stored_id, upload_session


def jira_of(request: Request) -> JiraClient:
    """Jira as the caller's installation sees it (and, on Forge, as the user who asks)."""
    current = services(request)
    return JiraClient(
        current.http, request.state.identity.installation, current.settings.app_key, auth=user_auth(request)
    )


async def readiness_of(request: Request, upload: UploadSession) -> Readiness:
    """Shared with the export panel, which shows the same checks."""
    return await assess_readiness(services(request), scope_of(upload), jira_of(request), upload.project_key)


async def readiness(request: Request) -> Response:
    return JSONResponse((await readiness_of(request, await upload_session(request))).to_dict())


async def export_dry_run(request: Request) -> Response:
    """Each create request the export would send, changing nothing."""
    upload = await upload_session(request)
    current = services(request)
    client = JiraClient(
        current.http, request.state.identity.installation, current.settings.app_key, auth=user_auth(request)
    )
    assert stored_id(upload) is not None
    found = await dry_run(
        current, client, tenant_id=upload.tenant_id, session_id=stored_id(upload), project_key=upload.project_key
    )
    return JSONResponse(found.to_dict())


async def start(request: Request) -> Response:
    """Start the export, or retry it: a new run resumes where the last one stopped and never duplicates."""
    upload = await upload_session(request)
    task_id = await export_session(
        services(request), scope_of(upload), actor(request), jira_of(request), upload.project_key
    )
    return JSONResponse({"taskId": task_id}, status_code=202)


async def results(request: Request) -> Response:
    upload = await upload_session(request)
    found = await offload(export_results, services(request), upload.tenant_id, stored_id(upload))
    return JSONResponse(
        {
            "state": found.state,
            "message": found.message,
            "summary": found.summary,
            "tickets": [asdict(t) for t in found.tickets],
        }
    )


async def spec_zip(request: Request) -> Response:
    upload = await upload_session(request)
    files = await heavy(request, export_csvs, services(request), upload.tenant_id, stored_id(upload))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    filename = f"{upload.project_key}-spec-with-jira-keys.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def audit_trail(request: Request) -> Response:
    upload = await upload_session(request)
    events = await offload(session_events, services(request), scope_of(upload))
    return JSONResponse(
        {
            "events": [
                {"at": e.created_at.isoformat(), "accountId": e.account_id, "action": e.action, "detail": e.detail}
                for e in events
            ]
        }
    )


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}"
    return [
        SecuredRoute(f"{base}/readiness", readiness, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/export", start, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(f"{base}/export", results, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/export/spec.zip", spec_zip, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/export/dry-run", export_dry_run, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/audit", audit_trail, auth=Auth.CONTEXT),
    ]
