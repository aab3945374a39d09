"""The export's attachments: the files of tickets whose tables were too large for the description, each once.

An issue this run created has none yet; for any other (a resumed run, or an answer lost after the upload) the
issue's attachments are read first and only the missing files are posted.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from app.db.models import TicketRecord
from app.jira.errors import JiraUnavailableError

if TYPE_CHECKING:
    from app.pipeline.export import _Run

CONCURRENCY = 8


class AttachmentStep:
    def __init__(self, run: _Run) -> None:
        self._run = run

    async def execute(self) -> None:
        run = self._run
        todo = [t for t in run.tickets.values() if t.attachments and not t.attachments_done and t.key in run.issues]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def attach(ticket: TicketRecord) -> None:
            async with gate:
                await self.attach_files(ticket)

        for start in range(0, len(todo), CONCURRENCY * 2):
            run.stop_if_cancelled()
            outcomes = await asyncio.gather(*map(attach, todo[start : start + CONCURRENCY * 2]), return_exceptions=True)
            run.report("Adding attachments")
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome

    async def attach_files(self, ticket: TicketRecord) -> None:
        run = self._run
        issue_key = run.issues[ticket.key][0]
        present: set[str] = set()
        if ticket.key not in run.created_now:
            present = await self.attached_names(issue_key)
        for item in ticket.attachments:
            failures = 0
            while item["filename"] not in present:
                content = item["content"].encode() if isinstance(item["content"], str) else bytes(item["content"])
                try:
                    await run.retrying(
                        run.client.add_attachment, issue_key, item["filename"], item["media_type"], content, safe=False
                    )
                except JiraUnavailableError:
                    failures += 1
                    if failures >= run.policy.attempts:
                        raise
                    await run.sleep(run.policy.backoff(failures))
                    present = await self.attached_names(issue_key)
                    continue
                present.add(item["filename"])
                run.counts["attachments"] = run.counts.get("attachments", 0) + 1
        run.repo.mark_attachments_done(**run.scope, key=ticket.key)
        ticket.attachments_done = True

    async def attached_names(self, issue_key: str) -> set[str]:
        run = self._run
        issue = await run.retrying(run.client.get_issue, issue_key, fields=("attachment",))
        return {a.filename for a in issue.attachments}
