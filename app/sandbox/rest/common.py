"""What every REST handler needs: the runtime, the calling installation, the JSON body, the issue in the path."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.sandbox.models import Installation, Issue
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.runtime import runtime_of as runtime_of  # re-exported: every handler gets it from here

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def caller(request: Request) -> Installation:
    """The installation the gate authenticated."""
    installation: Installation = request.state.installation
    return installation


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError as exc:
        raise JiraRequestError(400, f"Unexpected character in the request body: {exc}") from exc


def page_params(request: Request, *, default_limit: int, max_limit: int = 5000) -> tuple[int, int]:
    """`startAt` and `maxResults` of an offset-paged list.

    Raises:
        JiraRequestError: 400 when either is not a non-negative number, or `maxResults` exceeds `max_limit`.
    """
    try:
        start = int(request.query_params.get("startAt", 0))
        limit = int(request.query_params.get("maxResults", default_limit))
    except ValueError as exc:
        raise JiraRequestError(400, "startAt and maxResults must be numbers.") from exc
    if start < 0 or limit < 0:
        raise JiraRequestError(400, "startAt and maxResults must not be negative.")
    if limit > max_limit:
        raise JiraRequestError(400, f"Parameter 'maxResults' must not exceed the limit '{max_limit}'")
    return start, limit


def issue_in_path(request: Request) -> Issue:
    issue = runtime_of(request).store.issue(request.path_params["issueIdOrKey"])
    if issue is None:
        raise JiraRequestError(404, ISSUE_NOT_FOUND)
    return issue
