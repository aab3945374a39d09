"""The export's first step: one Jira issue per ticket, 50 a call, each exactly once.

Every issue carries the `dtg-ticket` property {ticketKey, sessionId, exportId}, set in the create call itself.
Before creating, and after any create whose outcome is unknown, the run asks Jira which issues carry it and
records those instead of creating them again. Keys are stored per ticket as soon as Jira answers.

When the project's create screen has the Linked issues field (create-meta lists `issuelinks`), an issue's
"is blocked by" links to issues already in Jira ride in its create (`update.issuelinks`), so they cost no call of
their own. Such a link is recorded `sent` before the create and `done` once Jira answered it; a create whose answer
was lost leaves it `sent`, and the link step looks at the issue before posting it again.
"""

from __future__ import annotations

from typing import Any

from app.db.models import TicketRecord
from app.domain.jira_limits import BULK_CREATE_MAX
from app.errors import WhoCanFix
from app.jira.errors import describe
from app.jira.models import BulkCreateResult, LinkType
from app.pipeline.export.context import ExportContext
from app.pipeline.export.plan import BLOCKS, PlannedLink, plan_chunks
from app.pipeline.issue_requests import PROPERTY_KEY, epic_area, epic_key, ticket_request

# Jira's limit per bulk create call.
# @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulk-post
BULK_SIZE = BULK_CREATE_MAX
# Fields the director can fix by editing the ticket in review; any other refusal is the Jira admin's to fix.
TICKET_FIELDS = {"summary", "description", "labels"}


class IssueStep:
    """`links_type` is the Blocks link type when creates may carry links (create-meta lists `issuelinks`)."""

    def __init__(self, context: ExportContext, links: list[PlannedLink], links_type: LinkType | None) -> None:
        self._context = context
        self._links = links
        self._links_type = links_type
        self._blockers: dict[str, list[PlannedLink]] = {}
        for link in links:
            if link.kind == BLOCKS:
                self._blockers.setdefault(link.from_key, []).append(link)

    async def execute(self, order: list[str]) -> None:
        """Create the issues of `order` not yet in Jira, blockers in earlier calls where the 50-a-call limit allows."""
        context = self._context
        pending = [key for key in order if key not in context.issues]
        for chunk in plan_chunks(pending, self._links, BULK_SIZE):
            await context.stop_if_cancelled()
            await self.create_chunk(chunk)
            await context.report("Creating issues")

    async def adopt_existing(self, keys: list[str] | None = None) -> None:
        """Record issues that already carry our property (from a run that crashed, or a lost answer)."""
        context = self._context
        conditions: dict[str, Any] = {"sessionId": str(context.task.session_id)}
        if keys is not None:
            conditions["ticketKey"] = keys
        found = await context.read(context.client.search_by_property, PROPERTY_KEY, conditions)
        adopted: dict[str, tuple[str, str]] = {}
        for issue in found:  # oldest first: if Jira somehow holds two, the first one wins
            ticket_key = (issue.properties.get(PROPERTY_KEY) or {}).get("ticketKey")
            if ticket_key in context.tickets and ticket_key not in context.issues and ticket_key not in adopted:
                adopted[ticket_key] = (issue.key, issue.id)
        await context.db(context.repo.record_issues, **context.scope, issues=adopted)
        context.issues.update(adopted)
        context.count("existed", len(adopted))

    async def create_chunk(self, keys: list[str]) -> None:
        context = self._context

        def missing() -> list[str]:
            return [key for key in keys if key not in context.issues]

        async def create() -> None:
            todo = missing()
            carried = {key: self.links_to_carry(key) for key in todo}
            await context.db(
                context.repo.mark_links,
                **context.scope,
                links=[li.id for ls in carried.values() for li in ls],
                state="sent",
            )
            updates = [self.issue_update(context.tickets[key], carried[key]) for key in todo]
            await self.record(todo, await context.client.bulk_create(updates))
            made = [link.id for key in todo if key in context.created_now for link in carried[key]]
            await context.db(context.repo.mark_links, **context.scope, links=made, state="done")
            context.count("links_in_create", len(made))

        async def look() -> bool:
            await self.adopt_made(missing())
            return not missing()

        await context.retrier.create_once(create, look)

    async def adopt_made(self, keys: list[str]) -> None:
        """After a create whose outcome is unknown: adopt what it made, searching again while the search index
        may still trail it, so an issue created a moment ago is not taken for one never created."""
        context = self._context
        await self.adopt_existing(keys)
        for wait in context.retrier.policy.index_lag_waits:
            missing = [key for key in keys if key not in context.issues]
            if not missing:
                return
            await context.retrier.sleep(wait)
            await self.adopt_existing(missing)

    async def record(self, keys: list[str], result: BulkCreateResult) -> None:
        context = self._context
        created = {keys[index]: (i.key, i.id) for index, i in result.created_by_index(len(keys)).items()}
        refused = {
            keys[e.index]: (describe(e.messages, e.field_errors), _who_can_fix(e.field_errors))
            for e in result.errors
            if 0 <= e.index < len(keys)
        }
        await context.db(context.repo.record_issues, **context.scope, issues=created)
        await context.db(context.repo.record_errors, **context.scope, errors=refused)
        context.issues.update(created)
        context.created_now.update(created)
        context.errors.update(refused)

    def links_to_carry(self, key: str) -> list[PlannedLink]:
        """The ticket's "is blocked by" links whose blocker is in Jira already, if creates may carry links."""
        if self._links_type is None:
            return []
        return [link for link in self._blockers.get(key, []) if link.to_key in self._context.issues]

    def issue_update(self, ticket: TicketRecord, carried: list[PlannedLink]) -> dict[str, Any]:
        """The create request the dry run shows (issue type and field values from the project check, the parent
        epic of the ticket's area when epics are on), plus the links it carries."""
        context = self._context
        assert context.target is not None
        parent = context.epics.get(epic_key(epic_area(ticket))) if context.target.fit.epics else None
        update = ticket_request(
            ticket, context.target, export_id=str(context.task_id), parent_key=parent[0] if parent else None
        )
        if carried and self._links_type is not None:
            # The blocker is the link's inward issue, so the new issue is the outward one and shows "is blocked by".
            update["update"] = {
                "issuelinks": [
                    {
                        "add": {
                            "type": {"id": self._links_type.id},
                            "inwardIssue": {"key": context.issues[link.to_key][0]},
                        }
                    }
                    for link in carried
                ]
            }
        return update


def _who_can_fix(field_errors: dict[str, str]) -> str:
    if field_errors and set(field_errors) <= TICKET_FIELDS:
        return WhoCanFix.SPEC_AUTHOR.value
    return WhoCanFix.JIRA_ADMIN.value
