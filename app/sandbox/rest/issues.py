"""Creating and reading issues: `POST /issue`, `POST /issue/bulk` (50 a call, partial success), `GET /issue/{id}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import Issue, Project
from app.sandbox.rest.common import issue_in_path, json_body
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API, issue_json, requested_fields
from app.sandbox.rest.validation import CreateRejected, validate_create
from app.sandbox.runtime import runtime_of

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
    """`GET /issue/{issueIdOrKey}?fields=…&properties=…`."""
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    fields = request.query_params.get("fields")
    properties = request.query_params.get("properties")
    return JSONResponse(
        issue_json(
            issue,
            runtime.store,
            runtime.config.public_url,
            requested_fields(fields.split(",") if fields else None),
            properties.split(",") if properties else None,
        )
    )


ROUTES = [
    (f"{API}/issue", create_issue, ["POST"]),
    (f"{API}/issue/bulk", create_issues_bulk, ["POST"]),
    (f"{API}/issue/{{issueIdOrKey}}", get_issue, ["GET"]),
]
