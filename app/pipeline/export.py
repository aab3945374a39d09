"""The export: a session's reviewed tickets become linked Jira issues, exactly once, whatever fails.

How a run never duplicates (it may be killed at any instant and run again):
- Every issue carries the `dtg-ticket` property {ticketKey, sessionId, exportId}, set in the create call itself.
  Before creating, and after any create whose outcome is unknown (5xx, timeout, cut connection), the run asks
  Jira which issues carry it and records those instead of creating them again.
- Issue keys are stored per ticket as soon as Jira answers; a crash before that is covered by the search.
- Attachments of an issue this run did not create are compared with the issue's attachments first.
- A link is recorded `sent` before it is posted and `done` after; a `sent` link is checked on the issue first.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from app.container import Services
from app.db.exports import ExportRepository
from app.db.locks import exclusive
from app.db.models import ACTIVE_TASK_STATES, Task, TicketRecord, utcnow
from app.errors import AppError, NotFoundError, WhoCanFix
from app.forge.jira_auth import system_auth
from app.jira.client import JiraClient
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraUnavailableError,
    describe,
)
from app.jira.models import LinkType
from app.jira.pacing import RetryPolicy, Sleep, TenantPacer, with_retries
from app.pipeline.configuration import effective_default_labels
from app.pipeline.export_attachments import AttachmentStep
from app.pipeline.export_csv import spec_csvs_with_keys
from app.pipeline.export_links import LinkStep
from app.pipeline.export_plan import plan_export
from app.pipeline.jobs import STALE_AFTER

PROPERTY_KEY = "dtg-ticket"
# Jira's limit per bulk create call.
# @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulk-post
BULK_SIZE = 50
DEFAULT_POLICY = RetryPolicy()
# Fields the director can fix by editing the ticket in review; any other refusal is the Jira admin's to fix.
log = logging.getLogger(__name__)

TICKET_FIELDS = {"summary", "description", "labels"}


class ExportConfigurationError(AppError):
    """Jira or the tenant is not set up for the export (missing link type, app uninstalled)."""

    status_code = 409
    who_can_fix = WhoCanFix.JIRA_ADMIN


# Retrying these cannot help; actors list them in `throws=`.
# Retrying cannot help these; the task fails at once with Jira's message. A whole request Jira refuses (400, e.g.
# JQL on a property it does not index) is one of them: per-ticket refusals come back inside the bulk answer.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    JiraAuthError,
    JiraBadRequestError,
    JiraNotFoundError,
    ExportConfigurationError,
    NotFoundError,
)


class _Cancelled(Exception):
    pass


def start_export(services: Services, tenant_id: int, session_id: int, *, stale_after: timedelta = STALE_AFTER) -> int:
    """Create the export task (or take back one whose message was lost) and hand it to a worker.

    Raises:
        NotFoundError: no such session in this tenant.
        TaskAlreadyRunningError: an export of this session is already queued or running and made progress lately.
    """
    services.sessions.get(session_id, tenant_id=tenant_id)
    total = len(ExportRepository(services.db).tickets(tenant_id=tenant_id, session_id=session_id))
    task = services.tasks.create_or_claim_stale(
        tenant_id=tenant_id, session_id=session_id, kind="export", stale_before=utcnow() - stale_after, total=total
    )
    assert task.id is not None
    services.jobs.enqueue_export(task.id)
    return task.id


async def run_export(
    services: Services,
    task_id: int,
    *,
    http: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> None:
    """Run (or resume) an export task; a task that already ended is left alone, so redelivery is harmless.

    Raises:
        JiraAuthError, JiraNotFoundError, ExportConfigurationError, NotFoundError: permanent; the task is failed.
        JiraUnavailableError, JiraRateLimitedError: still failing after retries; the task stays resumable.
    """
    task = services.tasks.find(task_id)
    if task is None or task.state not in ACTIVE_TASK_STATES or task.session_id is None or task.tenant_id is None:
        return
    with exclusive(services.engine, f"dtg-export:{task.session_id}") as held:
        if not held:
            # A duplicate delivery (or a stale re-queue racing a live run): the holder owns the task and finishes
            # it; if the holder dies, its lock goes with it and starting the export again re-queues the task.
            log.info("export task %s is running in another worker; this delivery steps aside", task_id)
            return
        try:
            run = _Run.prepare(services, task, http or services.http, sleep, policy)
            await run.execute()
        except _Cancelled:
            services.tasks.finish(task_id, "Cancelled; export again to continue where it stopped.", state="cancelled")
        except PERMANENT_ERRORS as exc:
            services.tasks.finish(task_id, exc.message, state="failed")  # type: ignore[attr-defined]
            raise
        except JiraError as exc:
            current = services.tasks.find(task_id)
            detail = {**(current.detail if current else {}), "last_error": exc.message}
            services.tasks.progress(
                task_id, done=task.done, total=task.total, current="Waiting to retry", detail=detail
            )
            raise


@dataclass(frozen=True)
class TicketResult:
    key: str
    title: str
    jira_key: str | None
    url: str | None
    error: str | None
    error_who: str | None


@dataclass(frozen=True)
class ExportResults:
    tickets: list[TicketResult]
    summary: dict[str, Any]
    state: str | None
    message: str


def export_results(services: Services, tenant_id: int, session_id: int) -> ExportResults:
    """Per ticket its issue key and URL (the site's display URL + /browse/KEY) or why Jira refused it, and the
    summary of the latest export run."""
    installation = services.tenants.get(tenant_id, include_uninstalled=True)
    display_url = installation.display_url.rstrip("/") if installation else ""
    tickets = [
        TicketResult(
            t.key,
            t.title,
            t.jira_key,
            f"{display_url}/browse/{t.jira_key}" if t.jira_key else None,
            t.export_error,
            t.export_error_who,
        )
        for t in ExportRepository(services.db).tickets(tenant_id=tenant_id, session_id=session_id)
    ]
    task = services.tasks.latest(tenant_id=tenant_id, session_id=session_id, kind="export")
    summary = dict((task.detail or {}).get("summary") or {}) if task else {}
    return ExportResults(tickets, summary, task.state if task else None, task.message if task else "")


def export_csvs(services: Services, tenant_id: int, session_id: int) -> dict[str, bytes]:
    """The session's uploaded spec CSVs with the `ID` column filled with the Jira keys."""
    files = services.sessions.files(session_id, tenant_id=tenant_id)
    return spec_csvs_with_keys(files, ExportRepository(services.db).tickets(tenant_id=tenant_id, session_id=session_id))


@dataclass
class _Run:
    services: Services
    task: Task
    client: JiraClient
    project_key: str
    sleep: Sleep
    policy: RetryPolicy
    pacer: TenantPacer
    repo: ExportRepository
    default_labels: list[str]
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    issues: dict[str, tuple[str, str]] = field(default_factory=dict)  # ticket key -> (issue key, issue id)
    created_now: set[str] = field(default_factory=set)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def prepare(
        cls, services: Services, task: Task, http: httpx.AsyncClient, sleep: Sleep, policy: RetryPolicy
    ) -> _Run:
        assert task.tenant_id is not None and task.session_id is not None
        installation = services.tenants.get(task.tenant_id)
        if installation is None:
            raise ExportConfigurationError(
                "The app is no longer installed on this Jira site; a Jira admin must install it again."
            )
        upload = services.sessions.get(task.session_id, tenant_id=task.tenant_id)
        settings = services.settings
        pacer = TenantPacer(services.rate_limits, installation.client_key, settings.jira_requests_per_second)
        auth = system_auth(services.forge_installations, installation)
        client = JiraClient(http, installation, settings.app_key, pacer=pacer, auth=auth)
        labels = effective_default_labels(services, task.tenant_id)
        repo = ExportRepository(services.db)
        return cls(services, task, client, upload.project_key, sleep, policy, pacer, repo, labels)

    @property
    def scope(self) -> dict[str, int]:
        assert self.task.tenant_id is not None and self.task.session_id is not None
        return {"tenant_id": self.task.tenant_id, "session_id": self.task.session_id}

    async def retrying(self, call: Callable[..., Awaitable[Any]], *args: Any, safe: bool = True, **kwargs: Any) -> Any:
        """`call(*args, **kwargs)` under the retry policy; `safe=False` for calls that create something."""
        return await with_retries(
            functools.partial(call, *args, **kwargs),
            policy=self.policy,
            sleep=self.sleep,
            pacer=self.pacer,
            retry_unavailable=safe,
        )

    async def execute(self) -> None:
        records = self.repo.tickets(**self.scope)
        self.tickets = {t.key: t for t in records}
        self.issues = {t.key: (t.jira_key, t.jira_id or "") for t in records if t.jira_key}
        self.counts["existed"] = len(self.issues)
        plan = plan_export(records)
        self.report("Checking the Jira project")
        await self.retrying(self.client.project, self.project_key)
        link_types = await self.retrying(self.client.issue_link_types)
        blocks, relates = _link_type(link_types, "Blocks"), _link_type(link_types, "Relates")
        self.repo.clear_errors(**self.scope)
        await self.adopt_existing()

        pending = [key for key in plan.order if key not in self.issues]
        for start in range(0, len(pending), BULK_SIZE):
            self.stop_if_cancelled()
            await self.create_chunk(pending[start : start + BULK_SIZE])
            self.report("Creating issues")
        self.stop_if_cancelled()
        await AttachmentStep(self).execute()
        links = LinkStep(self, plan.links, {"blocks": blocks, "relates": relates})
        await links.execute()
        self.finish(plan, links)

    async def adopt_existing(self, keys: list[str] | None = None) -> None:
        """Record issues that already carry our property (from a run that crashed, or a lost answer)."""
        conditions: dict[str, Any] = {"sessionId": str(self.task.session_id)}
        if keys is not None:
            conditions["ticketKey"] = keys
        found = await self.retrying(self.client.search_by_property, PROPERTY_KEY, conditions)
        adopted: dict[str, tuple[str, str]] = {}
        for issue in found:  # oldest first: if Jira somehow holds two, the first one wins
            ticket_key = (issue.properties.get(PROPERTY_KEY) or {}).get("ticketKey")
            if ticket_key in self.tickets and ticket_key not in self.issues and ticket_key not in adopted:
                adopted[ticket_key] = (issue.key, issue.id)
        self.repo.record_issues(**self.scope, issues=adopted)
        self.issues.update(adopted)
        self.counts["existed"] += len(adopted)

    async def adopt_made(self, keys: list[str]) -> None:
        """After a create whose outcome is unknown: adopt what it made, searching again while the search index
        may still trail it, so an issue created a moment ago is not taken for one never created."""
        await self.adopt_existing(keys)
        for wait in self.policy.index_lag_waits:
            missing = [key for key in keys if key not in self.issues]
            if not missing:
                return
            await self.sleep(wait)
            await self.adopt_existing(missing)

    async def create_chunk(self, keys: list[str]) -> None:
        unknown_outcomes = 0
        while keys:
            updates = [self.issue_update(self.tickets[key]) for key in keys]
            try:
                result = await self.retrying(self.client.bulk_create, updates, safe=False)
            except JiraUnavailableError:
                # The issues may exist even though the answer was lost: look before creating them again, and
                # also before giving up, so the retried message does not meet a search index that trails them.
                unknown_outcomes += 1
                if unknown_outcomes < self.policy.attempts:
                    await self.sleep(self.policy.backoff(unknown_outcomes))
                await self.adopt_made(keys)
                keys = [key for key in keys if key not in self.issues]
                if keys and unknown_outcomes >= self.policy.attempts:
                    raise
                continue
            created = {keys[index]: (i.key, i.id) for index, i in result.created_by_index(len(keys)).items()}
            refused = {
                keys[e.index]: (describe(e.messages, e.field_errors), _who_can_fix(e.field_errors))
                for e in result.errors
                if 0 <= e.index < len(keys)
            }
            self.repo.record_issues(**self.scope, issues=created)
            self.repo.record_errors(**self.scope, errors=refused)
            self.issues.update(created)
            self.created_now.update(created)
            self.errors.update(refused)
            return

    def issue_update(self, ticket: TicketRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": self.project_key},
            "issuetype": {"name": "Task"},
            "summary": ticket.title,
            # The admin's default labels ride along on every issue (sorted, so a re-run sends the same payload).
            "labels": sorted({*ticket.labels, *self.default_labels}),
        }
        if ticket.assignee_account_id:
            fields["assignee"] = {"accountId": ticket.assignee_account_id}
        if ticket.description:
            fields["description"] = ticket.description
        value = {"ticketKey": ticket.key, "sessionId": str(ticket.session_id), "exportId": str(self.task.id)}
        return {"fields": fields, "properties": [{"key": PROPERTY_KEY, "value": value}]}

    def stop_if_cancelled(self) -> None:
        assert self.task.id is not None
        if self.services.tasks.cancel_requested(self.task.id):
            self.report("Cancelled")
            raise _Cancelled

    def report(self, step: str, **extra: Any) -> None:
        assert self.task.id is not None
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
        self.services.tasks.progress(self.task.id, done=done, total=total, current=step, detail=detail)

    def finish(self, plan: Any, links: LinkStep) -> None:
        assert self.task.id is not None
        summary = {
            "created": len(self.created_now),
            "already_existed": self.counts["existed"],
            "failed": len(self.errors),
            "links": links.created,
            "links_total": links.total,
            "links_failed": len(links.failures),
            "attachments": self.counts.get("attachments", 0),
            "duration_seconds": round(time.monotonic() - self.started, 3),
            "requests": self.client.requests,
            "rate_limited": self.client.rate_limited,
            "broken_cycle_edges": [list(edge) for edge in plan.broken_cycle_edges],
            "dangling_references": [list(pair) for pair in plan.dangling],
        }
        self.report("Done", links_done=links.done, links_total=links.total, summary=summary)
        failed = len(self.errors) + len(links.failures)
        message = f"{len(self.issues)} of {len(self.tickets)} tickets are in Jira" + (
            f"; {failed} need attention." if failed else "."
        )
        self.services.tasks.finish(self.task.id, message)


def _link_type(types: list[LinkType], name: str) -> LinkType:
    found = next((t for t in types if t.name.lower() == name.lower()), None)
    if found is None:
        raise ExportConfigurationError(
            f"Jira has no issue link type named '{name}'. A Jira admin can add it under Settings > Issues > "
            "Issue linking, then export again."
        )
    return found


def _who_can_fix(field_errors: dict[str, str]) -> str:
    if field_errors and set(field_errors) <= TICKET_FIELDS:
        return WhoCanFix.SPEC_AUTHOR.value
    return WhoCanFix.JIRA_ADMIN.value
