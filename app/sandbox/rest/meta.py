"""Read-only REST resources: myself, project, create metadata (issue types and their fields), assignable users,
issue link types."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import LINK_TYPES, USERS, CustomField, IssueType, Project
from app.sandbox.rest.common import caller, page_params, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import (
    API,
    app_user_json,
    issue_type_json,
    link_type_json,
    project_ref_json,
    user_json,
)


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
            "issueTypes": [issue_type_json(t, base, found) for t in found.issue_types],
            "style": found.style,
            "isPrivate": False,
            "assigneeType": "UNASSIGNED",
        }
    )


async def create_meta_issue_types(request: Request) -> Response:
    """`GET /issue/createmeta/{projectIdOrKey}/issuetypes`: a page of the project's issue types.

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-createmeta-projectidorkey-issuetypes-get
    """
    found = _project_or_404(request, request.path_params["projectIdOrKey"])
    start, limit = page_params(request, default_limit=50, max_limit=200)
    base = runtime_of(request).config.public_url
    types = [issue_type_json(t, base, found) for t in found.issue_types]
    return JSONResponse(
        {"issueTypes": types[start : start + limit], "maxResults": limit, "startAt": start, "total": len(types)}
    )


async def create_meta_fields(request: Request) -> Response:
    """`GET /issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}`: a page of the fields a create of that
    issue type takes, with which are required and whether they have a default."""
    found = _project_or_404(request, request.path_params["projectIdOrKey"])
    issue_type = next((t for t in found.issue_types if t.id == request.path_params["issueTypeId"]), None)
    if issue_type is None:
        raise JiraRequestError(404, "Issue type with id '" + request.path_params["issueTypeId"] + "' does not exist.")
    start, limit = page_params(request, default_limit=50, max_limit=200)
    fields = _create_fields(found, issue_type)
    return JSONResponse(
        {"fields": fields[start : start + limit], "maxResults": limit, "startAt": start, "total": len(fields)}
    )


OPERATIONS = {"labels": ["add", "set", "remove"], "issuelinks": ["add"]}


def _field_meta(field_id: str, name: str, schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    return {
        "fieldId": field_id,
        "key": field_id,
        "name": name,
        "required": required,
        "hasDefaultValue": False,
        "operations": OPERATIONS.get(field_id, ["set"]),
        "schema": schema,
    }


def _create_fields(project: Project, issue_type: IssueType) -> list[dict[str, Any]]:
    fields = [
        _field_meta("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, required=True),
        _field_meta("project", "Project", {"type": "project", "system": "project"}, required=True),
        _field_meta("summary", "Summary", {"type": "string", "system": "summary"}, required=True),
        _field_meta("description", "Description", {"type": "string", "system": "description"}, required=False),
        _field_meta("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, required=False),
        _field_meta("assignee", "Assignee", {"type": "user", "system": "assignee"}, required=False),
    ]
    if project.links_on_create_screen:
        fields.append(
            _field_meta(
                "issuelinks",
                "Linked Issues",
                {"type": "array", "items": "issuelinks", "system": "issuelinks"},
                required=False,
            )
        )
    if issue_type.hierarchy_level < 1:  # epics are the top of the hierarchy
        fields.append(
            _field_meta("parent", "Parent", {"type": "issuelink", "system": "parent"}, required=issue_type.subtask)
        )
    return fields + [_custom_meta(f, issue_type) for f in project.custom_fields if not issue_type.subtask]


def _custom_meta(custom: CustomField, issue_type: IssueType) -> dict[str, Any]:
    meta = _field_meta(custom.id, custom.name, custom.schema, required=issue_type.name in custom.required_on)
    if custom.options:
        meta["allowedValues"] = [
            {"id": str(10100 + number), "value": option} for number, option in enumerate(custom.options)
        ]
    return meta


async def assignable_users(request: Request) -> Response:
    """`GET /user/assignable/search?project=KEY`."""
    key = request.query_params.get("project") or request.query_params.get("issueKey", "").split("-")[0]
    if not key:
        raise JiraRequestError(400, "The project or issue key is required.")
    _project_or_404(request, key)
    base = runtime_of(request).config.public_url
    return JSONResponse([user_json(user, base) for user in USERS])


async def bulk_users(request: Request) -> Response:
    """`GET /user/bulk?accountId=...&accountId=...`: the users Jira knows among those ids."""
    wanted = request.query_params.getlist("accountId")
    if not wanted:
        raise JiraRequestError(400, "At least one accountId is required.")
    base = runtime_of(request).config.public_url
    found = [user_json(user, base) for user in USERS if user.account_id in wanted]
    return JSONResponse({"startAt": 0, "maxResults": len(wanted), "total": len(found), "isLast": True, "values": found})


async def issue_link_types(request: Request) -> Response:
    base = runtime_of(request).config.public_url
    return JSONResponse({"issueLinkTypes": [link_type_json(t, base) for t in LINK_TYPES]})


ROUTES = [
    (f"{API}/myself", myself, ["GET"]),
    (f"{API}/project/{{projectIdOrKey}}", project, ["GET"]),
    (f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes", create_meta_issue_types, ["GET"]),
    (f"{API}/issue/createmeta/{{projectIdOrKey}}/issuetypes/{{issueTypeId}}", create_meta_fields, ["GET"]),
    (f"{API}/user/assignable/search", assignable_users, ["GET"]),
    (f"{API}/user/bulk", bulk_users, ["GET"]),
    (f"{API}/issueLinkType", issue_link_types, ["GET"]),
]
