"""What the use cases work on (`Scope`, `Actor`) and what they need from the world (the ports, as Protocols).

A use case is `verb_noun(ports, scope, actor, ...)` and does its whole step: it checks the step may run, does the
work, moves the session's stage, touches the session and writes the audit event. `app.container.Services`
implements every port below; a test builds just the part a use case needs. Nothing in `app/pipeline` imports
`app.container`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx
from dramatiq.rate_limits import RateLimiterBackend
from sqlalchemy.engine import Engine

from app.db.audit import AuditRepository
from app.db.export_settings import ExportSettingsRepository
from app.db.exports import ExportRepository
from app.db.forge_installations import ForgeInstallationRepository
from app.db.heartbeats import HeartbeatRepository
from app.db.retention import RetentionRepository
from app.db.sessions import SessionRepository
from app.db.tasks import TaskRepository
from app.db.tenant_settings import TenantSettingsRepository
from app.db.tenants import TenantRepository
from app.db.tickets import TicketRepository
from app.pipeline.jobs import JobQueue
from app.settings import Settings


@dataclass(frozen=True)
class Scope:
    """One upload session of one tenant: every query of a session-level use case is filtered on both."""

    tenant_id: int
    session_id: int


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a Jira account, or None for the app itself (the demo, the CLI, a schedule)."""

    account_id: str | None = None


SYSTEM = Actor()


class AuditPorts(Protocol):
    audit: AuditRepository


class SessionPorts(Protocol):
    sessions: SessionRepository


class TaskPorts(Protocol):
    tasks: TaskRepository


class ResumePorts(TaskPorts, Protocol):
    """Sending waiting tasks to a worker again."""

    jobs: JobQueue


class HeartbeatPorts(Protocol):
    heartbeats: HeartbeatRepository


class CleanupPorts(HeartbeatPorts, Protocol):
    retention: RetentionRepository


class TaskLookupPorts(SessionPorts, TaskPorts, Protocol):
    """Finding a task: the task, and its session's project."""


class ActivityPorts(AuditPorts, Protocol):
    """What recording a step needs: the session to touch and the audit trail."""

    sessions: SessionRepository


class CancelPorts(ActivityPorts, TaskPorts, Protocol):
    """Cancelling a run: the task, and the trail of its session."""


class RetentionPorts(ActivityPorts, Protocol):
    """Deleting what is past its time (or what the director deletes now), and what outlives it."""

    retention: RetentionRepository


class ConfigurationPorts(Protocol):
    settings: Settings
    tenant_settings: TenantSettingsRepository
    audit: AuditRepository


class ProviderPorts(ConfigurationPorts, Protocol):
    tasks: TaskRepository


class IntakePorts(ActivityPorts, Protocol):
    tenant_settings: TenantSettingsRepository


class GlancePorts(Protocol):
    tickets: TicketRepository
    sessions: SessionRepository


class GenerationPorts(IntakePorts, Protocol):
    tickets: TicketRepository
    tasks: TaskRepository
    jobs: JobQueue


class GenerationStartPorts(GenerationPorts, ProviderPorts, Protocol):
    """Starting a run also checks the director's provider choice against the tenant's settings."""


class ReviewPorts(ActivityPorts, Protocol):
    tickets: TicketRepository


class ExportPorts(GenerationPorts, ConfigurationPorts, Protocol):
    """What an export run needs: Jira access as the tenant (Connect or Forge), its pace, the lock, the records."""

    engine: Engine
    http: httpx.AsyncClient
    tenants: TenantRepository
    forge_installations: ForgeInstallationRepository
    rate_limits: RateLimiterBackend
    export_settings: ExportSettingsRepository
    exports: ExportRepository
