"""Does the Jira project take our issues? Checked before anything is written, from the project's create metadata.

What is checked: the issue type the admin chose for tickets (Task or Story) and, with epics on, the one for areas
(Epic) exist in the project at the right level of its hierarchy; every field those types require that Jira has no
default for (and that we do not fill ourselves) has a value the admin set on the configure page, one Jira will
accept; the link types Blocks and Relates exist. Team-managed projects have issue types of their own (other ids),
so the ids found here, not names or fixed ids, go into the create requests.

Others call::

    await check_project_fit(jira, project_key, settings) -> ProjectFit   # readiness, the export, the dry run
    fit.fields_for(issue_type_id) -> {field id: value as Jira takes it}   # the admin's defaults for that type
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from app.db.export_settings import StoredExportSettings
from app.errors import AppError, WhoCanFix
from app.jira.models import CreateMetaField, CreateMetaIssueType, LinkType
from app.pipeline.checks import Check

TICKET_TYPES = ("Task", "Story")
REQUIRED_LINK_TYPES = ("Blocks", "Relates")
# Fields every create request of ours fills, so Jira's "required" on them needs nothing from the admin.
# `issuelinks`: the export puts "is blocked by" links in the create when the create screen has the field.
FIELDS_WE_SET = frozenset(
    {"project", "issuetype", "summary", "description", "labels", "assignee", "parent", "issuelinks"}
)
EPIC_LEVEL = 1
STANDARD_LEVEL = 0


class ProjectFitError(AppError):
    """The project cannot take the export as it is set up; the message says what to change and who can."""


class CreateMeta(Protocol):
    """The Jira calls the check makes (`JiraClient` has them)."""

    async def create_meta_issue_types(self, project_key: str) -> list[CreateMetaIssueType]: ...

    async def create_meta_fields(self, project_key: str, issue_type_id: str) -> list[CreateMetaField]: ...

    async def issue_link_types(self) -> list[LinkType]: ...


@dataclass(frozen=True)
class ProjectFit:
    """What the check found; `checks` are readiness checks, blocking ones stop the export."""

    project_key: str
    ticket_type: CreateMetaIssueType | None
    area_type: CreateMetaIssueType | None
    link_types: dict[str, LinkType]
    checks: list[Check]
    # Per issue type id, the admin's defaults for the fields of its create screen, as Jira takes them.
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per issue type id, the fields of its create screen as Jira described them.
    screens: dict[str, list[CreateMetaField]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not any(check.blocking for check in self.checks)

    @property
    def epics(self) -> bool:
        """Areas become epics (the admin left them on and the project has the type)."""
        return self.area_type is not None

    def fields_for(self, issue_type_id: str) -> dict[str, Any]:
        return dict(self.defaults.get(issue_type_id, {}))

    def raise_unless_ready(self) -> None:
        """Raises: ProjectFitError naming the first blocking check and what to do about it."""
        first = next((check for check in self.checks if check.blocking), None)
        if first is not None:
            raise ProjectFitError(f"{first.message} {first.todo}")


async def check_project_fit(jira: CreateMeta, project_key: str, settings: StoredExportSettings) -> ProjectFit:
    """Ask Jira for the project's create metadata and link types and compare them with the admin's choices.

    Raises:
        JiraError: Jira could not be asked (the caller decides whether that blocks).
    """
    types = await jira.create_meta_issue_types(project_key)
    checks: list[Check] = []
    ticket_type = _pick(types, settings.ticket_issue_type, STANDARD_LEVEL)
    if ticket_type is None:
        checks.append(_missing_type(project_key, types, settings.ticket_issue_type, STANDARD_LEVEL))
    area_type = _pick(types, settings.area_issue_type, EPIC_LEVEL) if settings.epics_enabled else None
    if settings.epics_enabled and area_type is None:
        checks.append(_missing_type(project_key, types, settings.area_issue_type, EPIC_LEVEL))

    defaults: dict[str, dict[str, Any]] = {}
    screens: dict[str, list[CreateMetaField]] = {}
    unfilled: dict[str, tuple[CreateMetaField, list[str], str | None]] = {}
    for chosen in (t for t in (ticket_type, area_type) if t is not None):
        values: dict[str, Any] = {}
        screens[chosen.id] = await jira.create_meta_fields(project_key, chosen.id)
        for meta in screens[chosen.id]:
            if meta.field_id in FIELDS_WE_SET:
                continue
            typed = settings.field_defaults.get(meta.field_id, "").strip()
            value, problem = _jira_value(meta, typed) if typed else (None, None)
            if value is not None:
                values[meta.field_id] = value
            elif meta.required and not meta.has_default_value:
                _, on_types, _ = unfilled.setdefault(meta.field_id, (meta, [], problem))
                on_types.append(chosen.name)
        defaults[chosen.id] = values
    checks += [_unfilled_field(project_key, meta, on, problem) for meta, on, problem in unfilled.values()]

    link_types = {t.name.lower(): t for t in await jira.issue_link_types()}
    for name in REQUIRED_LINK_TYPES:
        if name.lower() not in link_types:
            checks.append(
                Check(
                    f"missing_link_type_{name.lower()}",
                    True,
                    f"Jira has no issue link type named '{name}'.",
                    "A Jira admin can add it under Settings > Issues > Issue linking.",
                    WhoCanFix.JIRA_ADMIN.value,
                )
            )
    return ProjectFit(project_key, ticket_type, area_type, link_types, checks, defaults, screens)


def _pick(types: list[CreateMetaIssueType], name: str, level: int) -> CreateMetaIssueType | None:
    """The issue type of that name (any case) at that level of the hierarchy."""
    return next(
        (t for t in types if t.name.lower() == name.lower() and t.hierarchy_level == level and not t.subtask), None
    )


def _missing_type(project_key: str, types: list[CreateMetaIssueType], name: str, level: int) -> Check:
    offered = [t.name for t in types if t.hierarchy_level == level and not t.subtask]
    what = "tickets" if level == STANDARD_LEVEL else "areas (epics)"
    todo = "A Jira admin can choose another issue type for " + what + " on the app's configure page"
    todo += " (this project offers: " + (", ".join(offered) or "none") + ")"
    todo += ", or turn epics off there." if level == EPIC_LEVEL else ", or add the type to the project in Jira."
    return Check(
        f"missing_issue_type_{'area' if level == EPIC_LEVEL else 'ticket'}",
        True,
        f"Project {project_key} has no issue type '{name}' for {what}.",
        todo,
        WhoCanFix.JIRA_ADMIN.value,
    )


def _unfilled_field(project_key: str, meta: CreateMetaField, on_types: list[str], problem: str | None) -> Check:
    choices = meta.allowed_names()
    todo = (
        "A Jira admin can give it a value on the app's configure page"
        + (f" (one of: {', '.join(choices)})" if choices else "")
        + ", or give the field a default in Jira."
    )
    return Check(
        f"required_field_{meta.field_id}",
        True,
        f"Project {project_key} requires '{meta.name}' ({meta.field_id}) on {' and '.join(on_types)} issues and "
        "Jira has no default for it." + (f" {problem}" if problem else ""),
        todo,
        WhoCanFix.JIRA_ADMIN.value,
    )


def _jira_value(meta: CreateMetaField, typed: str) -> tuple[Any, str | None]:
    """The admin's text as the field takes it, or None and why it cannot be used.

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
    (field value formats: options by `value`, users by `accountId`, priorities by `name`, numbers as numbers).
    """
    kind, items = meta.schema_.type, meta.schema_.items
    choices = meta.allowed_names()
    if choices and typed not in choices:
        return None, f"The value '{typed}' set for it is not one of its options ({', '.join(choices)})."
    if kind == "option" or (kind == "array" and items == "option"):
        return ({"value": typed} if kind == "option" else [{"value": typed}]), None
    if kind in ("string", "date", "datetime"):
        return typed, None
    if kind == "array" and items == "string":
        return [typed], None
    if kind == "number":
        try:
            return float(typed), None
        except ValueError:
            return None, f"The value '{typed}' set for it is not a number."
    if kind == "priority":
        return {"name": typed}, None
    if kind == "user":
        return {"accountId": typed}, None
    return None, f"The app cannot fill a field of type '{kind}'; it needs a default in Jira."
