"""Generation runs: draft every ticket of a session, then have the writer fill in each ticket's prose.

A run is resumable and idempotent, because Dramatiq may deliver its message twice or to a second worker after a
crash: drafts are stored first (with the offline prose as a placeholder), and a ticket whose stored draft is
unchanged and whose prose is already written is never written again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from app.db.models import Task, TicketRecord, UploadSession, utcnow
from app.db.sessions import SessionContents
from app.egress import EgressRefusedError
from app.errors import AppError
from app.generation import GenerationBlockedError, draft_tickets, finish_from_result, finish_ticket
from app.generation.behat import spec_feature
from app.generation.briefs import brief_for
from app.generation.tickets import Ticket, TicketDraft
from app.llm import LLMConfig, ProseWriter, WriteResult, build_writer, compose, estimate_cost, write_all
from app.llm.base import LLMConfigError
from app.llm.providers import DEFAULT_PROVIDER
from app.llm.runner import CostEstimate
from app.offload import offload
from app.pipeline.activity import record_step
from app.pipeline.configuration import effective_existing_site, effective_status_mapping, guarded_http_client
from app.pipeline.intake import validate_session
from app.pipeline.jobs import STALE_AFTER
from app.pipeline.ports import (
    Actor,
    GenerationPorts,
    GenerationStartPorts,
    IntakePorts,
    ProviderPorts,
    Scope,
    SessionPorts,
    TaskLookupPorts,
)
from app.pipeline.providers import choose

log = logging.getLogger(__name__)

KIND = "generate"


class NothingToDraftError(AppError):
    """The spec gives no ticket (no records, nothing approved, every row filtered): a run would draft nothing."""


def _drafts(ports: GenerationPorts, *, tenant_id: int, session_id: int) -> tuple[TicketDraft, ...]:
    """Raises: GenerationBlockedError when the stored files still have blocking findings; NothingToDraftError when
    they give no ticket, so a run never starts only to draft nothing."""
    intake = validate_session(ports, tenant_id=tenant_id, session_id=session_id)
    drafts = draft_tickets(intake, existing_site=effective_existing_site(ports.tenant_settings, tenant_id)).drafts
    if not drafts:
        raise NothingToDraftError(intake.why_no_tickets())
    return drafts


def acceptance_feature(ports: IntakePorts, *, tenant_id: int, session_id: int) -> str:
    """The whole spec's Drupal Spec Tool Behat check as one .feature text (blocking findings raise, as drafting)."""
    intake = validate_session(ports, tenant_id=tenant_id, session_id=session_id)
    if intake.blocking:
        raise GenerationBlockedError("The spec has blocking findings; fix them before downloading its Behat tests.")
    site = ports.sessions.get(session_id, tenant_id=tenant_id).site_name
    return spec_feature(intake.model, title=" ".join(filter(None, (site, "Drupal Spec Tool acceptance tests"))))


def estimate(ports: GenerationPorts, config: LLMConfig, *, tenant_id: int, session_id: int) -> CostEstimate:
    upload = ports.sessions.get(session_id, tenant_id=tenant_id)
    drafts = _drafts(ports, tenant_id=tenant_id, session_id=session_id)
    briefs = [brief_for(d, site_name=upload.site_name, site_description=upload.site_description) for d in drafts]
    return estimate_cost(briefs, config)


def start_generation(
    ports: GenerationPorts,
    *,
    tenant_id: int,
    session_id: int,
    provider: str = DEFAULT_PROVIDER,
    stale_after: timedelta = STALE_AFTER,
) -> int:
    """Check the spec can be drafted, then queue a run, or queue again a run that made no progress for
    `stale_after` (its message was lost); the run resumes where it stopped. Returns the task id.

    `provider` is the director's choice (`app.pipeline.providers`); the worker writes with it.

    Raises:
        GenerationBlockedError: blocking findings remain.
        NothingToDraftError: the spec gives no ticket; the message says why.
        TaskAlreadyRunningError: a run for this session is already queued or running and made progress lately.
    """
    drafts = _drafts(ports, tenant_id=tenant_id, session_id=session_id)
    task = ports.tasks.create_or_claim_stale(
        tenant_id=tenant_id,
        session_id=session_id,
        kind=KIND,
        stale_before=utcnow() - stale_after,
        total=len(drafts),
        detail={
            "provider": provider,
            "files": ports.sessions.files_fingerprint(session_id, tenant_id=tenant_id),
            "settings": drafting_settings(ports, tenant_id),
        },
    )
    assert task.id is not None
    ports.sessions.set_stage(session_id, tenant_id=tenant_id, stage="generate")
    ports.jobs.enqueue_generation(task.id)
    return task.id


def generate_tickets(ports: GenerationStartPorts, scope: Scope, actor: Actor, provider: str | None = None) -> int:
    """The director's "Generate": the chosen provider (None: the tenant's default) must be set up, the spec must
    draft; then a run is queued and the step audited as "generated". Returns the task id.

    Raises: what `choose` and `start_generation` raise.
    """
    choice = choose(ports, scope.tenant_id, provider)
    task_id = start_generation(ports, tenant_id=scope.tenant_id, session_id=scope.session_id, provider=choice.name)
    record_step(ports, scope, actor, "generated", task=task_id, provider=choice.name)
    return task_id


# The tenant's settings that change what generation writes, by the name a run records them under, and as a
# reason names them. The status mapping turns the X column into actions (which rows become tickets, and how);
# the existing-site setting decides what rows marked d remove. Labels, issue types and field defaults are applied
# by the export itself, and the provider only rewrites prose: they leave drafts as they are.
_DRAFTING_SETTINGS = {"status_mapping": "the status mapping", "existing_site": "the existing-site setting"}
FILES_CHANGED = "the spec files"  # the reason when a file was added, replaced, removed or retyped


def drafting_settings(ports: IntakePorts, tenant_id: int) -> dict[str, str]:
    """The tenant's settings a run drafts with, as a generation task records them (`detail["settings"]`)."""
    mapping = effective_status_mapping(ports.tenant_settings, tenant_id)
    return {
        "status_mapping": ",".join(sorted(f"{code}={action}" for code, action in mapping.actions.items())),
        "existing_site": str(effective_existing_site(ports.tenant_settings, tenant_id)).lower(),
    }


def drafts_out_of_date(ports: IntakePorts, generation: Task | None, tickets: Sequence[TicketRecord]) -> list[str]:
    """What changed since `generation`, the session's latest run, drafted `tickets` (its tickets), as reasons:
    FILES_CHANGED when a file was added, replaced, removed or retyped; and while a draft is still to export,
    each setting of `_DRAFTING_SETTINGS` the tenant's admin changed since (an exported issue is not redrafted by
    a setting). [] when the drafts are current. A run that recorded nothing of them is taken as current."""
    if not tickets or generation is None or generation.session_id is None or generation.tenant_id is None:
        return []
    detail = generation.detail or {}
    reasons = [FILES_CHANGED] if files_changed(ports, generation) else []
    recorded = detail.get("settings") or {}
    if recorded and any(t.jira_key is None and not t.excluded for t in tickets):
        now = drafting_settings(ports, generation.tenant_id)
        reasons += [why for name, why in _DRAFTING_SETTINGS.items() if name in recorded and recorded[name] != now[name]]
    return reasons


def files_changed(ports: SessionPorts, generation: Task | None) -> bool:
    """A file was added, replaced, removed or retyped since `generation` drafted (False if it recorded nothing)."""
    if generation is None or generation.session_id is None or generation.tenant_id is None:
        return False
    drafted_from = (generation.detail or {}).get("files")
    if not drafted_from:  # nothing to compare with: no need to read and hash the files
        return False
    return bool(drafted_from != ports.sessions.files_fingerprint(generation.session_id, tenant_id=generation.tenant_id))


def changed_since_export(ports: TaskLookupPorts, found: Sequence[tuple[UploadSession, SessionContents]]) -> set[int]:
    """The listed sessions with issues in Jira whose files changed since their drafts: "Exported" alone would
    mislead, as their banners offer a revision. Two small reads per such session, none for the others."""
    changed = set()
    for upload, held in found:
        if held.exported and upload.id is not None:
            latest = ports.tasks.latest(tenant_id=upload.tenant_id, session_id=upload.id, kind=KIND)
            if files_changed(ports, latest):
                changed.add(upload.id)
    return changed


def changed_text(reasons: Sequence[str]) -> str:
    """["the spec files", "the status mapping"] -> "the spec files and the status mapping"."""
    return " and ".join(filter(None, (", ".join(reasons[:-1]), reasons[-1]))) if reasons else ""


def _record(ticket: Ticket, draft: TicketDraft, position: int, *, prose_written: bool) -> dict[str, Any]:
    return {
        **ticket.to_dict(),
        "position": position,
        "draft": draft.to_dict(),
        "prose_written": prose_written,
    }


async def run_generation(ports: GenerationPorts, task_id: int, *, writer: ProseWriter, concurrency: int = 8) -> None:
    """Run (or resume) generation task `task_id`; a task that already ended is left alone."""
    task = await offload(ports.tasks.get_active, task_id)
    if task is None:
        return
    assert task.tenant_id is not None and task.session_id is not None
    tenant_id, session_id = task.tenant_id, task.session_id
    try:
        upload = await offload(ports.sessions.get, session_id, tenant_id=tenant_id)
        drafts = await offload(_drafts, ports, tenant_id=tenant_id, session_id=session_id)
    except GenerationBlockedError as exc:
        await offload(ports.tasks.finish, task_id, exc.message, state="failed")
        return

    stored = {t.key: t for t in await offload(ports.tickets.list, tenant_id=tenant_id, session_id=session_id)}
    position = {draft.key: index for index, draft in enumerate(drafts)}
    # Done: the same draft with its prose written, or edited by the director (version > 1): review edits win over
    # a later model answer as long as the spec behind the ticket did not change.
    done = {
        d.key
        for d in drafts
        if d.key in stored
        and stored[d.key].draft == d.to_dict()
        and (stored[d.key].prose_written or stored[d.key].version > 1)
    }
    pending = [d for d in drafts if d.key not in done]
    briefs = [brief_for(d, site_name=upload.site_name, site_description=upload.site_description) for d in pending]
    # Placeholders first: every ticket is reviewable at once, with the offline text until the model's arrives.
    placeholders = [
        _record(finish_ticket(draft, compose(brief)), draft, position[draft.key], prose_written=False)
        for draft, brief in zip(pending, briefs, strict=True)
    ]
    await offload(ports.tickets.save_drafts, tenant_id=tenant_id, session_id=session_id, drafts=placeholders)
    await offload(ports.tickets.delete_except, tenant_id=tenant_id, session_id=session_id, keys={d.key for d in drafts})

    saved = await offload(ports.tickets.list, tenant_id=tenant_id, session_id=session_id)
    placeholder_version = {t.key: t.version for t in saved}
    by_key = {d.key: d for d in pending}
    totals = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "flagged": 0}
    written = len(done)

    async def landed(result: WriteResult) -> None:
        nonlocal written
        draft = by_key[result.key]
        ticket = finish_from_result(draft, result)
        record = _record(ticket, draft, position[draft.key], prose_written=True)
        # Compare-and-set on the placeholder's version: a ticket the director edited meanwhile keeps the edit, and
        # the version bump tells a tab still showing the placeholder that the text changed under it.
        await offload(
            ports.tickets.save_generated,
            tenant_id=tenant_id,
            session_id=session_id,
            record=record,
            expected_version=placeholder_version[draft.key],
        )
        written += 1
        totals["input_tokens"] += result.usage.input_tokens
        totals["output_tokens"] += result.usage.output_tokens
        totals["cost_usd"] = round(totals["cost_usd"] + result.usage.cost_usd, 6)
        totals["flagged"] += result.flagged is not None
        await offload(
            ports.tasks.progress, task_id, done=written, total=len(drafts), current=draft.title, detail=dict(totals)
        )

    await offload(ports.tasks.progress, task_id, done=written, total=len(drafts), detail=dict(totals))
    report = await write_all(
        briefs,
        writer,
        concurrency=concurrency,
        on_result=landed,
        is_cancelled=lambda: ports.tasks.cancel_requested(task_id),
    )
    if report.cancelled:
        message = f"Cancelled: {written} of {len(drafts)} tickets have their text; the others keep the offline text."
        await offload(ports.tasks.finish, task_id, message, state="cancelled")
    else:
        await offload(ports.tasks.finish, task_id, f"{len(drafts)} tickets drafted.")
    await offload(ports.sessions.set_stage, session_id, tenant_id=tenant_id, stage="review")
    log.info("generation task %s ended: %s of %s tickets written", task_id, written, len(drafts))


def writer_for_task(ports: ProviderPorts, task_id: int) -> ProseWriter | None:
    """The writer of the provider chosen when the run started, or None (task failed) if it is gone since."""
    task = ports.tasks.get_active(task_id)
    if task is None or task.tenant_id is None:
        return None
    try:
        choice = choose(ports, task.tenant_id, task.detail.get("provider"))
        guarded = guarded_http_client(ports.settings, choice.config)
    except (LLMConfigError, EgressRefusedError) as exc:
        ports.tasks.finish(task_id, f"{exc.message} Start the run again with another provider.", state="failed")
        return None
    # The writer's provider closes the guarded client with itself (the actor calls `writer.aclose()`).
    return build_writer(choice.config, guarded, close_client=True)
