"""`POST /permissions/check` (getBulkPermissions): which global and project permissions a user holds.

An app calling from its server may ask about any user by `accountId` (no admin rights needed), which is how our
configure page confirms that the person in the iframe is a Jira administrator.
@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-permissions-check-post
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import USERS, SandboxUser
from app.sandbox.rest.common import json_body, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API

# The global permissions Jira Cloud knows; an administrator holds the ones in ADMIN_GLOBAL, everyone the rest.
GLOBAL_PERMISSIONS = frozenset(
    {
        "ADMINISTER",
        "SYSTEM_ADMIN",
        "USER_PICKER",
        "CREATE_SHARED_OBJECTS",
        "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
        "BULK_CHANGE",
    }
)
ADMIN_GLOBAL = frozenset({"ADMINISTER", "SYSTEM_ADMIN"})
# Every sandbox user works in the sandbox project, so each holds these on all of its projects and issues.
PROJECT_PERMISSIONS = frozenset(
    {
        "BROWSE_PROJECTS",
        "CREATE_ISSUES",
        "EDIT_ISSUES",
        "LINK_ISSUES",
        "CREATE_ATTACHMENTS",
        "ASSIGNABLE_USER",
        "ASSIGN_ISSUES",
        "ADD_COMMENTS",
        "ADMINISTER_PROJECTS",
    }
)


def _strings(value: object, field: str) -> list[str]:
    """A list of strings; Jira ignores nulls in it."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise JiraRequestError(400, f"Field '{field}' must be a list.")
    return [str(item) for item in value if item is not None]


def _user(account_id: object) -> SandboxUser | None:
    """The user asked about; None means the caller itself (the app's bot user, which holds no global rights)."""
    if account_id is None:
        return None
    found = next((user for user in USERS if user.account_id == account_id), None)
    if found is None:
        raise JiraRequestError(400, f"The account ID {account_id} is invalid.")
    return found


def _global_grants(user: SandboxUser | None, asked: list[str]) -> list[str]:
    unknown = sorted(set(asked) - GLOBAL_PERMISSIONS)
    if unknown:
        raise JiraRequestError(400, errors={key: "Unrecognized permission" for key in unknown})
    held = (ADMIN_GLOBAL if user is not None and user.admin else frozenset()) | (GLOBAL_PERMISSIONS - ADMIN_GLOBAL)
    return sorted(set(asked) & held)


def _project_grants(request: Request, user: SandboxUser | None, entries: object) -> list[dict[str, Any]]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise JiraRequestError(400, "Field 'projectPermissions' must be a list.")
    store = runtime_of(request).store
    grants: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise JiraRequestError(400, "Each entry of 'projectPermissions' must be an object.")
        keys = [key for key in _strings(entry.get("permissions"), "permissions") if key]
        if not keys:
            raise JiraRequestError(400, "At least one project permission is required.")
        unknown = sorted(set(keys) - PROJECT_PERMISSIONS)
        if unknown:
            raise JiraRequestError(400, errors={key: "Unrecognized permission" for key in unknown})
        # Invalid project and issue ids are ignored, as in Jira; the app's bot user is not a project member.
        project_ids = {project.id for project in store.projects.values()}
        projects = [int(p) for p in _strings(entry.get("projects"), "projects") if p in project_ids]
        issues = [int(i) for i in _strings(entry.get("issues"), "issues") if i in store.issues]
        if user is None:
            projects, issues = [], []
        grants += [{"permission": key, "projects": projects, "issues": issues} for key in keys]
    return grants


async def check_permissions(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise JiraRequestError(400, "The request body must be a JSON object.")
    user = _user(body.get("accountId"))
    return JSONResponse(
        {
            "globalPermissions": _global_grants(user, _strings(body.get("globalPermissions"), "globalPermissions")),
            "projectPermissions": _project_grants(request, user, body.get("projectPermissions")),
        }
    )


ROUTES = [(f"{API}/permissions/check", check_permissions, ["POST"])]
