"""`ExportContext`: what every step of one export run shares, and the calls they make through the retry policy."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.db.exports import ExportRepository
from app.db.models import Task, TicketRecord
from app.errors import AppError
from app.jira.client import JiraClient
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
    (issue key, issue id).
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
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
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

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def stop_if_cancelled(self) -> None:
        if self.services.tasks.cancel_requested(self.task_id):
            self.report("Cancelled")
            raise Cancelled

    def report(self, step: str, **extra: Any) -> None:
        """Progress for the task's page: issues, attachments and (when given) links done out of their totals."""
        attachments_total = sum(1 for t in self.tickets.values() if t.attachments)
        attachments_done = sum(1 for t in self.tickets.values() if t.attachments and t.attachments_done)
        detail = {
            "step": step,
            "created": len(self.issues),
            "total": len(self.tickets),
            "failed": len(self.errors),
            "attachments_done": attachments_done,
            "attachments_total": attachments_total,
            "requests": self.client.requests,
            "rate_limited": self.client.rate_limited,
            **extra,
        }
        done = len(self.issues) + attachments_done + int(extra.get("links_done", 0))
        total = len(self.tickets) + attachments_total + int(extra.get("links_total", 0))
        self.services.tasks.progress(self.task_id, done=done, total=total, current=step, detail=detail)
