"""Revising an exported spec: a new session from an exported one, its plan (read from Jira, changing nothing),
and the director's choice for each issue edited in Jira since. Applying the plan is the export of the revised
session (`app.pipeline.export.revise`).

A revised session records `revision` = {"of": the session it revises, "lineage": every session before it, oldest
first, "choices": {ticket key: keep | overwrite | comment}, and "carried": the files it started with, copied from
the session it revises, when it was opened with them}. Its issues are those carrying our property with the
`sessionId` of any session of the lineage, or its own (tickets it created).

Others call::

    start_revision(ports, scope, actor, carry_files=...) -> UploadSession   # scope: the exported session
    await revision_plan(ports, jira, tenant_id=..., session_id=...) -> RevisionPlan
    await choose(ports, jira, scope, actor, ticket_key, choice)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.db.models import TicketRecord, UploadSession
from app.db.sessions import SessionRepository
from app.db.tickets import TicketRepository
from app.errors import AppError, NotFoundError
from app.jira.client import issue_links
from app.jira.models import FoundIssue, IssueLinkRef
from app.offload import offload
from app.pipeline.activity import record_step
from app.pipeline.issue_requests import EPIC_KEY_PREFIX, PROPERTY_KEY, content_hash
from app.pipeline.ports import ActivityPorts, Actor, Scope
from app.pipeline.revision_plan import CHOICES, CONFLICT, JiraState, RevisionPlan, plan_revision

SEARCH_FIELDS = ("summary", "description", "labels", "issuelinks")


class RevisionError(AppError):
    """The session cannot be revised (nothing of it is in Jira), or the choice names no conflict."""


class NoConflictError(AppError):
    """A conflict choice for a ticket whose issue has no conflict (not edited in Jira, or not changed)."""


class RevisionPorts(ActivityPorts, Protocol):
    sessions: SessionRepository
    tickets: TicketRepository


class IssueSearch(Protocol):
    async def search_by_property(
        self, property_key: str, conditions: dict[str, Any], *, fields: Sequence[str] = ()
    ) -> list[FoundIssue]: ...


@dataclass(frozen=True)
class LineageIssue:
    ticket_key: str
    issue_key: str
    issue_id: str
    property: dict[str, Any]
    state: JiraState
    links: list[IssueLinkRef] = field(default_factory=list)


@dataclass(frozen=True)
class JiraView:
    """What Jira holds of a revised session's lineage: per ticket key (epics too) its first issue."""

    issues: dict[str, LineageIssue]

    def states(self) -> dict[str, JiraState]:
        return {key: issue.state for key, issue in self.issues.items() if not key.startswith(EPIC_KEY_PREFIX)}

    def epics(self) -> dict[str, tuple[str, str]]:
        return {k: (i.issue_key, i.issue_id) for k, i in self.issues.items() if k.startswith(EPIC_KEY_PREFIX)}


def lineage_ids(upload: UploadSession) -> list[int]:
    """The sessions whose issues a session may update: its lineage and itself (just itself if not a revision)."""
    revision = upload.revision or {}
    own = [upload.id] if upload.id is not None else []
    return [*(int(s) for s in revision.get("lineage") or []), *own]


def jira_view(found: Sequence[FoundIssue]) -> JiraView:
    issues: dict[str, LineageIssue] = {}
    for issue in found:  # oldest first: if Jira holds two for one ticket, the first one is ours
        value = dict(issue.properties.get(PROPERTY_KEY) or {})
        key = str(value.get("ticketKey", ""))
        if not key or key in issues:
            continue
        summary = str(issue.fields.get("summary", ""))
        state = JiraState(
            issue.key,
            value.get("sentHash"),
            content_hash(summary, issue.fields.get("description")),
            issue_id=issue.id,
            summary=summary,
            labels=tuple(issue.fields.get("labels") or ()),
        )
        issues[key] = LineageIssue(key, issue.key, issue.id, value, state, issue_links(issue.fields))
    return JiraView(issues)


async def read_jira_view(jira: IssueSearch, session_ids: Sequence[int]) -> JiraView:
    """One search (paged) for every issue of the lineage, with what the plan compares and the links.

    Raises: JiraError: Jira could not be searched.
    """
    conditions: dict[str, Any] = {"sessionId": [str(s) for s in session_ids]}
    return jira_view(await jira.search_by_property(PROPERTY_KEY, conditions, fields=SEARCH_FIELDS))


def start_revision(ports: RevisionPorts, scope: Scope, actor: Actor, *, carry_files: bool = False) -> UploadSession:
    """A new session on the same project that revises `scope`'s session; the director uploads the revised files.
    With `carry_files` it starts with copies of the session's files as they are now (its changed ones included),
    named in its record as `carried`, so the director replaces or adds only what changed; without, the caller
    brings the whole revised spec (`dtg demo --revise DIR`, where a carried CSV would sit beside DIR's workbook).
    The plan still compares with what the session's export sent: its tickets, not its files.
    A revision of that session not yet applied is opened again instead (a second tab, a second click): two open
    revisions of one spec would both update the same issues.

    Raises:
        NotFoundError: no such session in this tenant.
        RevisionError: none of the session's tickets is in Jira yet (export it first).
    """
    previous = ports.sessions.get(scope.session_id, tenant_id=scope.tenant_id)
    exported = [t for t in ports.tickets.list(tenant_id=scope.tenant_id, session_id=scope.session_id) if t.jira_key]
    if not exported:
        raise RevisionError("This session has nothing in Jira yet: export it before revising it.")
    siblings = ports.sessions.list_for_project(tenant_id=scope.tenant_id, project_key=previous.project_key)
    for sibling in siblings:
        if (sibling.revision or {}).get("of") == scope.session_id and sibling.stage != "export":
            return sibling
    revision = {"of": scope.session_id, "lineage": lineage_ids(previous), "choices": {}}
    upload = ports.sessions.create(
        tenant_id=scope.tenant_id,
        project_key=previous.project_key,
        project_id=previous.project_id,
        created_by=actor.account_id,
        site_name=previous.site_name,
        site_description=previous.site_description,
        revision=revision,
        files_from=scope.session_id if carry_files else None,
    )
    assert upload.id is not None
    opened = Scope(scope.tenant_id, upload.id)
    carried = (upload.revision or {}).get("carried", [])
    record_step(ports, opened, actor, "revision_opened", revises=scope.session_id, files=carried)
    return upload


def previous_tickets(ports: RevisionPorts, upload: UploadSession) -> list[TicketRecord]:
    """The tickets of the session revised (none if it was deleted since: the plan then has no diffs to show)."""
    revision = upload.revision or {}
    try:
        ports.sessions.get(int(revision["of"]), tenant_id=upload.tenant_id)
    except (KeyError, NotFoundError):
        return []
    return ports.tickets.list(tenant_id=upload.tenant_id, session_id=int(revision["of"]))


def plan_from(previous: Sequence[TicketRecord], revised: Sequence[TicketRecord], view: JiraView) -> RevisionPlan:
    left_out = frozenset(t.key for t in revised if t.excluded)
    return plan_revision(list(previous), [t for t in revised if not t.excluded], view.states(), left_out=left_out)


async def revision_plan(ports: RevisionPorts, jira: IssueSearch, *, tenant_id: int, session_id: int) -> RevisionPlan:
    """The plan of a revised session: what applying it (its export) would do, per ticket.

    Raises:
        NotFoundError: the session is not this tenant's.
        RevisionError: the session is not a revision.
        JiraError: Jira could not be searched.
    """
    upload = await offload(ports.sessions.get, session_id, tenant_id=tenant_id)
    if upload.revision is None:
        raise RevisionError("This session is not a revision of an exported spec.")
    previous = await offload(previous_tickets, ports, upload)
    revised = await offload(ports.tickets.list, tenant_id=tenant_id, session_id=session_id)
    view = await read_jira_view(jira, lineage_ids(upload))
    return plan_from(previous, revised, view)


async def choose(
    ports: RevisionPorts, jira: IssueSearch, scope: Scope, actor: Actor, ticket_key: str, choice: str
) -> None:
    """The director's choice for an issue edited in Jira: keep Jira's, overwrite with the spec's, or comment.
    Only a ticket the plan (read from Jira now) shows as a conflict takes one; otherwise nothing is recorded.

    Raises:
        NotFoundError: no such session or ticket.
        RevisionError: the session is not a revision, or the choice is not one of `CHOICES`.
        NoConflictError: the ticket's plan is not a conflict (its issue was not edited in Jira, or nothing changes).
        JiraError: Jira could not be searched.
    """
    upload = await offload(ports.sessions.get, scope.session_id, tenant_id=scope.tenant_id)
    if upload.revision is None or choice not in CHOICES:
        raise RevisionError(f"Choose one of {', '.join(CHOICES)} for a ticket of a revised session.")
    ticket = await offload(ports.tickets.get, tenant_id=scope.tenant_id, session_id=scope.session_id, key=ticket_key)
    plan = await revision_plan(ports, jira, tenant_id=scope.tenant_id, session_id=scope.session_id)
    kind = next((c.kind for c in plan.changes if c.ticket_key == ticket_key), None)
    if kind != CONFLICT:
        raise NoConflictError(
            f"'{ticket.title}' ({ticket_key}) has no conflict to resolve: its plan is {kind or 'nothing'}, not a "
            "conflict (only an issue edited in Jira since the export, which the revision changes, takes a choice). "
            "Nothing was recorded."
        )
    await offload(_record_choice, ports, scope, actor, ticket_key, choice)


def _record_choice(ports: RevisionPorts, scope: Scope, actor: Actor, ticket_key: str, choice: str) -> None:
    # Merged into the record as it is now, not as read before the plan: another choice may have landed meanwhile.
    ports.sessions.set_choice(scope.session_id, tenant_id=scope.tenant_id, ticket_key=ticket_key, choice=choice)
    record_step(ports, scope, actor, "revision_choice", ticket=ticket_key, choice=choice, kind=CONFLICT)
