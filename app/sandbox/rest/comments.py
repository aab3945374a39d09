"""Comments: `POST`/`GET /issue/{issueIdOrKey}/comment` and `GET .../comment/{id}`, ADF bodies as Jira checks them.

@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.adf.schema import adf_is_valid
from app.sandbox.models import app_actor
from app.sandbox.rest.common import caller, issue_in_path, json_body, page_params
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API, comment_json
from app.sandbox.rest.validation import DESCRIPTION_MAX
from app.sandbox.runtime import runtime_of


async def add_comment(request: Request) -> Response:
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    payload = await json_body(request)
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, dict) or not adf_is_valid(runtime.config.adf_schema_path)(body):
        raise JiraRequestError(400, errors={"comment": "Comment body must be an Atlassian Document."})
    if len(json.dumps(body)) > DESCRIPTION_MAX:
        raise JiraRequestError(
            400, errors={"comment": "The entered text is too long. It exceeds the allowed limit of 32,767 characters."}
        )
    comment = await runtime.store.add_comment(issue, body, app_actor(caller(request)))
    runtime.stats.comments_added += 1
    return JSONResponse(comment_json(comment, issue, runtime.config.public_url), status_code=201)


async def list_comments(request: Request) -> Response:
    """Oldest first (`orderBy=-created` for newest first), a page at a time."""
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    start, limit = page_params(request, default_limit=100)
    order = request.query_params.get("orderBy", "created")
    if order not in ("created", "+created", "-created"):
        raise JiraRequestError(400, "orderBy must be 'created', '+created' or '-created'.")
    comments = list(reversed(issue.comments)) if order == "-created" else issue.comments
    base = runtime.config.public_url
    return JSONResponse(
        {
            "comments": [comment_json(c, issue, base) for c in comments[start : start + limit]],
            "startAt": start,
            "maxResults": limit,
            "total": len(comments),
        }
    )


async def get_comment(request: Request) -> Response:
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    comment = next((c for c in issue.comments if c.id == request.path_params["id"]), None)
    if comment is None:
        raise JiraRequestError(404, "Can not find a comment for the id: " + request.path_params["id"])
    return JSONResponse(comment_json(comment, issue, runtime.config.public_url))


ROUTES = [
    (f"{API}/issue/{{issueIdOrKey}}/comment", add_comment, ["POST"]),
    (f"{API}/issue/{{issueIdOrKey}}/comment", list_comments, ["GET"]),
    (f"{API}/issue/{{issueIdOrKey}}/comment/{{id}}", get_comment, ["GET"]),
]
