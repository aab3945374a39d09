"""A revision of an exported spec: the plan of what it would change in Jira, read from Jira, changing nothing.

Others call::

    await revision_plan(ports, jira, tenant_id=..., previous_session_id=..., session_id=...) -> RevisionPlan
"""

from __future__ import annotations

from typing import Protocol

from app.db.sessions import SessionRepository
from app.db.tickets import TicketRepository
from app.jira.models import FoundIssue
from app.offload import offload
from app.pipeline.issue_requests import PROPERTY_KEY, content_hash
from app.pipeline.revision_plan import JiraState, RevisionPlan, plan_revision


class RevisionPorts(Protocol):
    sessions: SessionRepository
    tickets: TicketRepository


class IssueSearch(Protocol):
    async def search_by_property(
        self, property_key: str, conditions: dict[str, str], *, fields: tuple[str, ...] = ()
    ) -> list[FoundIssue]: ...


async def revision_plan(
    ports: RevisionPorts, jira: IssueSearch, *, tenant_id: int, previous_session_id: int, session_id: int
) -> RevisionPlan:
    """Compare the revised session's tickets with the exported session's, and each issue with what we sent.

    Raises:
        NotFoundError: either session is not this tenant's.
        JiraError: Jira could not be searched.
    """
    for wanted in (previous_session_id, session_id):
        await offload(ports.sessions.get, wanted, tenant_id=tenant_id)
    previous = await offload(ports.tickets.list, tenant_id=tenant_id, session_id=previous_session_id)
    revised = await offload(ports.tickets.list, tenant_id=tenant_id, session_id=session_id)
    found = await jira.search_by_property(
        PROPERTY_KEY, {"sessionId": str(previous_session_id)}, fields=("summary", "description")
    )
    in_jira: dict[str, JiraState] = {}
    for issue in found:  # oldest first: if Jira holds two for one ticket, the first one is ours
        value = issue.properties.get(PROPERTY_KEY) or {}
        key = str(value.get("ticketKey", ""))
        current = content_hash(str(issue.fields.get("summary", "")), issue.fields.get("description"))
        in_jira.setdefault(key, JiraState(issue.key, value.get("sentHash"), current))
    return plan_revision([t for t in previous if t.jira_key], [t for t in revised if not t.excluded], in_jira)
