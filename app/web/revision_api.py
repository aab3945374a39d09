"""Revising an exported spec from the project page: open the revision, read its plan, choose for conflicts.

Applying the plan is the revised session's export (`POST /api/sessions/{id}/export`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.offload import offload
from app.pipeline.queries import session_contents
from app.pipeline.revisions import choose, revision_plan, start_revision
from app.web import body_schemas
from app.web.export_api import jira_of
from app.web.routing import Auth, SecuredRoute
from app.web.scope import actor, json_body, scope_of, services, stored_id, upload_session
from app.web.session_api import session_json


async def revise(request: Request) -> Response:
    """ "Revise this spec": a new session that revises this exported one, holding its files as they are now (the
    changed ones too), whatever the button it came from: the director replaces or adds only what changed."""
    upload = await upload_session(request)
    revision = await offload(start_revision, services(request), scope_of(upload), actor(request), carry_files=True)
    held = await offload(session_contents, services(request), scope_of(revision))
    return JSONResponse({**session_json(revision, held.files), "revises": stored_id(upload)}, status_code=201)


async def plan(request: Request) -> Response:
    """What applying the revision would do, per ticket, read from Jira now; nothing is written."""
    upload = await upload_session(request)
    found = await revision_plan(
        services(request), jira_of(request), tenant_id=upload.tenant_id, session_id=stored_id(upload)
    )
    choices = dict((upload.revision or {}).get("choices") or {})
    return JSONResponse({**found.to_dict(), "revises": (upload.revision or {}).get("of"), "choices": choices})


async def set_choice(request: Request) -> Response:
    """For an issue edited in Jira since: `keep` Jira's, `overwrite` it with the spec's, or `comment` (409 naming the
    ticket if its plan is not a conflict)."""
    upload = await upload_session(request)
    body = await json_body(request, body_schemas.REVISION_CHOICE)
    await choose(
        services(request), jira_of(request), scope_of(upload), actor(request), body["ticketKey"], body["choice"]
    )
    return JSONResponse({"ticketKey": body["ticketKey"], "choice": body["choice"]})


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}"
    return [
        SecuredRoute(f"{base}/revise", revise, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(f"{base}/revision", plan, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/revision/choices", set_choice, auth=Auth.CONTEXT, methods=["POST"]),
    ]
