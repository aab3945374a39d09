"""Read-only REST resources: myself, project, create metadata, assignable users, issue link types."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import ISSUE_TYPES, LINK_TYPES, USERS, Project
from app.sandbox.rest.common import caller
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import (
    API,
    app_user_json,
    issue_type_json,
    link_type_json,
    project_ref_json,
    user_json,
)
from app.sandbox.runtime import runtime_of


def _project_or_404(request: Request, key_or_id: str | None) -> Project:
    project = runtime_of(request).store.project(key_or_id or "")
    if project is None:
        raise JiraRequestError(404, f"No project could be found with key '{key_or_id}'.")
    return project


async def myself(request: Request) -> Response:
    """`GET /myself`: an app signing as itself is its own bot user."""
    return JSONResponse(app_user_json(caller(request), runtime_of(request).config.public_url))


async def project(request: Request) -> Response:
    runtime = runtime_of(request)
    base = runtime.config.public_url
    found = _project_or_404(request, request.path_params["projectIdOrKey"])
    return JSONResponse(
        project_ref_json(found, base)
        | {
            "description": "The sandbox project for Drupal site builds.",
            "lead": user_json(runtime.store.user(found.lead_account_id), base),
            "issueTypes": [issue_type_json(t, base) for t in ISSUE_TYPES],
            "style": "classic",
            "isPrivate": False,
            "assigneeType": "UNASSIGNED",
        }
    )


async def create_meta_issue_types(request: Request) -> Response:
    """`GET /issue/createmeta/{projectIdOrKey}/issuetypes`: a page of the project's issue types."""
    _project_or_404(request, request.path_params["projectIdOrKey"])
    base = runtime_of(request).config.public_url
    types = [issue_type_json(t, base) for t in ISSUE_TYPES]
    return JSONResponse({"issueTypes": types, "maxResults": 50, "startAt": 0, "total": len(types)})


async def assignable_users(request: Request) -> Response:
    """`GET /user/assignable/search?project=KEY`."""
    key = request.query_params.get("project") or request.query_params.get("issueKey", "").split("-")[0]
    if not key:
        raise JiraRequestError(400, "The project or issue key is required.")
    _project_or_404(request, key)
    base = runtime_of(request).config.public_url
    return JSONResponse([user_json(user, base) for user in USERS])


async def issue_link_types(request: Request) -> Response:
    base = runtime_of(request).config.public_url
    return JSONResponse({"issueLinkTypes": [link_type_json(t, base) for t in LINK_TYPES]})


ROUTES = [
    (f"{API}/myself", myself, ["GET"]),
    (f"{API}/project/{{projectIdOrKey}}", project, ["GET"]),
    (f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes", create_meta_issue_types, ["GET"]),
    (f"{API}/user/assignable/search", assignable_users, ["GET"]),
    (f"{API}/issueLinkType", issue_link_types, ["GET"]),
]
