"""Ticket generation: an intake result -> drafts (pure, synchronous) -> tickets (drafts + the writer's prose)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.errors import AppError, WhoCanFix
from app.generation.briefs import brief_for
from app.generation.citations import rows_by_position, with_row
from app.generation.criteria import unique_suggestions
from app.generation.defects import contradictions, setting_contradictions, storage_conflicts, widget_mismatches
from app.generation.dependencies import TicketCycle, link
from app.generation.grouping import group_units
from app.generation.oversize import describe
from app.generation.tickets import Ticket, TicketDraft
from app.intake import Action, Code, Finding, IntakeResult, Severity
from app.llm import LLMConfig, ProseWriter, TicketProse, Usage, WriteResult, build_writer, write_all

OnTicket = Callable[[Ticket], Awaitable[None] | None]


class GenerationBlockedError(AppError):
    """The intake has blocking findings, so there is no complete spec to draft tickets from."""


@dataclass(frozen=True)
class DraftSet:
    """Every ticket's draft, the findings (intake and generation) and the dependency cycles that were broken."""

    drafts: tuple[TicketDraft, ...]
    findings: tuple[Finding, ...]
    cycles: tuple[TicketCycle, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drafts": [d.to_dict() for d in self.drafts],
            "findings": [f.to_dict() for f in self.findings],
            "cycles": [c.to_dict() for c in self.cycles],
        }


@dataclass(frozen=True)
class GenerationResult:
    """The finished tickets in draft order, all findings, the run's usage and the broken cycles."""

    tickets: tuple[Ticket, ...]
    findings: tuple[Finding, ...]
    usage: dict[str, Any]
    cycles: tuple[TicketCycle, ...]
    not_written: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "tickets": [t.to_dict() for t in self.tickets],
            "findings": [f.to_dict() for f in self.findings],
            "usage": self.usage,
            "cycles": [c.to_dict() for c in self.cycles],
            "not_written": list(self.not_written),
        }


def draft_tickets(intake: IntakeResult, *, existing_site: bool = False) -> DraftSet:
    """Group the spec into tickets, attach their findings and link them. Pure and deterministic.

    `existing_site` (the Jira admin's setting): the spec describes a site that exists today, so rows marked d are
    removal work even inside a bundle or view still to be built; otherwise those become "do not build" lines.

    Raises GenerationBlockedError when the intake has blocking findings.
    """
    if intake.blocking:
        blocking = [f"{f.file or 'upload'}: {f.message}" for f in intake.findings if f.severity is Severity.BLOCKING]
        raise GenerationBlockedError(
            "The spec cannot be turned into tickets until these are fixed: " + " | ".join(blocking)
        )
    units = group_units(intake.model, existing_site=existing_site)
    links = link(units, intake.graph)
    suggested = unique_suggestions(intake.findings)
    plain = {unit.key: unit.draft(intake.model, suggested) for unit in units}
    # Without their counts ("(40 fields)"): a cycle finding names the other tickets, and a field added to one must
    # not change the description of every ticket in its cycle.
    titles = {unit.key: _uncounted(plain[unit.key].title, unit.counts) for unit in units}
    cycle_findings = [_cycle_finding(cycle, titles) for cycle in links.cycles]
    in_cycles = {key for cycle in links.cycles for key in cycle.tickets}
    owner = {(item.source.file, item.source.record): unit.key for unit in units for item in unit.items}
    per_ticket: dict[str, list[dict[str, Any]]] = {}
    for finding in intake.findings:
        # Intake's report of a bundle cycle says what the ticket cycle's report says, with less: one is enough.
        if finding.code == Code.REFERENCE_CYCLE and owner.get((finding.file, finding.record)) in in_cycles:
            continue
        if key := owner.get((finding.file, finding.record)):
            per_ticket.setdefault(key, []).append(finding.to_dict())
    for key, shared in storage_conflicts(intake.findings, intake.model, owner).items():
        per_ticket.setdefault(key, []).extend(f.to_dict() for f in shared)
    contradicted = [
        (unit.key, finding)
        for unit in units
        for finding in (*contradictions(unit), *setting_contradictions(unit), *widget_mismatches(unit))
    ]
    for key, finding in contradicted:
        per_ticket.setdefault(key, []).append(finding.to_dict())
    for cycle, finding in zip(links.cycles, cycle_findings, strict=True):
        for key in cycle.tickets:
            per_ticket.setdefault(key, []).append(finding.to_dict())
    removals = {unit.key for unit in units if unit.action is Action.REMOVE}
    rows = rows_by_position(intake.model)
    drafts = []
    for unit in units:
        # Removing what exists never waits for new work; only another removal can be in its way.
        blocked_by = tuple(k for k in links.blocked_by[unit.key] if unit.key not in removals or k in removals)
        drafts.append(
            replace(
                plain[unit.key],
                findings=tuple(with_row(finding, rows) for finding in per_ticket.get(unit.key, ())),
                blocked_by=blocked_by,
                relates_to=links.relates_to.get(unit.key, ()),
                blockers=tuple(plain[k].title for k in blocked_by),
            )
        )
    return DraftSet(tuple(drafts), (*intake.findings, *(f for _, f in contradicted), *cycle_findings), links.cycles)


def _uncounted(title: str, counts: str) -> str:
    """ "Content model: Build Academic Program content type (40 fields)" without its " (40 fields)"."""
    held = " (on hold)" if title.endswith(" (on hold)") else ""
    return title.removesuffix(held).removesuffix(f" ({counts})") + held if counts else title


def _cycle_finding(cycle: TicketCycle, titles: dict[str, str]) -> Finding:
    """The cycle's report, naming tickets by the titles people see (the keys are the app's own)."""
    first = cycle.sources[0] if cycle.sources else None
    named = [f"'{titles.get(key, key)}'" for key in cycle.tickets]
    demoted = "; ".join(f"'{titles.get(a, a)}' relates to '{titles.get(b, b)}'" for a, b in cycle.relates_to)
    return Finding(
        Code.REFERENCE_CYCLE,
        Severity.WARNING,
        WhoCanFix.SPEC_AUTHOR,
        f"{len(cycle.tickets)} tickets block each other in a cycle: {', '.join(named)}. To give the export "
        f"an order, these links are 'relates to' instead of 'is blocked by': {demoted}. Build the bundles first, "
        "then add the reference fields that close the cycle.",
        file=first.file if first else "",
        record=first.record if first else 0,
        line=first.line if first else 0,
        value=", ".join(cycle.tickets),
    )


def finish_ticket(
    draft: TicketDraft, prose: TicketProse, *, prose_flag: str | None = None, usage: dict[str, Any] | None = None
) -> Ticket:
    """A ticket from its draft and its prose; the description depends on nothing else."""
    description, attachments = describe(draft, prose)
    return Ticket(
        key=draft.key,
        title=draft.title,
        area=draft.area,
        action=draft.action,
        labels=draft.labels,
        description=description,
        blocked_by=draft.blocked_by,
        relates_to=draft.relates_to,
        source=draft.source,
        findings=draft.findings,
        attachments=attachments,
        on_hold=draft.on_hold,
        prose_flag=prose_flag,
        usage=usage or {},
    )


def _usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(usage.cost_usd, 6),
    }


def finish_from_result(draft: TicketDraft, result: WriteResult) -> Ticket:
    """A ticket from its draft and the writer's result, with the call's usage recorded on it."""
    usage = {**_usage(result.usage), "provider": result.provider, "model": result.model, "attempts": result.attempts}
    return finish_ticket(draft, result.prose, prose_flag=result.flagged, usage=usage)


async def generate_tickets(
    intake: IntakeResult,
    *,
    writer: ProseWriter | None = None,
    site_name: str = "",
    site_description: str = "",
    concurrency: int = 8,
    on_ticket: OnTicket | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    existing_site: bool = False,
) -> GenerationResult:
    """Draft every ticket, have `writer` (offline by default) write its prose, and finish it.

    `on_ticket` sees each ticket as soon as it is finished (it may be a coroutine function); `is_cancelled` stops
    new tickets from starting, and the keys left unwritten are listed in `GenerationResult.not_written`.
    """
    drafts = draft_tickets(intake, existing_site=existing_site)
    writer = writer or build_writer(LLMConfig())
    by_key = {draft.key: draft for draft in drafts.drafts}
    finished: dict[str, Ticket] = {}

    async def landed(result: WriteResult) -> None:
        finished[result.key] = ticket = finish_from_result(by_key[result.key], result)
        if on_ticket is not None and inspect.isawaitable(outcome := on_ticket(ticket)):
            await outcome

    briefs = [brief_for(d, site_name=site_name, site_description=site_description) for d in drafts.drafts]
    report = await write_all(briefs, writer, concurrency=concurrency, on_result=landed, is_cancelled=is_cancelled)
    usage = {
        **_usage(report.usage),
        "tickets": len(report.results),
        "flagged": report.flagged,
        "models": sorted({f"{r.provider}/{r.model}" for r in report.results}),
        "pricing_note": report.pricing_note,
    }
    return GenerationResult(
        tuple(finished[d.key] for d in drafts.drafts if d.key in finished),
        drafts.findings,
        usage,
        drafts.cycles,
        report.not_written,
    )
