"""The sandbox's records: installations, users, projects (with their issue types and fields), issues, links,
comments, change history and attachments.

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
    """`hierarchy_level` as Jira numbers it: 1 epic, 0 standard, -1 subtask."""

    id: str
    name: str
    description: str
    hierarchy_level: int = 0

    @property
    def subtask(self) -> bool:
        return self.hierarchy_level < 0


@dataclass(frozen=True)
class CustomField:
    """A custom field on every standard and epic issue type of a project; required on the types named.

    `kind` is `option` (a single select: `{"value": ...}`) or `string` (a single line of text).
    """

    id: str
    name: str
    kind: str
    required_on: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @property
    def schema(self) -> dict[str, Any]:
        custom = "select" if self.kind == "option" else "textfield"
        return {
            "type": self.kind,
            "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{custom}",
            "customId": int(self.id.removeprefix("customfield_")),
        }


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


COMPANY_MANAGED = "classic"
TEAM_MANAGED = "next-gen"


@dataclass(frozen=True)
class Project:
    """`style` is Jira's: `classic` (company-managed) or `next-gen` (team-managed, issue types of its own)."""

    id: str
    key: str
    name: str
    lead_account_id: str
    style: str = COMPANY_MANAGED
    issue_types: tuple[IssueType, ...] = ()
    custom_fields: tuple[CustomField, ...] = ()
    # Whether the create screen has the "Linked issues" field, so a create may carry `update.issuelinks`.
    links_on_create_screen: bool = True

    @property
    def team_managed(self) -> bool:
        return self.style == TEAM_MANAGED

    def issue_type(self, id_or_name: str) -> IssueType | None:
        return next((t for t in self.issue_types if id_or_name in (t.id, t.name)), None)

    def custom_field(self, field_id: str) -> CustomField | None:
        return next((f for f in self.custom_fields if f.id == field_id), None)


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
    updated: str = ""
    parent_id: str | None = None
    # Custom field values by field id, as sent (`{"value": ...}` for options, a string for text).
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    changelog: list[ChangeGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Issues persisted as JSON come back with plain dicts for their comments and history.
        self.updated = self.updated or self.created
        self.comments = [Comment(**c) if isinstance(c, dict) else c for c in self.comments]
        self.changelog = [ChangeGroup(**g) if isinstance(g, dict) else g for g in self.changelog]


@dataclass
class Comment:
    id: str
    author: dict[str, str]
    body: dict[str, Any]
    created: str = field(default_factory=jira_timestamp)


@dataclass
class ChangeGroup:
    """One edit of an issue as its history shows it: who, when, and per field the old and new value."""

    id: str
    author: dict[str, str]
    items: list[dict[str, str | None]]
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
    author: dict[str, str]  # who attached it: a person, or an app's bot user (its `app_actor`)
    created: str = field(default_factory=jira_timestamp)


ISSUE_TYPES = (
    IssueType("10001", "Task", "A small, distinct piece of work."),
    IssueType("10002", "Story", "A feature, expressed as a user goal."),
    IssueType("10004", "Bug", "A problem or error."),
    IssueType("10000", "Epic", "A collection of related tasks.", hierarchy_level=1),
    IssueType("10003", "Sub-task", "A small piece of a larger task.", hierarchy_level=-1),
)
# A team-managed project's issue types are its own (other ids), and it has no Bug unless someone adds one.
TEAM_ISSUE_TYPES = (
    IssueType("10101", "Task", "A small, distinct piece of work."),
    IssueType("10102", "Story", "A feature, expressed as a user goal."),
    IssueType("10100", "Epic", "A collection of related work.", hierarchy_level=1),
    IssueType("10103", "Subtask", "A small piece of a larger task.", hierarchy_level=-1),
)
COST_CENTRE = CustomField(
    "customfield_10050", "Cost centre", "option", ("Task", "Story", "Bug", "Epic"), ("Web", "Brand")
)
CLIENT_REFERENCE = CustomField("customfield_10051", "Client reference", "string", ("Epic",))

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


def sample_projects(lead_account_id: str) -> tuple[Project, ...]:
    """The projects every sandbox has beside its main one: a team-managed project, and a company-managed one
    whose issue types require custom fields that have no default (so an export must map them first)."""
    return (
        # Its create screen lacks "Linked issues": links cannot ride in a create there.
        Project(
            "10010",
            "TEAM",
            "Team-managed Site Build",
            lead_account_id,
            TEAM_MANAGED,
            TEAM_ISSUE_TYPES,
            links_on_create_screen=False,
        ),
        Project(
            "10020",
            "REQ",
            "Site Build with Required Fields",
            lead_account_id,
            COMPANY_MANAGED,
            ISSUE_TYPES,
            (COST_CENTRE, CLIENT_REFERENCE),
        ),
    )


def user_actor(user: SandboxUser) -> dict[str, str]:
    """Who made a change or wrote a comment, as the issue keeps it."""
    return {"accountId": user.account_id, "displayName": user.display_name, "accountType": "atlassian"}


def app_actor(installation: Installation) -> dict[str, str]:
    """An app calling as itself acts as its bot user."""
    return {"accountId": f"557058:{installation.client_key}", "displayName": installation.name, "accountType": "app"}


def user_for_role(role: object) -> SandboxUser:
    """`developer` is the non-admin developer; anything else (the default) is the admin."""
    return DEVELOPER_USER if role == "developer" else ADMIN_USER
