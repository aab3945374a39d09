"""The tables. Every row that belongs to a tenant carries `tenant_id`, and every query filters on it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(**kwargs: object) -> object:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False), **kwargs)


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
    installed_at: datetime = _timestamp()  # type: ignore[assignment]
    updated_at: datetime = _timestamp()  # type: ignore[assignment]
    uninstalled_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))

    @property
    def is_active(self) -> bool:
        return self.uninstalled_at is None


class Task(SQLModel, table=True):
    """A unit of background work with its progress, so the web app can show and resume it."""

    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int | None = Field(default=None, foreign_key="tenants.id", index=True)
    kind: str = Field(max_length=64)
    state: str = Field(default="queued", max_length=32)
    done: int = 0
    total: int = 0
    message: str = Field(default="", max_length=2048)
    created_at: datetime = _timestamp()  # type: ignore[assignment]
    updated_at: datetime = _timestamp()  # type: ignore[assignment]
