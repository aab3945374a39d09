"""`POST /issueLink`: link two issues; the link shows on both (see `IssueLink` for which side is which).
`DELETE /issueLink/{linkId}` removes one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.sandbox.models import LINK_TYPES, Issue
from app.sandbox.rest.common import ISSUE_NOT_FOUND, json_body, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API


async def create_issue_link(request: Request) -> Response:
    store = runtime_of(request).store
    body = await json_body(request)
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), dict) for k in ("type", "inwardIssue", "outwardIssue")
    ):
        raise JiraRequestError(400, "The issue link needs 'type', 'inwardIssue' and 'outwardIssue' objects.")
    wanted = body["type"]
    link_type = next((t for t in LINK_TYPES if wanted.get("id") == t.id or wanted.get("name") == t.name), None)
    if link_type is None:
        raise JiraRequestError(404, f"No issue link type with name '{wanted.get('name') or wanted.get('id')}' found.")

    def linked(side: str) -> Issue:
        reference = body[side]
        issue = store.issue(str(reference.get("id") or reference.get("key") or ""))
        if issue is None:
            raise JiraRequestError(404, ISSUE_NOT_FOUND)
        return issue

    inward, outward = linked("inwardIssue"), linked("outwardIssue")
    if inward.id == outward.id:
        raise JiraRequestError(400, "You cannot link an issue to itself.")
    await store.add_link(link_type.id, inward, outward)
    return Response(status_code=201)


async def delete_issue_link(request: Request) -> Response:
    runtime = runtime_of(request)
    link = next((k for k in runtime.store.links if k.id == request.path_params["linkId"]), None)
    if link is None:
        raise JiraRequestError(404, "No issue link with id '" + request.path_params["linkId"] + "' exists.")
    await runtime.store.delete_link(link)
    runtime.stats.links_deleted += 1
    return Response(status_code=204)


ROUTES = [
    (f"{API}/issueLink", create_issue_link, ["POST"]),
    (f"{API}/issueLink/{{linkId}}", delete_issue_link, ["DELETE"]),
]
