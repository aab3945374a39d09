"""What an export left behind, for the results page and the spec download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from app.pipeline.export_csv import spec_csvs_with_keys
from app.pipeline.issue_requests import PROPERTY_KEY
from app.pipeline.ports import ExportPorts


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
    # Jira's issue search for every issue this session's exports made (by the issue property they carry).
    search_url: str | None = None


def export_results(services: ExportPorts, tenant_id: int, session_id: int) -> ExportResults:
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
        for t in services.exports.tickets(tenant_id=tenant_id, session_id=session_id)
    ]
    task = services.tasks.latest(tenant_id=tenant_id, session_id=session_id, kind="export")
    summary = dict((task.detail or {}).get("summary") or {}) if task else {}
    search_url = None
    if display_url and any(t.jira_key for t in tickets):
        project = services.sessions.get(session_id, tenant_id=tenant_id).project_key
        jql = f'project = "{project}" AND issue.property[{PROPERTY_KEY}].sessionId = "{session_id}" ORDER BY key ASC'
        search_url = f"{display_url}/issues/?{urlencode({'jql': jql})}"
    return ExportResults(tickets, summary, task.state if task else None, task.message if task else "", search_url)


def export_csvs(services: ExportPorts, tenant_id: int, session_id: int) -> dict[str, bytes]:
    """The session's uploaded spec CSVs with the `ID` column filled with the Jira keys."""
    files = services.sessions.files(session_id, tenant_id=tenant_id)
    return spec_csvs_with_keys(files, services.exports.tickets(tenant_id=tenant_id, session_id=session_id))
