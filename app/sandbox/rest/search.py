"""`POST`/`GET /search/jql`: the enhanced JQL search with token pagination.

@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.jql import FIELDS, JqlError, Query, matcher, parse, property_path
from app.sandbox.models import Installation, Issue, jira_timestamp
from app.sandbox.rest.common import json_body, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API, issue_json, requested_fields
from app.sandbox.store import SandboxStore

MAX_RESULTS = 5000
DEFAULT_MAX_RESULTS = 50
ORDER_KEYS: dict[str, Callable[[Issue], int | tuple[str, int]]] = {
    "key": lambda i: int(i.id),
    "id": lambda i: int(i.id),
    "created": lambda i: (i.created, int(i.id)),
}


def _indexed_properties(installations: list[Installation]) -> set[tuple[str, str]]:
    """(propertyKey, objectName) pairs the apps index with `jiraEntityProperties` modules on issues."""
    indexed: set[tuple[str, str]] = set()
    for installation in installations:
        for module in (installation.descriptor.get("modules") or {}).get("jiraEntityProperties", []):
            if module.get("entityType", "issue") != "issue":
                continue
            for configuration in module.get("keyConfigurations", []):
                for extraction in configuration.get("extractions", []):
                    indexed.add((configuration.get("propertyKey"), extraction.get("objectName")))
    return indexed


def field_values(store: SandboxStore) -> Any:
    def values(issue: Issue, field: str) -> list[str]:
        if field == "project":
            project = store.project(issue.project_id)
            return [project.key, project.id] if project else []
        if field in ("key", "issuekey", "id"):
            return [issue.key, issue.id]
        if field == "labels":
            return list(issue.labels)
        if field == "parent":
            parent = store.issues.get(issue.parent_id or "")
            return [parent.key, parent.id] if parent else []
        issue_type = store.issue_type_of(issue)
        return [issue_type.name, issue_type.id]

    return values


def _check(query: Query, store: SandboxStore, require_indexed: bool, forge_indexed: set[tuple[str, str]]) -> None:
    """Jira rejects unknown fields, unknown projects and (unless indexed by an app) property paths."""
    indexed = _indexed_properties([i for i in store.installations.values() if i.installed]) | forge_indexed
    for clause in query.clauses:
        prop = property_path(clause.field)
        if prop is None and clause.field.lower() not in FIELDS:
            raise JqlError(f"Field '{clause.field}' does not exist or you do not have permission to view it.")
        if prop is not None and require_indexed and prop not in indexed:
            raise JqlError(f"Field '{clause.field}' does not exist or you do not have permission to view it.")
        if clause.field.lower() == "project":
            for value in clause.values:
                if store.project(value) is None:
                    raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
    for field, _ in query.order_by:
        if field not in ORDER_KEYS:
            raise JqlError(f"Not able to sort using field '{field}'.")


async def search(request: Request) -> Response:
    runtime = runtime_of(request)
    store = runtime.store
    if request.method == "POST":
        body = await json_body(request)
        if not isinstance(body, dict):
            raise JiraRequestError(400, "The request body must be a JSON object.")
    else:
        params = request.query_params
        body = {key: params[key] for key in ("jql", "nextPageToken", "maxResults") if key in params}
        for key in ("fields", "properties"):
            if key in params:
                body[key] = params[key].split(",")
    try:
        query = parse(str(body.get("jql") or ""))
        _check(query, store, runtime.config.require_indexed_properties, runtime.forge.indexed_properties())
    except JqlError as exc:
        raise JiraRequestError(400, str(exc)) from exc
    try:
        start = int(base64.urlsafe_b64decode(str(body["nextPageToken"])).decode()) if body.get("nextPageToken") else 0
        limit = min(int(body.get("maxResults") or DEFAULT_MAX_RESULTS), MAX_RESULTS)
    except ValueError as exc:
        raise JiraRequestError(400, "Invalid nextPageToken or maxResults.") from exc

    predicates = [matcher(clause, field_values(store)) for clause in query.clauses]
    indexed_until = jira_timestamp(datetime.now(UTC) - timedelta(milliseconds=runtime.faults.config.search_lag_ms))
    # Timestamps of one format and zone compare as strings; an issue newer than the lag is not indexed yet.
    found = [i for i in store.issues.values() if i.created <= indexed_until and all(p(i) for p in predicates)]
    for field, descending in reversed(query.order_by):
        found.sort(key=ORDER_KEYS[field], reverse=descending)
    page = found[start : start + limit]
    # The enhanced search returns only ids unless fields are asked for.
    fields = requested_fields(body.get("fields"), default=(), custom=store.custom_field_ids())
    base = runtime.config.public_url
    issues = [issue_json(i, store, base, fields, body.get("properties")) for i in page]
    answer: dict[str, Any] = {"issues": issues, "isLast": start + limit >= len(found)}
    if not answer["isLast"]:
        answer["nextPageToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return JSONResponse(answer)


ROUTES = [(f"{API}/search/jql", search, ["GET", "POST"])]
