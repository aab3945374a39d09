"""The sandbox's records: installations, users, projects, issues, links and attachments.

Plain dataclasses so the store can persist them as JSON with `asdict` and rebuild them with `cls(**data)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def jira_timestamp(moment: datetime | None = None) -> str:
    """Jira's timestamp format, e.g. `2025-01-31T09:15:00.000+0000`."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class Installation:
    """One app installed in the sandbox's single tenant (Jira keeps the clientKey across reinstalls)."""

    app_key: str
    client_key: str
    shared_secret: str
    app_base_url: str
    descriptor: dict[str, Any]
    installed: bool = True
    enabled: bool = True
    installed_at: str = field(default_factory=jira_timestamp)
    # The app's HTTP status for each lifecycle callback we sent, e.g. {"installed": 204, "enabled": 204}.
    callback_status: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.descriptor.get("name") or self.app_key)

    def module(self, module_type: str) -> dict[str, Any] | None:
        """The first module of a type (`jiraProjectPages`, `jiraIssueGlances`) or a single one (`configurePage`)."""
        modules = self.descriptor.get("modules") or {}
        found = modules.get(module_type)
        if isinstance(found, list):
            return found[0] if found else None
        return found if isinstance(found, dict) else None


@dataclass(frozen=True)
class SandboxUser:
    account_id: str
    display_name: str
    email: str
    admin: bool = False


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    hierarchy_level: int = 0


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    lead_account_id: str


@dataclass
class Issue:
    id: str
    key: str
    project_id: str
    issuetype_id: str
    summary: str
    description: dict[str, Any] | None
    labels: list[str]
    reporter_account_id: str
    assignee_account_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    attachment_ids: list[str] = field(default_factory=list)
    status: str = "To Do"
    created: str = field(default_factory=jira_timestamp)


@dataclass(frozen=True)
class IssueLink:
    """A link as posted: on the outward issue it shows as `inwardIssue`, on the inward issue as `outwardIssue`.

    So `{"type": "Blocks", "inwardIssue": A, "outwardIssue": B}` reads "A blocks B" and "B is blocked by A".
    @see https://developer.atlassian.com/cloud/jira/platform/issue-linking-model/
    """

    id: str
    type_id: str
    inward_issue_id: str
    outward_issue_id: str


@dataclass(frozen=True)
class Attachment:
    id: str
    issue_id: str
    filename: str
    mime_type: str
    size: int
    author_account_id: str
    created: str = field(default_factory=jira_timestamp)


ISSUE_TYPES = (
    IssueType("10001", "Task", "A small, distinct piece of work."),
    IssueType("10002", "Story", "A feature, expressed as a user goal."),
    IssueType("10000", "Epic", "A collection of related tasks.", hierarchy_level=1),
)

LINK_TYPES = (
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
)

ADMIN_USER = SandboxUser("5b10ac8d82e05b22cc7d4ef5", "Dana Director", "dana.director@example.com", admin=True)
DEVELOPER_USER = SandboxUser("5b10a2844c20165700ede21f", "Devon Developer", "devon.developer@example.com")
USERS = (
    ADMIN_USER,
    DEVELOPER_USER,
    SandboxUser("5b109f2e9729b51b54dc274d", "Priya Patel", "priya.patel@example.com"),
    SandboxUser("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "Sam Quinn", "sam.quinn@example.com"),
)


def user_for_role(role: object) -> SandboxUser:
    """`developer` is the non-admin developer; anything else (the default) is the admin."""
    return DEVELOPER_USER if role == "developer" else ADMIN_USER
