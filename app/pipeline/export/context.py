"""`ExportContext`: what every step of one export run shares, and the calls they make through the retry policy."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.db.exports import ExportRepository
from app.db.models import Task, TicketRecord
from app.errors import AppError
from app.jira.client import JiraClient
from app.offload import offload
from app.pipeline.issue_requests import CreateTarget
from app.pipeline.ports import ExportPorts
from app.retries import Retrier

T = TypeVar("T")


class ExportConfigurationError(AppError):
    """Jira or the tenant is not set up for the export (missing link type, app uninstalled)."""


class Cancelled(Exception):
    """The director asked to stop; raised between batches, so what was sent is recorded."""


@dataclass
class ExportContext:
    """One run of one export task: its Jira client and retries, and what it knows so far.

    `issues` maps ticket keys to (issue key, issue id) for every ticket known to be in Jira, whichever run made it;
    `created_now` are those this run created (they have no attachments or links yet). `target` (set once the
    project check passed) says which issue types and field values the creates use; `epics` maps epic keys to
    (issue key, issue id). A revision sets `retired` (per ticket, files we attached before that it no longer has:
    deleted, so the issue shows no stale table) and `held` (tickets whose issues it leaves as Jira has them: a
    conflict not overwritten), for the attachment step.
    """

    services: ExportPorts
    task: Task
    client: JiraClient
    retrier: Retrier
    repo: ExportRepository
    project_key: str
    default_labels: list[str]
    target: CreateTarget | None = None
    epics: dict[str, tuple[str, str]] = field(default_factory=dict)
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    issues: dict[str, tuple[str, str]] = field(default_factory=dict)
    created_now: set[str] = field(default_factory=set)
    retired: dict[str, set[str]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    links_total: int = 0
    links_done: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def task_id(self) -> int:
        assert self.task.id is not None
        return self.task.id

    @property
    def scope(self) -> dict[str, int]:
        assert self.task.tenant_id is not None and self.task.session_id is not None
        return {"tenant_id": self.task.tenant_id, "session_id": self.task.session_id}

    async def read(self, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """An idempotent call to Jira, retried by the policy."""
        return await self.retrier.call(functools.partial(call, *args, **kwargs), idempotent=True)

    async def db(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A database call, in a thread: the export shares its worker's event loop with every generation there."""
        return await offload(call, *args, **kwargs)

    def attachment_work(self) -> list[TicketRecord]:
        """The tickets the attachment step has files to attach, replace or delete for, done or not."""
        return [t for t in self.tickets.values() if (t.attachments or t.key in self.retired) and t.key not in self.held]

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    async def stop_if_cancelled(self) -> None:
        if await self.db(self.services.tasks.cancel_requested, self.task_id):
            await self.report("Cancelled")
            raise Cancelled

    async def report(self, step: str, **extra: Any) -> None:
        """Progress for the task's page: the phase named with its own count ("Creating issues 50 of 109"), and
        issues, attachments and links done out of a total fixed when the export started (`export_total`), so the
        bar never jumps back when a phase begins."""
        work = self.attachment_work()
        attachments_total, attachments_done = len(work), sum(1 for t in work if t.attachments_done)
        detail = {
            "step": step,
            "created": len(self.issues),
            "total": len(self.tickets),
            "failed": len(self.errors),
            "attachments_done": attachments_done,
            "attachments_total": attachments_total,
            "links_done": self.links_done,
            "links_total": self.links_total,
            "requests": self.client.requests,
            "rate_limited": self.client.rate_limited,
            **extra,
        }
        counted = {
            "Creating issues": (len(self.issues), len(self.tickets)),
            "Adding attachments": (attachments_done, attachments_total),
            "Linking issues": (self.links_done, self.links_total),
        }
        current = f"{step} {counted[step][0]} of {counted[step][1]}" if step in counted else step
        done = len(self.issues) + attachments_done + self.links_done
        total = len(self.tickets) + attachments_total + self.links_total
        await self.db(
            self.services.tasks.progress, self.task_id, done=done, total=total, current=current, detail=detail
        )


def export_total(tickets: Sequence[TicketRecord], links: int) -> int:
    """The steps of an export, known before it starts: one per issue, per ticket with attachments, per link."""
    return len(tickets) + sum(1 for t in tickets if t.attachments) + links
