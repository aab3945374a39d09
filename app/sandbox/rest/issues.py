"""Issues: create (`POST /issue`, `POST /issue/bulk`: 50 a call, partial success), read, edit (`PUT`), and
delete (always refused: nobody in the sandbox holds the Delete issues permission), plus an issue's history."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import Issue, Project, app_actor
from app.sandbox.rest.common import caller, issue_in_path, json_body, page_params, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import (
    API,
    ISSUE_FIELDS,
    change_group_json,
    issue_json,
    requested_fields,
)
from app.sandbox.rest.validation import CreateRejected, validate_create, validate_edit
from app.sandbox.runtime import SandboxRuntime

BULK_MAX = 50


def _created_json(issue: Issue, base_url: str) -> dict[str, Any]:
    return {"id": issue.id, "key": issue.key, "self": f"{base_url}{API}/issue/{issue.id}"}


async def create_issue(request: Request) -> Response:
    runtime = runtime_of(request)
    payload = await json_body(request)
    try:
        project, draft = validate_create(payload, runtime.store, runtime.config.adf_schema_path)
    except CreateRejected as rejected:
        raise JiraRequestError(400, *rejected.messages, errors=rejected.errors) from rejected
    [issue] = await runtime.store.create_issues([(project, draft)])
    runtime.stats.issues_created += 1
    return JSONResponse(_created_json(issue, runtime.config.public_url), status_code=201)


async def create_issues_bulk(request: Request) -> Response:
    """Valid elements are created even when others fail; 400 only when none could be created.

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulk-post
    """
    runtime = runtime_of(request)
    payload = await json_body(request)
    updates = payload.get("issueUpdates") if isinstance(payload, dict) else None
    if not isinstance(updates, list) or not updates:
        raise JiraRequestError(400, "Request must contain a non-empty 'issueUpdates' list.")
    if len(updates) > BULK_MAX:
        raise JiraRequestError(400, f"The number of issues to create ({len(updates)}) exceeds the limit of {BULK_MAX}.")
    errors: list[dict[str, Any]] = []
    valid: list[tuple[Project, dict[str, Any]]] = []
    for number, update in enumerate(updates):
        try:
            valid.append(validate_create(update, runtime.store, runtime.config.adf_schema_path))
        except CreateRejected as rejected:
            errors.append(
                {
                    "status": 400,
                    "failedElementNumber": number,
                    "elementErrors": {"errorMessages": rejected.messages, "errors": rejected.errors},
                }
            )
    created = await runtime.store.create_issues(valid)
    runtime.stats.issues_created += len(created)
    base = runtime.config.public_url
    body = {"issues": [_created_json(issue, base) for issue in created], "errors": errors}
    return JSONResponse(body, status_code=201 if created else 400)


async def get_issue(request: Request) -> Response:
    """`GET /issue/{issueIdOrKey}?fields=…&properties=…` (every field, custom ones too, unless `fields` says)."""
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    fields = request.query_params.get("fields")
    properties = request.query_params.get("properties")
    custom = runtime.store.custom_field_ids()
    return JSONResponse(
        issue_json(
            issue,
            runtime.store,
            runtime.config.public_url,
            requested_fields(fields.split(",") if fields else None, default=(*ISSUE_FIELDS, *custom), custom=custom),
            properties.split(",") if properties else None,
        )
    )


async def apply_edit(runtime: SandboxRuntime, issue: Issue, payload: Any, author: dict[str, str]) -> None:
    """Validate and apply an edit as `author`; the app's REST call and the sandbox's own edit page share it.

    Raises:
        JiraRequestError: 400 with Jira's field errors; nothing changed.
    """
    try:
        changes, properties = validate_edit(payload, runtime.store, runtime.config.adf_schema_path, issue)
    except CreateRejected as rejected:
        raise JiraRequestError(400, *rejected.messages, errors=rejected.errors) from rejected
    await runtime.store.edit_issue(issue, changes, properties, author)
    runtime.stats.issues_updated += 1


async def edit_issue(request: Request) -> Response:
    """`PUT /issue/{issueIdOrKey}`: 204, or 200 with the issue when `returnIssue=true`."""
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    await apply_edit(runtime, issue, await json_body(request), app_actor(caller(request)))
    if request.query_params.get("returnIssue") == "true":
        return JSONResponse(issue_json(issue, runtime.store, runtime.config.public_url))
    return Response(status_code=204)


async def delete_issue(request: Request) -> Response:
    """Refused: our app must never delete an issue, so the sandbox grants nobody the permission and counts tries."""
    runtime = runtime_of(request)
    issue_in_path(request)
    runtime.stats.deletes_refused += 1
    raise JiraRequestError(403, "You do not have permission to delete issues in this project.")


async def changelog(request: Request) -> Response:
    """`GET /issue/{issueIdOrKey}/changelog`: the issue's history, oldest first, a page at a time."""
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    start, limit = page_params(request, default_limit=100)
    base = runtime.config.public_url
    page = issue.changelog[start : start + limit]
    return JSONResponse(
        {
            "self": f"{base}{API}/issue/{issue.key}/changelog?startAt={start}&maxResults={limit}",
            "startAt": start,
            "maxResults": limit,
            "total": len(issue.changelog),
            "isLast": start + limit >= len(issue.changelog),
            "values": [change_group_json(group, base) for group in page],
        }
    )


ROUTES = [
    (f"{API}/issue", create_issue, ["POST"]),
    (f"{API}/issue/bulk", create_issues_bulk, ["POST"]),
    (f"{API}/issue/{{issueIdOrKey}}", get_issue, ["GET"]),
    (f"{API}/issue/{{issueIdOrKey}}", edit_issue, ["PUT"]),
    (f"{API}/issue/{{issueIdOrKey}}", delete_issue, ["DELETE"]),
    (f"{API}/issue/{{issueIdOrKey}}/changelog", changelog, ["GET"]),
]
