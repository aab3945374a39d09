"""The project page's panels as server-rendered HTML fragments, fetched by project.js with the context token.

The page's JavaScript only swaps these in and wires buttons to the JSON API; all markup and escaping stay in Jinja.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from app.adf.html import adf_to_html
from app.adf.markdown import to_markdown
from app.container import Services
from app.db.models import Task, TicketRecord, UploadSession
from app.domain.retention import SESSION_IDLE_DAYS
from app.errors import NotFoundError
from app.intake import SpecKind
from app.offload import offload
from app.pipeline.export import ExportResults, export_results
from app.pipeline.generation import FILES_CHANGED, changed_since_export, changed_text, drafts_out_of_date
from app.pipeline.generation import KIND as GENERATION
from app.pipeline.graph_view import layout, render_svg
from app.pipeline.intake import LIMITS, type_overrides, validate_session
from app.pipeline.providers import ProviderChoice, choices
from app.pipeline.queries import (
    SessionContents,
    latest_task,
    project_sessions,
    session_events,
    session_file_types,
    session_tickets,
)
from app.pipeline.readiness import Readiness
from app.web.export_api import readiness_of
from app.web.routing import Auth, SecuredRoute
from app.web.scope import heavy, project_key, scope_of, services, stored_id, tenant_id, upload_session
from app.web.session_api import session_name

SEVERITIES = ("blocking", "warning", "info")


@dataclass(frozen=True)
class UploadPanel:
    session: UploadSession
    files: list[dict[str, Any]]
    overrides: Mapping[str, str | None]
    findings: dict[str, dict[str, list[dict[str, Any]]]]
    blocking: int
    warnings: int
    kinds: list[str]
    limits: Any = LIMITS


@dataclass(frozen=True)
class GeneratePanel:
    session: UploadSession
    providers: list[ProviderChoice]
    task: Task | None
    tickets: int
    blocked: bool
    out_of_date: str = ""  # what changed since the drafts were made ("the status mapping"), or ""
    in_jira: int = 0
    revise_instead: bool = False  # the files changed and some tickets are in Jira: a revision reaches them


@dataclass(frozen=True)
class ReviewPanel:
    session: UploadSession
    areas: list[tuple[str, list[TicketRecord]]]
    total: int
    excluded: int
    task: Task | None
    reviewed: int = 0
    out_of_date: str = ""
    in_jira: int = 0
    revise_instead: bool = False


@dataclass(frozen=True)
class TicketPanel:
    session: UploadSession
    ticket: TicketRecord
    markdown: str
    html: str
    titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphPanel:
    session: UploadSession
    svg: str
    tickets: list[TicketRecord]
    cycles: list[list[str]]
    relates: int
    # The same graph as lists, for the accessible view: ticket key -> the tickets it blocks.
    blocks: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    areas: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportPanel:
    session: UploadSession
    readiness: Readiness
    task: Task | None
    results: ExportResults

    @property
    def titles(self) -> dict[str, str]:
        """Ticket titles by key, for the readiness list (people read titles, not internal keys)."""
        return {t.key: t.title for t in self.results.tickets}


async def people(request: Request, account_ids: list[str | None]) -> dict[str, str]:
    """Jira display names for these account ids (those Jira knows), from the per-site cache."""
    return await services(request).display_names.names(request.state.identity.installation, account_ids)


def _render(request: Request, template: str, panel: object) -> Response:
    """HTML, or `{"html": ...}` for a caller that asks for JSON (every front's fetchJson, Forge's bridge included)."""
    headers = {"Cache-Control": "no-store"}
    templates: Jinja2Templates = request.app.state.templates
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        html = templates.get_template(template).render(request=request, panel=panel)
        return JSONResponse({"html": html}, headers=headers)
    return templates.TemplateResponse(request, template, {"panel": panel}, headers=headers)


@dataclass(frozen=True)
class SessionRow:
    session: UploadSession
    name: str
    contents: SessionContents
    stage: str
    spec_changed: bool = False  # files changed after the export: its banners offer a revision


def true_stage(upload: UploadSession, contents: SessionContents) -> str:
    """The stage the data shows (drafts, issues in Jira), not only the last step someone took."""
    if contents.exported:
        return "export" if contents.exported >= contents.tickets else "partly_exported"
    if contents.tickets:
        return "review"
    if upload.stage == "generate":
        return "generate"
    return "validate" if contents.files else "upload"


def _listed(ports: Services, tenant: int, key: str) -> tuple[list[tuple[UploadSession, SessionContents]], set[int]]:
    """The project's sessions and those changed since their export, read in one worker thread (one hop)."""
    found = project_sessions(ports, tenant, key)
    return found, changed_since_export(ports, found)


async def sessions_panel(request: Request) -> Response:
    found, changed = await offload(_listed, services(request), tenant_id(request), project_key(request))
    rows = [SessionRow(s, session_name(s, held.files), held, true_stage(s, held), s.id in changed) for s, held in found]
    me = request.state.identity.account_id
    names = await people(request, [s.created_by for s, _ in found])
    context = {"rows": rows, "me": me, "names": names, "retention_days": SESSION_IDLE_DAYS}
    return _render(request, "_sessions.html", context)


async def upload_panel(request: Request) -> Response:
    upload = await upload_session(request)
    stored = await offload(session_file_types, services(request), scope_of(upload))
    result = await heavy(
        request, validate_session, services(request), tenant_id=upload.tenant_id, session_id=stored_id(upload)
    )
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {s: [] for s in SEVERITIES})
    for finding in result.findings:
        grouped[finding.file or "The upload as a whole"][str(finding.severity)].append(finding.to_dict())
    counts = {s: sum(len(g[s]) for g in grouped.values()) for s in SEVERITIES}
    panel = UploadPanel(
        upload,
        [f.to_dict() for f in result.files],
        type_overrides(stored),
        dict(grouped),
        counts["blocking"],
        counts["warning"],
        [k.value for k in SpecKind],
    )
    return _render(request, "_upload.html", panel)


async def generate_panel(request: Request) -> Response:
    upload = await upload_session(request)
    current = services(request)
    scope = {"tenant_id": upload.tenant_id, "session_id": stored_id(upload)}
    result = await heavy(request, validate_session, current, **scope)
    task = await offload(latest_task, current, scope_of(upload), GENERATION)
    tickets = await offload(session_tickets, current, scope_of(upload))
    providers = await offload(choices, current, upload.tenant_id)
    reasons = await offload(drafts_out_of_date, current, task, tickets)
    in_jira = sum(1 for t in tickets if t.jira_key)
    revise = bool(in_jira) and FILES_CHANGED in reasons
    panel = GeneratePanel(
        upload, providers, task, len(tickets), result.blocking, changed_text(reasons), in_jira, revise
    )
    return _render(request, "_generate.html", panel)


async def review_panel(request: Request) -> Response:
    upload = await upload_session(request)
    current = services(request)
    tickets = await offload(session_tickets, current, scope_of(upload))
    task = await offload(latest_task, current, scope_of(upload), GENERATION)
    areas: dict[str, list[TicketRecord]] = defaultdict(list)
    for ticket in tickets:
        areas[ticket.area or "Other"].append(ticket)
    excluded = sum(t.excluded for t in tickets)
    reviewed = sum(t.reviewed for t in tickets)
    reasons = await offload(drafts_out_of_date, current, task, tickets)
    in_jira = sum(1 for t in tickets if t.jira_key)
    revise = bool(in_jira) and FILES_CHANGED in reasons
    stale = changed_text(reasons)
    panel = ReviewPanel(upload, list(areas.items()), len(tickets), excluded, task, reviewed, stale, in_jira, revise)
    return _render(request, "_review.html", panel)


async def ticket_panel(request: Request) -> Response:
    upload = await upload_session(request)
    tickets = await offload(session_tickets, services(request), scope_of(upload))
    titles = {t.key: t.title for t in tickets}
    ticket = next((t for t in tickets if t.key == request.path_params["key"]), None)
    if ticket is None:
        raise NotFoundError("This ticket is no longer in the session; a new generation run may have removed it.")
    panel = TicketPanel(upload, ticket, to_markdown(ticket.description), str(adf_to_html(ticket.description)), titles)
    return _render(request, "_ticket.html", panel)


async def graph_panel(request: Request) -> Response:
    upload = await upload_session(request)
    tickets = await offload(session_tickets, services(request), scope_of(upload))
    placed = await heavy(request, layout, tickets)
    blocks: dict[str, list[str]] = defaultdict(list)
    for blocker, blocked in placed.blocks:
        blocks[blocker].append(blocked)
    titles = {t.key: t.title for t in tickets}
    areas = list(dict.fromkeys(t.area or "Other" for t in tickets))
    panel = GraphPanel(
        upload, str(render_svg(placed)), tickets, placed.cycles, len(placed.relates), dict(blocks), titles, areas
    )
    return _render(request, "_graph.html", panel)


async def export_panel(request: Request) -> Response:
    upload = await upload_session(request)
    current = services(request)
    ready = await readiness_of(request, upload)
    task = await offload(latest_task, current, scope_of(upload), "export")
    results = await offload(export_results, current, upload.tenant_id, stored_id(upload))
    return _render(request, "_export.html", ExportPanel(upload, ready, task, results))


async def activity_panel(request: Request) -> Response:
    upload = await upload_session(request)
    events = await offload(session_events, services(request), scope_of(upload))
    names = await people(request, [e.account_id for e in events])
    tickets = await offload(session_tickets, services(request), scope_of(upload))
    titles = {t.key: t.title for t in tickets}
    context = {"session": upload, "events": events, "names": names, "titles": titles}
    return _render(request, "_activity.html", context)


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}/panels"
    return [
        SecuredRoute("/api/panels/sessions", sessions_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/upload", upload_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/generate", generate_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/review", review_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/tickets/{{key}}", ticket_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/graph", graph_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/export", export_panel, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/activity", activity_panel, auth=Auth.CONTEXT),
    ]
