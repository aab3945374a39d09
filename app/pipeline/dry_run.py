"""The export's dry run: what would be sent, request by request, with nothing written to Jira or to our records.

It asks Jira only for the project's create metadata and link types (reads), then builds the same requests the
export sends: epics first (one per area, when epics are on), then each ticket with its parent, and the links.
An epic that does not exist yet has no key, so its children show where the key will go; a ticket already in
Jira shows its key and no request.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from app.db.export_settings import ExportSettingsRepository
from app.db.tickets import TicketRepository
from app.pipeline.configuration import effective_default_labels
from app.pipeline.export.plan import BLOCKS, plan_export
from app.pipeline.issue_requests import CreateTarget, epic_area, epic_request, ticket_request
from app.pipeline.ports import ConfigurationPorts
from app.pipeline.project_fit import CreateMeta, check_project_fit

# What the property's `exportId` will be: the export task's id, which exists only once the export starts.
EXPORT_ID_PLACEHOLDER = "(the export's id)"


class DryRunPorts(ConfigurationPorts, Protocol):
    tickets: TicketRepository
    export_settings: ExportSettingsRepository


@dataclass(frozen=True)
class DryRun:
    project_key: str
    ready: bool
    checks: list[dict[str, Any]]
    epics: list[dict[str, Any]]
    tickets: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "projectKey": self.project_key,
            "ready": self.ready,
            "checks": self.checks,
            "epics": self.epics,
            "tickets": self.tickets,
        }


async def dry_run(ports: DryRunPorts, jira: CreateMeta, *, tenant_id: int, session_id: int, project_key: str) -> DryRun:
    """Every create request the export would send for this session, in order, and the links after them.

    Raises: JiraError when Jira cannot be asked about the project.
    """
    records = await asyncio.to_thread(ports.tickets.list, tenant_id=tenant_id, session_id=session_id)
    settings = await asyncio.to_thread(ports.export_settings.get, tenant_id)
    labels = await asyncio.to_thread(effective_default_labels, ports, tenant_id)
    tickets = [t for t in records if not t.excluded]
    fit = await check_project_fit(jira, project_key, settings)
    target = CreateTarget(project_key, fit, labels, settings.ticket_issue_type)
    by_key = {t.key: t for t in tickets}
    plan = plan_export(tickets)

    areas = list(dict.fromkeys(epic_area(by_key[key]) for key in plan.order)) if fit.epics else []
    epics = [
        {"area": area, "request": epic_request(area, target, session_id=session_id, export_id=EXPORT_ID_PLACEHOLDER)}
        for area in areas
    ]
    links_of: dict[str, list[dict[str, str]]] = {}
    for link in plan.links:
        # Blocks: the blocker (`to_key`) is the link's inward issue; see JiraClient.create_link.
        inward, outward = (link.to_key, link.from_key) if link.kind == BLOCKS else (link.from_key, link.to_key)
        name = fit.link_types.get(link.kind)
        entry = {"type": name.name if name else link.kind.title(), "inwardTicket": inward, "outwardTicket": outward}
        links_of.setdefault(link.from_key, []).append(entry)
    planned: list[dict[str, Any]] = []
    for key in plan.order:
        ticket = by_key[key]
        if ticket.jira_key:  # already in Jira: the export sends nothing for it
            planned.append({"key": key, "title": ticket.title, "existing": ticket.jira_key, "links": []})
            continue
        parent = f"(key of the '{epic_area(ticket)}' epic, created first)" if fit.epics else None
        request = ticket_request(ticket, target, export_id=EXPORT_ID_PLACEHOLDER, parent_key=parent)
        planned.append({"key": key, "title": ticket.title, "request": request, "links": links_of.get(key, [])})
    return DryRun(project_key, fit.ready, [asdict(c) for c in fit.checks], epics, planned)
