"""The export's attachments: the files of tickets whose tables were too large for the description, each once.

An issue this run created has none yet; for any other (a resumed run, an answer lost after the upload, or an issue
a revision updates) the issue's attachments are read first. A file it lacks is posted. A file it has by name is
replaced when its content differs (a revised spec's table): the new one is attached first and the old one deleted
after, so a crash in between leaves both and never neither; the run that resumes finds the new content there and
deletes the old one without attaching again. A file we attached before that a revised ticket no longer has is
deleted (`ExportContext.retired`). The issue of a conflict the director did not choose to overwrite keeps its files
as they are (`ExportContext.held`), as it keeps its summary and description. Only the app's own files are replaced
or deleted: a file someone attached in Jira under the same name is kept, and ours goes beside it (the app's
account, read once per run, tells them apart).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from app.db.models import TicketRecord
from app.jira.errors import JiraNotFoundError
from app.jira.models import AttachmentRef
from app.pipeline.export.context import ExportContext
from app.pipeline.issue_requests import attachment_bytes

CONCURRENCY = 8


class AttachmentStep:
    def __init__(self, context: ExportContext) -> None:
        self._context = context
        self._app_account: asyncio.Task[str] | None = None

    async def execute(self) -> None:
        context = self._context
        todo = [t for t in context.attachment_work() if not t.attachments_done and t.key in context.issues]
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
        present = [] if ticket.key in context.created_now else await self.attached(issue_key)
        for item in ticket.attachments:
            same_name = [a for a in present if a.filename == item["filename"]]
            if same_name:
                await self.replace(issue_key, item, same_name)
            else:
                await self.attach_one(issue_key, item)
                context.count("attachments")
        for stale in (a for a in present if a.filename in context.retired.get(ticket.key, ())):
            await self.delete(stale)
            context.count("attachments_removed")
        await context.db(context.repo.mark_attachments_done, **context.scope, key=ticket.key)
        ticket.attachments_done = True

    async def replace(self, issue_key: str, item: dict[str, Any], old: list[AttachmentRef]) -> None:
        """Make the issue's file named like `item` hold its content: attach it unless one of `old` (the issue's
        files of that name) holds it already, then delete the others."""
        context = self._context
        content = attachment_bytes(item)
        current = [a for a in old if await self.holds(a, content)]
        if not current:
            old_ids = {a.id for a in old}

            async def ours(found: AttachmentRef) -> bool:
                return found.id not in old_ids and await self.holds(found, content)

            await self.attach_one(issue_key, item, ours)
            context.count("attachments")
        stale = [a for a in old if not current or a is not current[0]]
        for attachment in stale:
            await self.delete(attachment)
        if stale:
            context.count("attachments_replaced")

    async def delete(self, attachment: AttachmentRef) -> None:
        context = self._context
        with contextlib.suppress(JiraNotFoundError):  # deleted already (a lost answer, or by someone in Jira)
            await context.read(context.client.delete_attachment, attachment.id)

    async def attach_one(
        self, issue_key: str, item: dict[str, Any], ours: Callable[[AttachmentRef], Awaitable[bool]] | None = None
    ) -> None:
        """Post the file once: after an unknown outcome it is looked for on the issue by name (and by `ours`, when a
        file of that name was there before)."""
        context = self._context

        async def post() -> None:
            await context.client.add_attachment(issue_key, item["filename"], item["media_type"], attachment_bytes(item))

        async def look() -> bool:
            for found in await self.attached(issue_key):
                if found.filename == item["filename"] and (ours is None or await ours(found)):
                    return True
            return False

        await context.retrier.create_once(post, look)

    async def attached(self, issue_key: str) -> list[AttachmentRef]:
        """The issue's files that the app attached (a person's files are not ours to replace, delete or count)."""
        context = self._context
        issue = await context.read(context.client.get_issue, issue_key, fields=("attachment",))
        if not issue.attachments:
            return []
        if self._app_account is None:  # one read per run, shared by the concurrent tickets
            self._app_account = asyncio.ensure_future(self._read_app_account())
        account_id = await self._app_account
        return [a for a in issue.attachments if a.author is not None and a.author.account_id == account_id]

    async def _read_app_account(self) -> str:
        context = self._context
        return (await context.read(context.client.myself)).account_id

    async def holds(self, attachment: AttachmentRef, content: bytes) -> bool:
        """Whether the attachment's bytes are `content` (downloaded only when the sizes agree)."""
        if attachment.size != len(content):
            return False
        context = self._context
        return await context.read(context.client.attachment_content, attachment.id, limit=len(content)) == content
