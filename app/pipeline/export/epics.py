"""The step before the tickets, when epics are on: one epic per area, each exactly once, so tickets get a parent.

An epic carries the `dtg-ticket` property like a ticket, with an `epic:` key, so after a crash or a lost answer
the run finds it by search instead of creating it again; the keys are recorded as soon as Jira answers.
"""

from __future__ import annotations

from app.jira.errors import describe
from app.jira.models import BulkCreateResult
from app.pipeline.export.context import ExportConfigurationError, ExportContext
from app.pipeline.issue_requests import PROPERTY_KEY, epic_area, epic_key, epic_request


class EpicStep:
    def __init__(self, context: ExportContext) -> None:
        self._context = context

    async def execute(self, order: list[str]) -> None:
        """Make sure the epic of every area with a ticket still to create exists (none when epics are off)."""
        context = self._context
        assert context.target is not None
        if not context.target.fit.epics:
            return
        context.epics.update(await context.db(context.repo.epics, **context.scope))
        pending = [context.tickets[key] for key in order if key not in context.issues]
        areas = {epic_key(epic_area(t)): epic_area(t) for t in pending}
        if not [key for key in areas if key not in context.epics]:
            return
        await context.report("Creating epics")

        def missing() -> list[str]:
            return [key for key in areas if key not in context.epics]

        async def create() -> None:
            todo = missing()
            assert context.target is not None
            session_id, export_id = context.scope["session_id"], str(context.task_id)
            requests = [
                epic_request(areas[key], context.target, session_id=session_id, export_id=export_id) for key in todo
            ]
            await self.record(todo, await context.client.bulk_create(requests))

        async def look() -> bool:
            # Search again while the index may trail a create made a moment ago, as for the tickets.
            await self.adopt(missing())
            for wait in context.retrier.policy.index_lag_waits:
                if not missing():
                    break
                await context.retrier.sleep(wait)
                await self.adopt(missing())
            return not missing()

        await self.adopt(missing())
        if missing():
            await context.retrier.create_once(create, look)

    async def adopt(self, keys: list[str]) -> None:
        """Record epics of this session that Jira already holds (from a run that crashed, or a lost answer)."""
        if not keys:
            return
        context = self._context
        conditions = {"sessionId": str(context.task.session_id), "ticketKey": keys}
        found = await context.read(context.client.search_by_property, PROPERTY_KEY, conditions)
        adopted: dict[str, tuple[str, str]] = {}
        for issue in found:  # oldest first: the first one wins
            key = (issue.properties.get(PROPERTY_KEY) or {}).get("ticketKey")
            if key in keys and key not in adopted:
                adopted[key] = (issue.key, issue.id)
        await self.save(adopted)

    async def record(self, keys: list[str], result: BulkCreateResult) -> None:
        created = {keys[index]: (i.key, i.id) for index, i in result.created_by_index(len(keys)).items()}
        await self.save(created)
        refused = [e for e in result.errors if 0 <= e.index < len(keys)]
        if refused:  # the project check passed, so this is Jira's configuration: no ticket could get its parent
            first = refused[0]
            raise ExportConfigurationError(
                f"Jira refused the epic '{keys[first.index]}': {describe(first.messages, first.field_errors)} "
                "A Jira admin can check the project's epic issue type and its required fields, or turn epics off "
                "on the app's configure page."
            )

    async def save(self, epics: dict[str, tuple[str, str]]) -> None:
        context = self._context
        await context.db(context.repo.record_epics, **context.scope, epics=epics)
        context.epics.update(epics)
