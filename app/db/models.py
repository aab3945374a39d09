"""The tables. Every row that belongs to a tenant carries `tenant_id`, and every query filters on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp() -> Any:
    # Any, as Field() itself is: so a column can be declared with its Python type, `created_at: datetime`.
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Tenant(SQLModel, table=True):
    """One Jira site that installed the app (a Connect installation)."""

    __tablename__ = "tenants"

    id: int | None = Field(default=None, primary_key=True)
    client_key: str = Field(max_length=255, unique=True, index=True)
    # Encrypted with the app's secret key; never logged, never returned by an API.
    shared_secret_encrypted: str
    base_url: str = Field(max_length=1024)
    display_url: str | None = Field(default=None, max_length=1024)
    product_type: str = Field(default="jira", max_length=32)
    description: str = Field(default="", max_length=1024)
    cloud_id: str | None = Field(default=None, max_length=255)
    enabled: bool = True
    installed_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    uninstalled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))

    @property
    def is_active(self) -> bool:
        return self.uninstalled_at is None


ACTIVE_TASK_STATES = ("queued", "running")

# SQLite reuses the highest id once its row is deleted; these ids are named by data that outlives the row (the
# session id in the Jira issues' `dtg-ticket` property, export summaries, audit events), so they must never come
# back. PostgreSQL ignores the option (its sequences never reuse). Must be the last element of `__table_args__`.
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


class Task(SQLModel, table=True):
    """A unit of background work with its progress, so the web app can show and resume it.

    At most one active task of a kind per upload session: a partial unique index enforces it in the database,
    so two requests racing to start a run cannot both win.
    """

    __tablename__ = "tasks"
    __table_args__ = (
        Index(
            "uq_tasks_one_active_per_session",
            "session_id",
            "kind",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int | None = Field(default=None, foreign_key="tenants.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="upload_sessions.id", index=True)
    kind: str = Field(max_length=64)
    state: str = Field(default="queued", max_length=32)
    done: int = 0
    total: int = 0
    current: str = Field(default="", max_length=255)
    message: str = Field(default="", max_length=2048)
    cancel_requested: bool = False
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The worker process running it (its `worker_heartbeats` id), None while it waits in the queue.
    worker_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


def _json_column(nullable: bool = False) -> Column[Any]:
    return Column(JSON, nullable=nullable)


class UploadSession(SQLModel, table=True):
    """One director's session on one project: uploaded spec files, drafted tickets, export."""

    __tablename__ = "upload_sessions"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    project_key: str = Field(max_length=64)
    project_id: str = Field(default="", max_length=64)
    created_by: str | None = Field(default=None, max_length=128)
    stage: str = Field(default="upload", max_length=32)
    # Typed by the director; without one the session is named after its files.
    name: str | None = Field(default=None, max_length=120)
    site_name: str = Field(default="", max_length=255)
    site_description: str = Field(default="", max_length=2048)
    created_at: datetime = _timestamp()
    last_activity_at: datetime = _timestamp()
    # A revision of an exported spec: {"of": the session it revises, "lineage": every session before it, oldest
    # first, "choices": {ticket key: "keep" | "overwrite" | "comment"} for issues edited in Jira}; None otherwise.
    revision: dict[str, Any] | None = Field(default=None, sa_column=_json_column(nullable=True))


class SpecFile(SQLModel, table=True):
    """An uploaded CSV export, kept byte for byte (at most 2 MB each) so intake can be re-run at any time."""

    __tablename__ = "spec_files"
    __table_args__ = (UniqueConstraint("session_id", "name", name="uq_spec_files_session_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    session_id: int = Field(foreign_key="upload_sessions.id", index=True)
    name: str = Field(max_length=255)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    kind_override: str | None = Field(default=None, max_length=64)
    # A workbook's tabs whose type the director set: {tab name: kind}; None for a CSV file or no tab set.
    tab_kinds: dict[str, str] | None = Field(default=None, sa_column=_json_column(nullable=True))
    created_at: datetime = _timestamp()


class TicketRecord(SQLModel, table=True):
    """A drafted ticket. `key` is stable across re-runs of the same spec; `version` guards concurrent edits."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("session_id", "key", name="uq_tickets_session_key"), NEVER_REUSE_IDS)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    session_id: int = Field(foreign_key="upload_sessions.id", index=True)
    key: str = Field(max_length=255)
    position: int = 0
    title: str = Field(max_length=255)
    area: str = Field(max_length=64)
    action: str = Field(max_length=16)
    labels: list[str] = Field(default_factory=list, sa_column=_json_column())
    description: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    blocked_by: list[str] = Field(default_factory=list, sa_column=_json_column())
    relates_to: list[str] = Field(default_factory=list, sa_column=_json_column())
    source: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_column())
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_column())
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json_column())
    usage: dict[str, Any] = Field(default_factory=dict, sa_column=_json_column())
    on_hold: bool = False
    prose_written: bool = False
    prose_flag: str | None = Field(default=None, max_length=1024)
    excluded: bool = False
    version: int = 1
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    # Export progress: the issue this ticket became, or why Jira refused it and who can fix that.
    jira_key: str | None = Field(default=None, max_length=64)
    jira_id: str | None = Field(default=None, max_length=32)
    export_error: str | None = Field(default=None, max_length=2048)
    export_error_who: str | None = Field(default=None, max_length=32)
    attachments_done: bool = False
    # Review: who the director assigned (a Jira account id, and its display name for the page).
    assignee_account_id: str | None = Field(default=None, max_length=128)
    assignee_name: str | None = Field(default=None, max_length=255)
    # Review progress: the director went through this ticket (and who did, as a Jira account id).
    reviewed: bool = False
    reviewed_by: str | None = Field(default=None, max_length=128)


class ExportLink(SQLModel, table=True):
    """A Jira link the export created (`done`) or sent without knowing the outcome yet (`sent`).

    `from_key` is the ticket that lists the link (`blocked_by` or `relates_to`), `to_key` the one it names.
    """

    __tablename__ = "export_links"
    __table_args__ = (UniqueConstraint("session_id", "kind", "from_key", "to_key", name="uq_export_links"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    session_id: int = Field(foreign_key="upload_sessions.id", index=True)
    kind: str = Field(max_length=16)
    from_key: str = Field(max_length=255)
    to_key: str = Field(max_length=255)
    state: str = Field(default="sent", max_length=16)
    updated_at: datetime = _timestamp()


class TenantSettings(SQLModel, table=True):
    """What a Jira admin configures for the site: the language model, the status mapping, default labels."""

    __tablename__ = "tenant_settings"

    tenant_id: int = Field(foreign_key="tenants.id", primary_key=True)
    llm_provider: str = Field(default="offline", max_length=32)
    llm_model: str = Field(default="", max_length=128)
    # Encrypted with the app's secret key; the page never shows it again, it can only be replaced.
    llm_api_key_encrypted: str | None = None
    llm_base_url: str | None = Field(default=None, max_length=1024)
    status_mapping: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    default_labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The spec describes a site that exists today: rows marked d exist whatever their parent's status says.
    existing_site: bool = False
    updated_by: str | None = Field(default=None, max_length=128)
    updated_at: datetime = _timestamp()


class ExportEpic(SQLModel, table=True):
    """The epic an export created for an area of a session (`epic_key` as in its issue property)."""

    __tablename__ = "export_epics"
    __table_args__ = (UniqueConstraint("session_id", "epic_key", name="uq_export_epics_session_key"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    session_id: int = Field(foreign_key="upload_sessions.id", index=True)
    epic_key: str = Field(max_length=255)
    jira_key: str = Field(max_length=64)
    jira_id: str = Field(max_length=32)
    created_at: datetime = _timestamp()


class ExportSettings(SQLModel, table=True):
    """How a Jira admin wants issues created: which issue types, epics per area or none, and values for the fields
    the project requires that Jira has no default for (by field id, as the admin typed them)."""

    __tablename__ = "export_settings"

    tenant_id: int = Field(foreign_key="tenants.id", primary_key=True)
    ticket_issue_type: str = Field(default="Task", max_length=255)
    area_issue_type: str = Field(default="Epic", max_length=255)
    epics_enabled: bool = True
    field_defaults: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str | None = Field(default=None, max_length=128)
    updated_at: datetime = _timestamp()


class AuditEvent(SQLModel, table=True):
    """Who (Jira account id) did what, when, in which tenant and session."""

    __tablename__ = "audit_events"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    # No foreign key: the events of a session outlive it (sessions are deleted after 7 idle days, events after 90).
    session_id: int | None = Field(default=None, index=True)
    account_id: str | None = Field(default=None, max_length=128)
    action: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )


class ExportSummary(SQLModel, table=True):
    """What is left of a finished export once its upload session has been deleted: the results summary."""

    __tablename__ = "export_summaries"
    # One per deleted session, so that two clean-ups racing on one session cannot both keep a summary.
    __table_args__ = (UniqueConstraint("session_id", name="uq_export_summaries_session"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    session_id: int
    project_key: str = Field(max_length=64)
    exported_at: datetime = _timestamp()
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _timestamp()


class WorkerHeartbeat(SQLModel, table=True):
    """A worker process that is alive: it rewrites `beat_at` every few seconds (`/readyz` reads the newest)."""

    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=255)
    host: str = Field(max_length=255)
    pid: int
    beat_at: datetime = _timestamp()


class ForgeInstallation(SQLModel, table=True):
    """One installation of the Forge app on a site; its tenant is found again by `cloud_id` after a reinstall.

    The newest system token (`x-forge-oauth-system`) is kept encrypted with its expiry: workers call Jira with it
    long after the invocation that brought it has ended.
    """

    __tablename__ = "forge_installations"

    id: int | None = Field(default=None, primary_key=True)
    installation_id: str = Field(max_length=255, unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenants.id", index=True)
    cloud_id: str = Field(max_length=255, index=True)
    site_url: str = Field(max_length=1024)
    api_base_url: str = Field(max_length=1024)
    system_token_encrypted: str | None = None
    system_token_expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    installed_at: datetime = _timestamp()
    last_invoked_at: datetime = _timestamp()
    uninstalled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
