"""The export's last step: "Blocks" and "Relates" links between the created issues, each exactly once.

A link is recorded `sent` before it is posted and `done` once Jira confirmed it. A run that finds a `sent` link
(its answer was lost, or the worker died) looks at the issue's links before posting it again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from app.jira.errors import JiraBadRequestError, JiraNotFoundError
from app.jira.models import LinkType
from app.pipeline.export.context import ExportContext
from app.pipeline.export.plan import BLOCKS, PlannedLink

BATCH = 24
CONCURRENCY = 8


class LinkStep:
    def __init__(self, context: ExportContext, planned: list[PlannedLink], types: dict[str, LinkType]) -> None:
        self._context = context
        self._types = types
        self.total = len(planned)
        # Links to a ticket Jira refused cannot be made; they are counted as failures.
        self._links = [link for link in planned if link.from_key in context.issues and link.to_key in context.issues]
        self.failures: list[tuple[PlannedLink, str]] = [
            (link, "A linked ticket is not in Jira.") for link in planned if link not in self._links
        ]
        self.created = 0
        self.done = 0

    def sides(self, link: PlannedLink) -> tuple[str, str]:
        """(inward issue key, outward issue key) as Jira's issueLink wants them.

        Jira reads a posted link as "<inward issue> <outward text> <outward issue>": for Blocks that is "the
        blocker blocks the blocked", and the blocked issue shows "is blocked by" the blocker.
        @see https://developer.atlassian.com/cloud/jira/platform/issue-linking-model/
        """
        issues = self._context.issues
        if link.kind == BLOCKS:
            return issues[link.to_key][0], issues[link.from_key][0]
        return issues[link.from_key][0], issues[link.to_key][0]

    async def execute(self) -> None:
        context = self._context
        states = await context.db(context.repo.link_states, **context.scope)
        done = {link for link in self._links if states.get(link.id) == "done"}
        sent = [link for link in self._links if states.get(link.id) == "sent"]
        confirmed = await self.confirm(sent) if sent else set()
        await context.db(context.repo.mark_links, **context.scope, links=[link.id for link in confirmed], state="done")
        done |= confirmed
        self.done = context.links_done = len(done)
        todo = [link for link in self._links if link not in done]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def create(link: PlannedLink) -> bool:
            async with gate:
                return await self.create(link)

        for start in range(0, len(todo), BATCH):
            await context.stop_if_cancelled()
            batch = todo[start : start + BATCH]
            await context.db(context.repo.mark_links, **context.scope, links=[link.id for link in batch], state="sent")
            outcomes = await asyncio.gather(*map(create, batch), return_exceptions=True)
            made = [link for link, outcome in zip(batch, outcomes, strict=True) if outcome is True]
            await context.db(context.repo.mark_links, **context.scope, links=[link.id for link in made], state="done")
            self.created += len(made)
            self.done += len(made)
            context.links_done = self.done
            await context.report("Linking issues")
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome

    async def create(self, link: PlannedLink) -> bool:
        """True once Jira has the link; False (recorded) when Jira refuses it for good."""
        context = self._context
        inward, outward = self.sides(link)
        type_id = self._types[link.kind].id

        async def post() -> None:
            await context.client.create_link(type_id, inward_key=inward, outward_key=outward)

        async def look() -> bool:
            return link in await self.confirm([link])

        try:
            await context.retrier.create_once(post, look)
        except (JiraNotFoundError, JiraBadRequestError) as exc:
            self.failures.append((link, exc.message))
            return False
        return True

    async def confirm(self, links: list[PlannedLink]) -> set[PlannedLink]:
        """The links Jira already has, read from each outward issue's `issuelinks`."""
        context = self._context
        by_outward: dict[str, list[PlannedLink]] = defaultdict(list)
        for link in links:
            by_outward[self.sides(link)[1]].append(link)
        found: set[PlannedLink] = set()
        for outward, candidates in by_outward.items():
            try:
                issue = await context.read(context.client.get_issue, outward, fields=("issuelinks",))
            except JiraNotFoundError:
                continue
            # Seen from the outward issue, the partner of a link we posted is its `inwardIssue`.
            present = {(ref.type_name, ref.inward_issue_key) for ref in issue.links}
            found |= {link for link in candidates if (self._types[link.kind].name, self.sides(link)[0]) in present}
        return found
