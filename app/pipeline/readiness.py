"""Is a session ready to export? Every problem that would stop or spoil the export, with what to do about it."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass

from app.db.models import ACTIVE_TASK_STATES, Task, TicketRecord
from app.errors import ConflictError, WhoCanFix
from app.intake import Severity
from app.jira.errors import JiraError
from app.offload import offload
from app.pipeline.activity import record_step
from app.pipeline.checks import Check
from app.pipeline.export import start_export
from app.pipeline.generation import FILES_CHANGED, changed_text, drafts_out_of_date
from app.pipeline.generation import KIND as GENERATION
from app.pipeline.intake import validate_session
from app.pipeline.ports import Actor, ExportPorts, Scope
from app.pipeline.project_fit import CreateMeta, ProjectFit, check_project_fit
from app.pipeline.review import MAX_LABEL, MAX_TITLE, description_problems


class NotReadyError(ConflictError):
    """The export was asked for while something blocks it; `details` lists the checks."""

    def __init__(self, readiness: Readiness) -> None:
        first = next(c for c in readiness.checks if c.blocking)
        super().__init__(f"The export cannot start yet: {first.message} {first.todo}")
        self.details = readiness.to_dict()


@dataclass(frozen=True)
class Readiness:
    checks: list[Check]
    exportable: int

    @property
    def ready(self) -> bool:
        return not any(check.blocking for check in self.checks)

    def raise_unless_ready(self) -> None:
        """Raises: NotReadyError when a check blocks."""
        if not self.ready:
            raise NotReadyError(self)

    def to_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "exportable": self.exportable, "checks": [asdict(c) for c in self.checks]}


def _ticket_checks(tickets: Sequence[TicketRecord]) -> list[Check]:
    exported = [t for t in tickets if not t.excluded]
    keys = {t.key for t in exported}
    untitled = [t.key for t in exported if not t.title.strip() or len(t.title) > MAX_TITLE]
    invalid = [t.key for t in exported if t.description and description_problems(t.description)]
    bad_labels = [
        t.key for t in exported if any(not label or " " in label or len(label) > MAX_LABEL for label in t.labels)
    ]
    # Review is the check before a ticket goes to Jira: one already there was exported as it was, and a later
    # change to it goes through a spec revision, so it is no longer "not reviewed yet".
    pending = [t for t in exported if not t.jira_key]
    unreviewed = [t.key for t in pending if not t.reviewed]
    of_pending = f"{len(pending)} tickets" + ("" if len(pending) == len(exported) else " not in Jira yet")
    dangling = sorted({t.key for t in exported for ref in t.blocked_by if ref not in keys})
    checks = [
        Check(
            "untitled",
            True,
            f"{len(untitled)} tickets have no usable title (empty or over {MAX_TITLE} characters).",
            "Open each in Review and give it a title.",
            tickets=untitled,
        ),
        Check(
            "invalid_description",
            True,
            f"{len(invalid)} descriptions would be refused by Jira (not valid ADF or too long).",
            "Open each in Review and shorten or fix the description.",
            tickets=invalid,
        ),
        Check(
            "bad_labels",
            True,
            f"{len(bad_labels)} tickets have labels Jira refuses (spaces or too long).",
            "Open each in Review and fix its labels.",
            tickets=bad_labels,
        ),
        Check(
            "unreviewed",
            False,
            f"{len(unreviewed)} of {of_pending} are not marked reviewed yet.",
            "Go through them in Review (r marks one reviewed), or export them as they are.",
            who_can_fix=WhoCanFix.DIRECTOR.value,
            tickets=unreviewed,
        ),
        Check(
            "dangling_links",
            False,
            f"{len(dangling)} tickets are blocked by tickets you left out of the export; those links are not created.",
            "Put the blocking tickets back, or accept that the links are dropped.",
            tickets=dangling,
        ),
    ]
    return [check for check in checks if check.tickets]


async def check_readiness(
    *,
    blocking_findings: int,
    tickets: Sequence[TicketRecord],
    generation: Task | None,
    project_fit: Callable[[], Awaitable[ProjectFit]],
    out_of_date: Sequence[str] = (),
) -> Readiness:
    """All the checks; `project_fit` asks Jira whether the project takes our issues (issue types, required
    fields, link types); a failure to ask is reported as a warning, not raised."""
    checks: list[Check] = []
    if blocking_findings:
        checks.append(
            Check(
                "blocking_findings",
                True,
                f"The spec files still have {blocking_findings} blocking findings.",
                "Go back to Upload, fix the files named there and upload them again.",
            )
        )
    if generation is not None and generation.state in ACTIVE_TASK_STATES:
        checks.append(
            Check(
                "generation_running",
                True,
                "Tickets are still being drafted.",
                "Wait until generation finishes (or cancel it).",
                WhoCanFix.RETRY_LATER.value,
            )
        )
    elif FILES_CHANGED in out_of_date and any(t.jira_key for t in tickets):
        # Generating again would not reach the issues already in Jira: a revision updates them, after its plan.
        checks.append(
            Check(
                "drafts_out_of_date",
                True,
                "The spec files changed after the tickets were exported: these drafts no longer match the spec.",
                "Revise this spec (below): the revision's plan shows what would change in Jira before anything is "
                "written.",
                WhoCanFix.DIRECTOR.value,
            )
        )
    elif out_of_date and tickets:
        changed = changed_text(out_of_date)
        checks.append(
            Check(
                "drafts_out_of_date",
                True,
                f"The drafts are out of date: {changed} changed after the tickets were generated.",
                "Generate again; edits you made to tickets whose spec rows did not change are kept.",
                WhoCanFix.DIRECTOR.value,
            )
        )
    if not tickets:
        checks.append(Check("no_tickets", True, "There are no tickets yet.", "Generate the tickets first."))
    elif all(t.excluded for t in tickets):
        checks.append(
            Check(
                "all_excluded",
                True,
                "Every ticket is left out of the export.",
                "Put at least one ticket back in Review.",
            )
        )
    checks += _ticket_checks(tickets)
    try:
        checks += (await project_fit()).checks
    except JiraError as exc:
        checks.append(
            Check(
                "jira_unreachable",
                False,
                f"The Jira project could not be checked: {exc.message}",
                "Try again in a minute; the export checks it again itself.",
                WhoCanFix.RETRY_LATER.value,
            )
        )
    return Readiness(checks, sum(1 for t in tickets if not t.excluded))


async def assess_readiness(ports: ExportPorts, scope: Scope, jira: CreateMeta, project_key: str) -> Readiness:
    """Every check of `check_readiness` for a stored session; `jira` is asked about the project as the caller."""
    where = {"tenant_id": scope.tenant_id, "session_id": scope.session_id}
    intake = await offload(validate_session, ports, **where)
    tickets = await offload(ports.tickets.list, **where)
    generation = await offload(ports.tasks.latest, kind=GENERATION, **where)
    settings = await offload(ports.export_settings.get, scope.tenant_id)
    return await check_readiness(
        blocking_findings=sum(1 for f in intake.findings if f.severity is Severity.BLOCKING),
        tickets=tickets,
        generation=generation,
        project_fit=functools.partial(check_project_fit, jira, project_key, settings),
        out_of_date=await offload(drafts_out_of_date, ports, generation, tickets),
    )


async def export_session(ports: ExportPorts, scope: Scope, actor: Actor, jira: CreateMeta, project_key: str) -> int:
    """The export step: the readiness gate, the run (a retry resumes and never duplicates), the stage, the audit.

    Raises: NotReadyError when a check blocks; TaskAlreadyRunningError when an export of the session is running.
    """
    (await assess_readiness(ports, scope, jira, project_key)).raise_unless_ready()
    task_id = await offload(start_export, ports, scope.tenant_id, scope.session_id)
    await offload(ports.sessions.set_stage, scope.session_id, tenant_id=scope.tenant_id, stage="export")
    await offload(record_step, ports, scope, actor, "exported", task=task_id)
    return task_id
