"""The Jira Cloud REST v3 subset our export and revisions call, shaped after Atlassian's OpenAPI document."""

from __future__ import annotations

from starlette.routing import Route

from app.sandbox.rest import attachments, comments, issues, links, meta, permissions, properties, search

# Order matters where paths overlap: `/issue/bulk` must come before `/issue/{issueIdOrKey}`.
rest_routes: list[Route] = [
    Route(path, endpoint, methods=methods)
    for module in (meta, issues, comments, links, attachments, properties, search, permissions)
    for path, endpoint, methods in module.ROUTES
]
