"""The issue glance: what the app knows about a Jira issue its export created, read within one tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db.models import TicketRecord
from app.pipeline.ports import GlancePorts


@dataclass(frozen=True)
class LinkedTicket:
    """Another ticket of the same session; `url` is None while it has no Jira issue yet."""

    title: str
    jira_key: str | None
    url: str | None


@dataclass(frozen=True)
class SourceRows:
    file: str
    records: str  # compact, e.g. "3–7, 12"


@dataclass(frozen=True)
class GlanceFinding:
    message: str
    severity: str
    suggestion: str


@dataclass(frozen=True)
class IssueGlance:
    title: str
    sources: list[SourceRows]
    blocked_by: list[LinkedTicket]
    blocks: list[LinkedTicket]
    findings: list[GlanceFinding]
    session_id: int
    project_key: str
    generated_at: datetime
    generated_by: str | None


def issue_glance(ports: GlancePorts, *, tenant_id: int, jira_key: str, site_url: str) -> IssueGlance | None:
    """The glance of issue `jira_key`, or None when none of this tenant's tickets became that issue."""
    ticket = ports.tickets.find_exported(tenant_id=tenant_id, jira_key=jira_key)
    if ticket is None:
        return None
    session = ports.sessions.get(ticket.session_id, tenant_id=tenant_id)
    siblings = {t.key: t for t in ports.tickets.list(tenant_id=tenant_id, session_id=ticket.session_id)}

    def linked(records: Iterable[TicketRecord]) -> list[LinkedTicket]:
        browse = site_url.rstrip("/") + "/browse/"
        return [LinkedTicket(t.title, t.jira_key, browse + t.jira_key if t.jira_key else None) for t in records]

    return IssueGlance(
        title=ticket.title,
        sources=_sources(ticket.source),
        blocked_by=linked(siblings[key] for key in ticket.blocked_by if key in siblings),
        blocks=linked(t for t in siblings.values() if ticket.key in t.blocked_by),
        findings=[
            GlanceFinding(str(f.get("message", "")), str(f.get("severity", "")), str(f.get("suggestion") or ""))
            for f in ticket.findings
        ],
        session_id=ticket.session_id,
        project_key=session.project_key,
        generated_at=ticket.created_at,
        generated_by=session.created_by,
    )


def _sources(source: list[dict[str, Any]]) -> list[SourceRows]:
    """Record numbers per file, runs folded into ranges, so a 40-field bundle fits a narrow panel."""
    by_file: dict[str, set[int]] = defaultdict(set)
    for row in source:
        by_file[str(row.get("file", ""))].add(int(row.get("record", 0)))
    return [SourceRows(name, _ranges(sorted(records))) for name, records in sorted(by_file.items())]


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
