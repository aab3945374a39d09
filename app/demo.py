"""`dtg demo --headless`: the whole product on a spec export, without a browser, as a smoke test anyone can run.

The sandbox, the app and its embedded worker start as in `dtg demo`; the app is installed by the signed install;
then this module does what the director would do on the project page, through the same use cases: open a session,
upload the files, generate (the worker runs it through the embedded broker), export, and report what Jira holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.container import Services, build_services
from app.db.models import ACTIVE_TASK_STATES, Task
from app.jira.client import JiraClient
from app.launch import DemoStack, demo_environment, demo_stack
from app.logs import configure_logging
from app.offload import offload
from app.pipeline.dry_run import dry_run
from app.pipeline.export import PROPERTY_KEY, export_results
from app.pipeline.generation import generate_tickets
from app.pipeline.intake import IncomingFile, add_files, open_session, validate_session
from app.pipeline.issue_requests import EPIC_KEY_PREFIX
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.queries import session_tickets
from app.pipeline.readiness import export_session
from app.pipeline.revision_plan import CHANGED, CONFLICT, GONE, NEW, UNCHANGED
from app.pipeline.revisions import lineage_ids, revision_plan, start_revision
from app.settings import Settings
from workers.queue import DramatiqJobQueue

SPEC_SUFFIXES = (".csv", ".xlsx", ".ods")
PLAN_KINDS = (NEW, CHANGED, UNCHANGED, GONE, CONFLICT)
SAMPLE_SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "sample_data" / "uwec"
TASK_TIMEOUT_SECONDS = 600.0
Echo = Callable[[str], None]


@dataclass(frozen=True)
class HeadlessOptions:
    """Which sandbox project to export into, values for the fields it requires, and whether to only show the
    create requests (a dry run)."""

    project_key: str = "DTG"
    field_defaults: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    # Export the spec, then apply this folder (CSV files or a workbook) as its revision.
    revise_dir: Path | None = None


@dataclass
class DemoReport:
    files: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    tickets: Counter[str] = field(default_factory=Counter)  # by area
    issues: int = 0
    links: int = 0
    links_planned: int = 0
    attachments: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    project_url: str = ""
    dry_run: bool = False
    epics: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    # After --revise: the result's counts, and how many issues the lineage should have.
    revision: dict[str, int] | None = None
    expected_issues: int | None = None

    @property
    def ok(self) -> bool:
        if self.dry_run:
            return not self.failures and self.issues == 0
        expected = sum(self.tickets.values()) if self.expected_issues is None else self.expected_issues
        return not self.failures and self.issues == expected > 0

    def lines(self) -> list[str]:
        by_area = ", ".join(f"{area} {count}" for area, count in sorted(self.tickets.items()))
        by_severity = ", ".join(f"{severity} {count}" for severity, count in sorted(self.findings.items()))
        return [
            "Summary",
            f"  Spec files:            {self.files}",
            f"  Findings:              {sum(self.findings.values())} ({by_severity or 'none'})",
            f"  Tickets:               {sum(self.tickets.values())} ({by_area or 'none'})",
            f"  Issues in the sandbox: {self.issues}",
            f"  Epics:                 {self.epics}",
            f"  Links:                 {self.links} of {self.links_planned}",
            f"  Attachments:           {self.attachments}",
            f"  Failures:              {len(self.failures)}",
            *(f"    - {failure}" for failure in self.failures),
            *(["Revision", *(f"  {name}: {count}" for name, count in self.revision.items())] if self.revision else []),
            f"  Time:                  {self.seconds:.1f} s",
            f"  Sandbox project:       {self.project_url}",
        ]


async def run_headless(
    environ: Mapping[str, str],
    *,
    app_port: int,
    sandbox_port: int,
    spec_dir: Path,
    echo: Echo,
    options: HeadlessOptions = HeadlessOptions(),
) -> DemoReport:
    """Start everything, run the flow on the CSV files in `spec_dir`, stop everything, and report."""
    env = demo_environment(environ, app_port=app_port, sandbox_port=sandbox_port)
    settings = Settings.from_env(env)
    if "DTG_LOG_LEVEL" not in env:  # the progress lines and the summary are the output; logs only on trouble
        settings = dataclasses.replace(settings, log_level="WARNING")
    configure_logging(settings, default_format="text")
    # A fresh in-memory sandbox each run, so the counts are this run's.
    stack = demo_stack(settings, app_port=app_port, sandbox_port=sandbox_port, sandbox_state_dir=None)
    services = build_services(settings, DramatiqJobQueue(stack.broker))
    serving = asyncio.create_task(stack.serve())
    try:
        started = time.monotonic()
        report = await _flow(stack, services, spec_dir, echo, options)
        report.seconds = time.monotonic() - started
        return report
    finally:
        stack.stop()
        await serving
        await services.aclose()


async def _flow(
    stack: DemoStack, services: Services, spec_dir: Path, echo: Echo, options: HeadlessOptions
) -> DemoReport:
    report = DemoReport(project_url=stack.project_url, dry_run=options.dry_run)
    echo(f"Starting the Jira sandbox on {stack.sandbox_config.public_url} and the app on {stack.settings.base_url}")
    client_key = await stack.installed_client_key()
    tenant = services.tenants.find(client_key) if client_key else None
    if tenant is None:
        report.failures.append("The sandbox could not install the app.")
        return report
    echo("The app is installed in the sandbox.")

    project = stack.sandbox.state.sandbox.store.project(options.project_key)
    if project is None:
        report.failures.append(f"The sandbox has no project {options.project_key} (it has DTG, TEAM and REQ).")
        return report
    report.project_url = stack.project_url.rsplit("/", 1)[0] + f"/{project.key}"
    if options.field_defaults:  # what the admin would type on the configure page
        stored = services.export_settings.get(tenant.id)
        services.export_settings.save(tenant.id, dataclasses.replace(stored, field_defaults=options.field_defaults))
    upload = open_session(services, tenant.id, SYSTEM, project_key=project.key, project_id=project.id)
    assert upload.id is not None
    if not await _upload_and_generate(services, Scope(tenant.id, upload.id), spec_dir, echo, report):
        return report
    report.tickets = Counter(t.area for t in session_tickets(services, Scope(tenant.id, upload.id)))

    jira = JiraClient(services.http, tenant, services.settings.app_key)
    if not await _project_fits(services, jira, tenant.id, upload.id, project.key, echo, report):
        return report
    # The step the export button takes: the readiness gate, the run, the session's stage and the audit event.
    if not await _export(
        services, Scope(tenant.id, upload.id), jira, project.key, "Exporting to the Jira sandbox", echo, report
    ):
        return report
    _count_in_sandbox(stack, [upload.id], report)
    if options.revise_dir is not None:
        await _revise(stack, services, Scope(tenant.id, upload.id), jira, options.revise_dir, echo, report)
    return report


async def _upload_and_generate(
    services: Services, scope: Scope, spec_dir: Path, echo: Echo, report: DemoReport
) -> bool:
    """Upload the folder's CSV files or workbooks, validate, generate offline; False (recorded) if anything failed."""
    paths = sorted(p for p in spec_dir.iterdir() if p.suffix.lower() in SPEC_SUFFIXES)
    files = [IncomingFile(path.name, path.read_bytes()) for path in paths]
    add_files(services, scope, SYSTEM, files)
    intake = validate_session(services, tenant_id=scope.tenant_id, session_id=scope.session_id)
    report.files = len(files)
    report.findings = Counter(str(finding.severity) for finding in intake.findings)
    echo(f"Uploaded {len(files)} files from {spec_dir}: {len(intake.findings)} findings.")
    if intake.blocking:
        report.failures.append("The spec has blocking findings; run `dtg validate` on it to see them.")
        return False
    # The generate button's step, with the offline writer whatever LLM the environment sets up.
    generation = generate_tickets(services, scope, SYSTEM, "offline")
    return await _wait(services, generation, "Generating tickets", echo, report)


async def _export(
    services: Services, scope: Scope, jira: JiraClient, project_key: str, what: str, echo: Echo, report: DemoReport
) -> bool:
    export = await export_session(services, scope, SYSTEM, jira, project_key)
    done = await _wait(services, export, what, echo, report)
    results = export_results(services, scope.tenant_id, scope.session_id)
    report.failures += [f"{t.key}: {t.error}" for t in results.tickets if t.error]
    report.links_planned = int(results.summary.get("links_total", 0))
    report.summary = results.summary
    return done


async def _revise(
    stack: DemoStack,
    services: Services,
    exported: Scope,
    jira: JiraClient,
    revise_dir: Path,
    echo: Echo,
    report: DemoReport,
) -> None:
    """ "Revise this spec": a new session from the exported one, the revised files, the plan, then applying it."""
    upload = start_revision(services, exported, SYSTEM)
    assert upload.id is not None
    scope = Scope(exported.tenant_id, upload.id)
    if not await _upload_and_generate(services, scope, revise_dir, echo, report):
        return
    plan = await revision_plan(services, jira, tenant_id=scope.tenant_id, session_id=scope.session_id)
    counts = plan.counts()
    echo("  Plan: " + ", ".join(f"{kind} {counts.get(kind, 0)}" for kind in PLAN_KINDS) + f", moved {len(plan.moves)}")
    for move in plan.moves:
        echo(f"    moved {move.name}: {move.from_key} -> {move.to_key}")
    if not await _export(services, scope, jira, upload.project_key, "Applying the revision", echo, report):
        return
    applied = dict(report.summary.get("revision") or {})
    report.revision = {
        "Created": int(report.summary.get("created", 0)),
        "Updated": int(applied.get("updated", 0)),
        "Unchanged": counts.get(UNCHANGED, 0),
        "Flagged": int(applied.get("flagged", 0)),
        "Conflicts": int(applied.get("conflicts", 0)),
        "Commented": int(applied.get("commented", 0)),
        "Moved": int(applied.get("moved", 0)),
        "Links removed": int(applied.get("links_removed", 0)),
    }
    _count_in_sandbox(stack, lineage_ids(upload), report)
    report.tickets = Counter(t.area for t in session_tickets(services, scope))
    # Every issue of the lineage stays (gone ones are flagged, never deleted): issues = tickets + gone ones.
    report.expected_issues = sum(report.tickets.values()) + counts.get(GONE, 0)


async def _project_fits(
    services: Services,
    client: JiraClient,
    tenant_id: int,
    session_id: int,
    project_key: str,
    echo: Echo,
    report: DemoReport,
) -> bool:
    """The project check the export panel shows; with --dry-run also every create request (then False: stop)."""
    found = await dry_run(services, client, tenant_id=tenant_id, session_id=session_id, project_key=project_key)
    for check in found.checks:
        echo(f"  Project {project_key}: {check['message']} {check['todo']}")
    if report.dry_run:  # one JSON object per line: each epic, then each ticket with its request and links
        for entry in [*found.epics, *found.tickets]:
            echo(json.dumps(entry, sort_keys=True))
    if not found.ready:
        report.failures.append(f"Project {project_key} does not take the export as set up (see above).")
    return found.ready and not report.dry_run


async def _wait(services: Services, task_id: int, what: str, echo: Echo, report: DemoReport) -> bool:
    """Poll the task until it ends, echoing its progress at most once a second; False (recorded) if it failed."""
    deadline = time.monotonic() + TASK_TIMEOUT_SECONDS
    shown, last_shown = "", 0.0
    task: Task | None = None
    while time.monotonic() < deadline:
        task = await offload(services.tasks.find, task_id)
        if task is None or task.state not in ACTIVE_TASK_STATES:
            break
        line = f"  {what}: {task.done}/{task.total} {task.current}".rstrip()
        if line != shown and time.monotonic() - last_shown >= 1:
            echo(line)
            shown, last_shown = line, time.monotonic()
        await asyncio.sleep(0.2)
    if task is None or task.state != "done":
        state = task.state if task else "missing"
        report.failures.append(f"{what} ended {state}: {task.message if task else ''}".rstrip(": "))
        return False
    echo(f"  {what}: done. {task.message}")
    return True


def _count_in_sandbox(stack: DemoStack, session_ids: list[int], report: DemoReport) -> None:
    """What the sandbox holds for these sessions, counted on its side rather than from our own records."""
    store = stack.sandbox.state.sandbox.store
    wanted = {str(s) for s in session_ids}
    ours = {
        issue.id: str(issue.properties[PROPERTY_KEY].get("ticketKey", ""))
        for issue in store.issues.values()
        if (issue.properties.get(PROPERTY_KEY) or {}).get("sessionId") in wanted
    }
    report.epics = sum(1 for key in ours.values() if key.startswith(EPIC_KEY_PREFIX))
    report.issues = len(ours) - report.epics
    report.links = sum(1 for link in store.links if {link.inward_issue_id, link.outward_issue_id} <= ours.keys())
    report.attachments = sum(1 for attachment in store.attachments.values() if attachment.issue_id in ours)
    if report.links != report.links_planned:
        report.failures.append(f"{report.links_planned - report.links} links are missing in the sandbox.")


def default_spec_dir() -> Path | None:
    """The UWEC sample beside the repository, when it is there."""
    return SAMPLE_SPEC if SAMPLE_SPEC.is_dir() else None
