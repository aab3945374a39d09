"""JSON representations of sandbox records, shaped after the OpenAPI document's schemas (User, Project, IssueBean…)."""

from __future__ import annotations

from typing import Any

from app.sandbox.models import (
    LINK_TYPES,
    Attachment,
    ChangeGroup,
    Comment,
    Installation,
    Issue,
    IssueLink,
    IssueType,
    LinkType,
    Project,
    SandboxUser,
)
from app.sandbox.store import SandboxStore

API = "/rest/api/3"
STATUS = {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}}
# Fields the GET issue and search answers know; `*all`/`*navigable` ask for all of them.
ISSUE_FIELDS = (
    "summary",
    "description",
    "labels",
    "issuetype",
    "project",
    "status",
    "issuelinks",
    "attachment",
    "reporter",
    "assignee",
    "created",
    "updated",
    "parent",
    "comment",
)


def _avatars(base_url: str, kind: str, entity_id: str) -> dict[str, str]:
    return {size: f"{base_url}/images/{kind}/{entity_id}?size={size}" for size in ("16x16", "24x24", "32x32", "48x48")}


def user_json(user: SandboxUser, base_url: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}{API}/user?accountId={user.account_id}",
        "accountId": user.account_id,
        "accountType": "atlassian",
        "emailAddress": user.email,
        "displayName": user.display_name,
        "active": True,
        "timeZone": "Europe/London",
        "locale": "en_GB",
        "avatarUrls": _avatars(base_url, "user", user.account_id),
    }


def user_details_json(user: SandboxUser, base_url: str) -> dict[str, Any]:
    """`UserDetails`, the short form embedded in issues and attachments (no locale)."""
    return {name: value for name, value in user_json(user, base_url).items() if name != "locale"}


def app_user_json(installation: Installation, base_url: str) -> dict[str, Any]:
    """`/myself` for a Connect app signing as itself answers the app's bot user, not a person."""
    account_id = f"557058:{installation.client_key}"
    return {
        "self": f"{base_url}{API}/user?accountId={account_id}",
        "accountId": account_id,
        "accountType": "app",
        "displayName": installation.name,
        "active": True,
        "timeZone": "Europe/London",
        "locale": "en_GB",
        "avatarUrls": _avatars(base_url, "user", account_id),
    }


def actor_json(actor: dict[str, str], base_url: str) -> dict[str, Any]:
    """`UserDetails` of whoever wrote a comment or made a change (a person or an app's bot user)."""
    return {
        "self": f"{base_url}{API}/user?accountId={actor['accountId']}",
        "accountId": actor["accountId"],
        "accountType": actor["accountType"],
        "displayName": actor["displayName"],
        "active": True,
        "timeZone": "Europe/London",
        "avatarUrls": _avatars(base_url, "user", actor["accountId"]),
    }


def issue_type_json(issue_type: IssueType, base_url: str, project: Project | None = None) -> dict[str, Any]:
    """A team-managed project's issue types are scoped to it (`scope`), as Jira shows them."""
    answer: dict[str, Any] = {
        "self": f"{base_url}{API}/issuetype/{issue_type.id}",
        "id": issue_type.id,
        "name": issue_type.name,
        "description": issue_type.description,
        "iconUrl": f"{base_url}/images/issuetype/{issue_type.id}.svg",
        "subtask": issue_type.subtask,
        "hierarchyLevel": issue_type.hierarchy_level,
    }
    if project is not None and project.team_managed:
        answer["scope"] = {"type": "PROJECT", "project": {"id": project.id}}
    return answer


def project_ref_json(project: Project, base_url: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}{API}/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": project.team_managed,
        "avatarUrls": _avatars(base_url, "project", project.id),
    }


def link_type_json(link_type: LinkType, base_url: str) -> dict[str, Any]:
    return {
        "id": link_type.id,
        "name": link_type.name,
        "inward": link_type.inward,
        "outward": link_type.outward,
        "self": f"{base_url}{API}/issueLinkType/{link_type.id}",
    }


def attachment_json(attachment: Attachment, base_url: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}{API}/attachment/{attachment.id}",
        "id": attachment.id,
        "filename": attachment.filename,
        "author": actor_json(attachment.author, base_url),
        "created": attachment.created,
        "size": attachment.size,
        "mimeType": attachment.mime_type,
        "content": f"{base_url}{API}/attachment/content/{attachment.id}",
    }


def _type_json(issue: Issue, store: SandboxStore, base_url: str) -> dict[str, Any]:
    return issue_type_json(store.issue_type_of(issue), base_url, store.project_of(issue))


def _linked_issue_json(issue: Issue, store: SandboxStore, base_url: str) -> dict[str, Any]:
    return {
        "id": issue.id,
        "key": issue.key,
        "self": f"{base_url}{API}/issue/{issue.id}",
        "fields": {"summary": issue.summary, "status": STATUS, "issuetype": _type_json(issue, store, base_url)},
    }


def _issue_link_json(link: IssueLink, issue: Issue, store: SandboxStore, base_url: str) -> dict[str, Any]:
    # Seen from the inward issue the partner is the `outwardIssue`, and the other way round.
    link_type = next(t for t in LINK_TYPES if t.id == link.type_id)
    if link.inward_issue_id == issue.id:
        side, other = "outwardIssue", store.issues[link.outward_issue_id]
    else:
        side, other = "inwardIssue", store.issues[link.inward_issue_id]
    return {
        "id": link.id,
        "self": f"{base_url}{API}/issueLink/{link.id}",
        "type": link_type_json(link_type, base_url),
        side: _linked_issue_json(other, store, base_url),
    }


def comment_json(comment: Comment, issue: Issue, base_url: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}{API}/issue/{issue.id}/comment/{comment.id}",
        "id": comment.id,
        "author": actor_json(comment.author, base_url),
        "updateAuthor": actor_json(comment.author, base_url),
        "body": comment.body,
        "created": comment.created,
        "updated": comment.created,
        "jsdPublic": True,
    }


def change_group_json(group: ChangeGroup, base_url: str) -> dict[str, Any]:
    """A `Changelog`; its items carry only the keys `ChangeDetails` allows (None values left out)."""
    items = [
        {k: v for k, v in item.items() if v is not None} | {"fieldtype": _field_type(item)} for item in group.items
    ]
    return {"id": group.id, "author": actor_json(group.author, base_url), "created": group.created, "items": items}


def _field_type(item: dict[str, str | None]) -> str:
    return "custom" if str(item.get("fieldId", "")).startswith("customfield_") else "jira"


def requested_fields(
    names: list[str] | None, default: tuple[str, ...] = ISSUE_FIELDS, custom: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Jira's `fields` list: `*all`/`*navigable`, names, and `-name` to leave one out; `custom` are the custom
    field ids the issue's project has."""
    known = (*ISSUE_FIELDS, *custom)
    if not names:
        return default
    chosen = [n for n in names if n and not n.startswith("-")]
    wanted = list(known) if any(n in ("*all", "*navigable") for n in chosen) else chosen
    excluded = {n[1:] for n in names if n.startswith("-")}
    return tuple(n for n in wanted if n in known and n not in excluded)


def issue_json(
    issue: Issue,
    store: SandboxStore,
    base_url: str,
    fields: tuple[str, ...] = ISSUE_FIELDS,
    properties: list[str] | None = None,
) -> dict[str, Any]:
    """An `IssueBean` with the requested fields and, if asked, issue properties (`*all` for every one)."""
    project = store.project_of(issue)
    reporter = store.user(issue.reporter_account_id)
    parent = store.issues.get(issue.parent_id) if issue.parent_id else None
    values: dict[str, Any] = {
        "summary": issue.summary,
        "description": issue.description,
        "labels": list(issue.labels),
        "issuetype": _type_json(issue, store, base_url),
        "project": project_ref_json(project, base_url),
        "status": STATUS | {"self": f"{base_url}{API}/status/{STATUS['id']}"},
        "issuelinks": [_issue_link_json(link, issue, store, base_url) for link in store.links_of(issue)],
        "attachment": [attachment_json(store.attachments[a], base_url) for a in issue.attachment_ids],
        "reporter": user_details_json(reporter, base_url),
        "assignee": user_details_json(store.user(issue.assignee_account_id), base_url)
        if issue.assignee_account_id
        else None,
        "created": issue.created,
        "updated": issue.updated,
        "comment": {
            "comments": [comment_json(c, issue, base_url) for c in issue.comments],
            "maxResults": len(issue.comments),
            "total": len(issue.comments),
            "startAt": 0,
        },
        **{f.id: issue.custom.get(f.id) for f in project.custom_fields},
    }
    if parent is not None:  # Jira leaves the field out of an issue without a parent
        values["parent"] = _linked_issue_json(parent, store, base_url)
    answer: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue.id,
        "self": f"{base_url}{API}/issue/{issue.id}",
        "key": issue.key,
        "fields": {name: values[name] for name in fields if name in values},
    }
    if properties:
        wanted = (
            issue.properties if "*all" in properties else {k: v for k, v in issue.properties.items() if k in properties}
        )
        answer["properties"] = dict(wanted)
    return answer
