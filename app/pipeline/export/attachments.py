"""The export's attachments: the files of tickets whose tables were too large for the description, each once.

An issue this run created has none yet; for any other (a resumed run, or an answer lost after the upload) the
issue's attachments are read first and only the missing files are posted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.db.models import TicketRecord
from app.pipeline.export.context import ExportContext

CONCURRENCY = 8


class AttachmentStep:
    def __init__(self, context: ExportContext) -> None:
        self._context = context

    async def execute(self) -> None:
        context = self._context
        todo = [
            t for t in context.tickets.values() if t.attachments and not t.attachments_done and t.key in context.issues
        ]
        gate = asyncio.Semaphore(CONCURRENCY)

        async def attach(ticket: TicketRecord) -> None:
            async with gate:
                await self.attach_files(ticket)

        for start in range(0, len(todo), CONCURRENCY * 2):
            await context.stop_if_cancelled()
            outcomes = await asyncio.gather(*map(attach, todo[start : start + CONCURRENCY * 2]), return_exceptions=True)
            await context.report("Adding attachments")
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome

    async def attach_files(self, ticket: TicketRecord) -> None:
        context = self._context
        issue_key = context.issues[ticket.key][0]
        present = set() if ticket.key in context.created_now else await self.attached_names(issue_key)
        for item in ticket.attachments:
            if item["filename"] not in present:
                await self.attach_one(issue_key, item)
                context.count("attachments")
        await context.db(context.repo.mark_attachments_done, **context.scope, key=ticket.key)
        ticket.attachments_done = True

    async def attach_one(self, issue_key: str, item: dict[str, Any]) -> None:
        context = self._context
        content = item["content"].encode() if isinstance(item["content"], str) else bytes(item["content"])

        async def post() -> None:
            await context.client.add_attachment(issue_key, item["filename"], item["media_type"], content)

        async def look() -> bool:
            return item["filename"] in await self.attached_names(issue_key)

        await context.retrier.create_once(post, look)

    async def attached_names(self, issue_key: str) -> set[str]:
        context = self._context
        issue = await context.read(context.client.get_issue, issue_key, fields=("attachment",))
        return {a.filename for a in issue.attachments}
