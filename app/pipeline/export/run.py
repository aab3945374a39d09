"""Starting an export and running it: the steps in order, and how a run ends (done, cancelled, failed, retried)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from app.db.locks import exclusive
from app.db.models import ACTIVE_TASK_STATES, Task, utcnow
from app.errors import AppError, NotFoundError
from app.forge.jira_auth import system_auth
from app.forge.lifecycle import uninstalled_if_gone
from app.jira.auth import ForgeTokenExpiredError
from app.jira.client import JiraClient
from app.jira.errors import JiraAuthError, JiraBadRequestError, JiraError, JiraNotFoundError
from app.jira.models import CreateMetaField, CreateMetaIssueType, LinkType
from app.jira.pacing import TenantPacer
from app.offload import offload
from app.pipeline.configuration import effective_default_labels
from app.pipeline.export.attachments import AttachmentStep
from app.pipeline.export.context import Cancelled, ExportConfigurationError, ExportContext, export_total
from app.pipeline.export.epics import EpicStep
from app.pipeline.export.issues import IssueStep
from app.pipeline.export.links import LinkStep
from app.pipeline.export.plan import ExportPlan, plan_export
from app.pipeline.export.revise import RevisionStep
from app.pipeline.issue_requests import CreateTarget
from app.pipeline.jobs import STALE_AFTER
from app.pipeline.ports import ExportPorts, ResumePorts
from app.pipeline.project_fit import check_project_fit
from app.retries import Retrier, RetryLater, RetryPolicy, Sleep

log = logging.getLogger(__name__)

DEFAULT_POLICY = RetryPolicy()

# Retrying cannot help these; the task fails at once with Jira's message, and actors list them in `throws=`. A
# whole request Jira refuses (400, e.g. JQL on a property it does not index) is one of them: per-ticket refusals
# come back inside the bulk answer.
PERMANENT_ERRORS: tuple[type[AppError], ...] = (
    JiraAuthError,
    JiraBadRequestError,
    JiraNotFoundError,
    ExportConfigurationError,
    NotFoundError,
)


# A Forge site's stored system token ran out: Forge's hourly trigger brings the next, valid for at least two more
# hours. The run waits for it (re-queued every TOKEN_RETRY_SECONDS: three retries outlast the window) unless the
# newest token expired longer than TOKEN_WAIT_SECONDS ago, when the triggers have stopped (the app was uninstalled).
TOKEN_WAIT_SECONDS = 65 * 60
TOKEN_RETRY_SECONDS = 25 * 60
WAITING_FOR_TOKEN = "Waiting for Jira's next Forge token (it comes every hour)"
SITE_GONE = (
    "Jira no longer lets the app in on this site and Forge stopped calling it: the app was uninstalled. Its data "
    "is kept for 30 days; install the app again to export."
)
_NO_NEW_TOKEN = "No new Forge token arrived within the hour, so the export stopped. "


def resume_exports_waiting_for_token(services: ResumePorts, tenant_id: int) -> int:
    """A fresh Forge token was stored: the site's exports waiting for one go again now, not at their re-queue.

    The delayed message still arrives later and finds its task ended (or running elsewhere): the run steps aside.
    Returns how many were sent.
    """
    waiting = services.tasks.active_at_step(tenant_id=tenant_id, kind="export", current=WAITING_FOR_TOKEN)
    for task in waiting:
        assert task.id is not None
        services.jobs.enqueue_export(task.id)
    return len(waiting)


def _may_wait_for_token(exc: ForgeTokenExpiredError, now: float) -> bool:
    return exc.expires_at is not None and now - exc.expires_at < TOKEN_WAIT_SECONDS


def start_export(
    services: ExportPorts, tenant_id: int, session_id: int, *, stale_after: timedelta = STALE_AFTER
) -> int:
    """Create the export task (or take back one whose message was lost) and hand it to a worker.

    Raises:
        NotFoundError: no such session in this tenant.
        TaskAlreadyRunningError: an export of this session is already queued or running and made progress lately.
    """
    services.sessions.get(session_id, tenant_id=tenant_id)
    records = services.exports.tickets(tenant_id=tenant_id, session_id=session_id)
    total = export_total(records, len(plan_export(records).links))
    task = services.tasks.create_or_claim_stale(
        tenant_id=tenant_id, session_id=session_id, kind="export", stale_before=utcnow() - stale_after, total=total
    )
    assert task.id is not None
    services.jobs.enqueue_export(task.id)
    return task.id


async def run_export(
    services: ExportPorts,
    task_id: int,
    *,
    http: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
    policy: RetryPolicy = DEFAULT_POLICY,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run (or resume) an export task; a task that already ended is left alone, so redelivery is harmless.

    Raises:
        JiraAuthError, JiraNotFoundError, ExportConfigurationError, NotFoundError: permanent; the task is failed.
        JiraUnavailableError, JiraRateLimitedError, RetryLater: still failing after retries; the task stays
            resumable. RetryLater also when a Forge site's token ran out within the hour: the run waits for the
            next one.
    """
    task = await offload(services.tasks.find, task_id)
    if task is None or task.state not in ACTIVE_TASK_STATES or task.session_id is None or task.tenant_id is None:
        return
    # The lock's connection is taken and given back in threads too: nothing of the run waits on the event loop.
    lock = contextlib.ExitStack()
    try:
        held = await offload(lock.enter_context, exclusive(services.engine, f"dtg-export:{task.session_id}"))
        if not held:
            # A duplicate delivery (or a stale re-queue racing a live run): the holder owns the task and finishes
            # it; if the holder dies, its lock goes with it and starting the export again re-queues the task.
            log.info("export task %s is running in another worker; this delivery steps aside", task_id)
            return
        await _run_holding_the_lock(services, task, http, sleep, policy, clock)
    finally:
        await offload(lock.close)


async def _run_holding_the_lock(
    services: ExportPorts,
    task: Task,
    http: httpx.AsyncClient | None,
    sleep: Sleep,
    policy: RetryPolicy,
    clock: Callable[[], float],
) -> None:
    task_id = task.id
    assert task_id is not None and task.tenant_id is not None
    try:
        context = await offload(_prepare, services, task, http or services.http, sleep, policy)
        await _execute(context)
    except Cancelled:
        await offload(
            services.tasks.finish, task_id, "Cancelled; export again to continue where it stopped.", state="cancelled"
        )
    except ForgeTokenExpiredError as exc:
        if not _may_wait_for_token(exc, clock()):
            await offload(services.tasks.finish, task_id, _NO_NEW_TOKEN + exc.message, state="failed")
            raise
        # Forge's hourly trigger brings a token valid for two more hours: the run resumes after it.
        current = await offload(services.tasks.find, task_id)
        await offload(
            services.tasks.progress,
            task_id,
            done=current.done if current else task.done,
            total=current.total if current else task.total,
            current=WAITING_FOR_TOKEN,
            detail={**(current.detail if current else {}), "last_error": exc.message},
        )
        raise RetryLater(TOKEN_RETRY_SECONDS) from exc
    except PERMANENT_ERRORS as exc:
        message = exc.message
        status = exc.status if isinstance(exc, JiraError) else None
        gone = await offload(
            uninstalled_if_gone, services.forge_installations, task.tenant_id, jira_status=status, now=clock()
        )
        await offload(services.tasks.finish, task_id, SITE_GONE if gone else message, state="failed")
        raise
    except (JiraError, RetryLater) as exc:
        current = await offload(services.tasks.find, task_id)
        detail = {**(current.detail if current else {}), "last_error": str(exc)}
        await offload(
            services.tasks.progress,
            task_id,
            done=task.done,
            total=task.total,
            current="Waiting to retry",
            detail=detail,
        )
        raise


def _prepare(
    services: ExportPorts, task: Task, http: httpx.AsyncClient, sleep: Sleep, policy: RetryPolicy
) -> ExportContext:
    assert task.tenant_id is not None and task.session_id is not None
    installation = services.tenants.get(task.tenant_id)
    if installation is None:
        raise ExportConfigurationError(
            "The app is no longer installed on this Jira site; a Jira admin must install it again."
        )
    upload = services.sessions.get(task.session_id, tenant_id=task.tenant_id)
    settings = services.settings
    pacer = TenantPacer(services.rate_limits, installation.client_key, settings.jira_requests_per_second)
    return ExportContext(
        services=services,
        task=task,
        client=JiraClient(
            http,
            installation,
            settings.app_key,
            pacer=pacer,
            auth=system_auth(services.forge_installations, installation),
        ),
        retrier=Retrier(policy, sleep=sleep, on_rate_limited=pacer.hold),
        repo=services.exports,
        project_key=upload.project_key,
        default_labels=effective_default_labels(services, task.tenant_id),
    )


async def _execute(context: ExportContext) -> None:
    upload = await context.db(
        context.services.sessions.get, context.scope["session_id"], tenant_id=context.scope["tenant_id"]
    )
    records = await context.db(context.repo.tickets, **context.scope)
    context.tickets = {t.key: t for t in records}
    context.issues = {t.key: (t.jira_key, t.jira_id or "") for t in records if t.jira_key}
    context.counts["existed"] = len(context.issues)
    plan = plan_export(records)
    context.links_total = len(plan.links)
    await context.report("Checking the Jira project")
    await context.read(context.client.project, context.project_key)
    settings = await context.db(context.services.export_settings.get, context.scope["tenant_id"])
    fit = await check_project_fit(_RetriedReads(context), context.project_key, settings)
    first_blocking = next((check for check in fit.checks if check.blocking), None)
    if first_blocking is not None:
        raise ExportConfigurationError(f"{first_blocking.message} {first_blocking.todo}")
    assert fit.ticket_type is not None  # a missing issue type is a blocking check
    context.target = CreateTarget(context.project_key, fit, context.default_labels, settings.ticket_issue_type)
    blocks, relates = fit.link_types["blocks"], fit.link_types["relates"]
    # Creates may carry `update.issuelinks` when the create screen has the Linked issues field.
    links_on_create = any(f.field_id == "issuelinks" for f in fit.screens[fit.ticket_type.id])
    await context.db(context.repo.clear_errors, **context.scope)
    issues = IssueStep(context, plan.links, blocks if links_on_create else None)
    revision = RevisionStep(context, upload.revision) if upload.revision is not None else None
    if revision is not None:  # the lineage's issues first: written back, updated, flagged
        await revision.prepare()
        context.retired, context.held = revision.retired_attachments(), revision.held()
        await revision.apply()
    await issues.adopt_existing()
    await EpicStep(context).execute(plan.order)
    await context.stop_if_cancelled()
    await issues.execute(plan.order)
    await context.stop_if_cancelled()
    await AttachmentStep(context).execute()
    types = {"blocks": blocks, "relates": relates}
    if revision is not None:
        await revision.match_links(plan.links, types)
    links = LinkStep(context, plan.links, types)
    await links.execute()
    await _finish(context, plan, links, revision)


class _RetriedReads:
    """The project check's calls, each under the retry policy (a 429 on one call retries that call alone)."""

    def __init__(self, context: ExportContext) -> None:
        self._context = context

    async def create_meta_issue_types(self, project_key: str) -> list[CreateMetaIssueType]:
        return await self._context.read(self._context.client.create_meta_issue_types, project_key)

    async def create_meta_fields(self, project_key: str, issue_type_id: str) -> list[CreateMetaField]:
        return await self._context.read(self._context.client.create_meta_fields, project_key, issue_type_id)

    async def issue_link_types(self) -> list[LinkType]:
        return await self._context.read(self._context.client.issue_link_types)


async def _finish(context: ExportContext, plan: ExportPlan, links: LinkStep, revision: RevisionStep | None) -> None:
    summary: dict[str, Any] = {
        "created": len(context.created_now),
        "already_existed": context.counts["existed"],
        "epics": len(context.epics),
        "failed": len(context.errors),
        "links": links.created + context.counts.get("links_in_create", 0),
        "links_in_create": context.counts.get("links_in_create", 0),
        "links_total": links.total,
        "links_failed": len(links.failures),
        "attachments": context.counts.get("attachments", 0),
        "attachments_replaced": context.counts.get("attachments_replaced", 0),
        "attachments_removed": context.counts.get("attachments_removed", 0),
        "duration_seconds": round(time.monotonic() - context.started, 3),
        "requests": context.client.requests,
        "rate_limited": context.client.rate_limited,
        "broken_cycle_edges": [list(edge) for edge in plan.broken_cycle_edges],
        "dangling_references": [list(pair) for pair in plan.dangling],
    }
    if revision is not None:
        summary["revision"] = revision.summary()
    await context.report("Done", summary=summary)
    failed = len(context.errors) + len(links.failures)
    message = f"{len(context.issues)} of {len(context.tickets)} tickets are in Jira" + (
        f"; {failed} need attention." if failed else "."
    )
    await context.db(context.services.tasks.finish, context.task_id, message)
