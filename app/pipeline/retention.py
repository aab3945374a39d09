"""The clean-up: what we keep and for how long. Idempotent, and safe to run in two places at once.

- An upload session and everything under it goes 7 days after its last activity; a finished export leaves its
  results summary behind (`export_summaries`).
- Audit events are kept 90 days, also after their session is gone.
- An uninstalled tenant's data is purged 30 days after the uninstall, unless the site installs the app again
  within that grace period (a re-install clears `uninstalled_at`, and the purge re-checks it under a row lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError

from app.db.models import ExportSummary, utcnow
from app.domain.retention import SESSION_IDLE_DAYS
from app.errors import ConflictError
from app.pipeline.activity import record_tenant_step
from app.pipeline.ports import Actor, CleanupPorts, RetentionPorts, Scope

log = logging.getLogger(__name__)

SESSION_IDLE = timedelta(days=SESSION_IDLE_DAYS)
AUDIT_KEPT = timedelta(days=90)
UNINSTALL_GRACE = timedelta(days=30)
PINGS_KEPT = timedelta(days=1)
HEARTBEATS_KEPT = timedelta(days=1)


class SessionBusyError(ConflictError):
    """A generation or export run is still working in the session."""


def delete_session(ports: RetentionPorts, scope: Scope, actor: Actor) -> None:
    """The director deletes a session at once, as the clean-up would after 7 idle days (its export summary stays);
    audited as "session_deleted" on the tenant's trail, since the session's own is gone with it.

    Raises:
        NotFoundError: the session is not this tenant's.
        SessionBusyError: a run is in progress in it.
    """
    ports.sessions.get(scope.session_id, tenant_id=scope.tenant_id)
    # "Idle before tomorrow" holds for every session: the clean-up's delete, without its waiting time.
    tomorrow = utcnow() + timedelta(days=1)
    if not ports.retention.delete_session(scope.session_id, tenant_id=scope.tenant_id, idle_before=tomorrow):
        raise SessionBusyError(
            "A generation or export run is still working in this session. Cancel it or let it finish, then delete."
        )
    record_tenant_step(ports, scope.tenant_id, actor, "session_deleted", session=scope.session_id)


def export_summaries(ports: RetentionPorts, tenant_id: int, project_key: str) -> list[ExportSummary]:
    """What is left of the project's exports whose sessions are gone: their results summaries."""
    return ports.retention.export_summaries(tenant_id=tenant_id, project_key=project_key)


@dataclass(frozen=True)
class CleanupReport:
    sessions: int
    audit_events: int
    tenants: int
    pings: int
    heartbeats: int


def run_cleanup(ports: CleanupPorts, *, now: datetime | None = None) -> CleanupReport:
    """Delete everything past its retention; returns what this run deleted (a concurrent run may take some)."""
    now = now or utcnow()
    repo = ports.retention
    sessions = 0
    for tenant_id, session_id in repo.idle_sessions(idle_before=now - SESSION_IDLE):
        sessions += _one(repo.delete_session, session_id, tenant_id=tenant_id, idle_before=now - SESSION_IDLE)
    tenants = 0
    for tenant_id in repo.uninstalled_tenants(uninstalled_before=now - UNINSTALL_GRACE):
        tenants += _one(repo.purge_tenant, tenant_id, uninstalled_before=now - UNINSTALL_GRACE)
    report = CleanupReport(
        sessions=sessions,
        audit_events=repo.delete_audit_events(before=now - AUDIT_KEPT),
        tenants=tenants,
        pings=repo.delete_tenantless_tasks(before=now - PINGS_KEPT),
        heartbeats=ports.heartbeats.prune(older_than=HEARTBEATS_KEPT),
    )
    log.info("clean-up done", extra={"deleted": asdict(report)})
    return report


def _one(delete: Callable[..., bool], row_id: int, **scope: int | datetime) -> int:
    """One session or tenant; a lock timeout (SQLite busy) leaves it for the next run instead of failing this one,
    and a row that breaks a constraint is logged and skipped, so it cannot stop every later clean-up."""
    try:
        return int(bool(delete(row_id, **scope)))
    except OperationalError:
        log.warning("clean-up skipped a row it could not lock; the next run takes it", extra={"row": row_id})
        return 0
    except IntegrityError as exc:
        # The driver's message names the constraint; the full error would also log the statement's parameters.
        log.error(
            "clean-up skipped a row that breaks a constraint; it needs a look",
            extra={"row": row_id, "error": str(exc.orig)},
        )
        return 0
