"""How a site's admin wants issues created (issue types, epics, defaults for required fields)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.db.engine import SessionFactory
from app.db.models import ExportSettings, utcnow


@dataclass(frozen=True)
class StoredExportSettings:
    """The saved choice, or the defaults (Task tickets under Epic areas, no field defaults) until an admin saves."""

    ticket_issue_type: str = "Task"
    area_issue_type: str = "Epic"
    epics_enabled: bool = True
    field_defaults: dict[str, str] = field(default_factory=dict)
    updated_by: str | None = None


class ExportSettingsRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def get(self, tenant_id: int) -> StoredExportSettings:
        with self._sessions() as session:
            row = session.get(ExportSettings, tenant_id)
            return StoredExportSettings() if row is None else _stored(row)

    def save(self, tenant_id: int, settings: StoredExportSettings) -> StoredExportSettings:
        with self._sessions() as session:
            row = session.get(ExportSettings, tenant_id) or ExportSettings(tenant_id=tenant_id)
            row.ticket_issue_type = settings.ticket_issue_type
            row.area_issue_type = settings.area_issue_type
            row.epics_enabled = settings.epics_enabled
            row.field_defaults = dict(settings.field_defaults)
            row.updated_by = settings.updated_by
            row.updated_at = utcnow()
            session.add(row)
            session.commit()
            session.refresh(row)
            return _stored(row)


def _stored(row: ExportSettings) -> StoredExportSettings:
    return StoredExportSettings(
        ticket_issue_type=row.ticket_issue_type,
        area_issue_type=row.area_issue_type,
        epics_enabled=row.epics_enabled,
        field_defaults=dict(row.field_defaults),
        updated_by=row.updated_by,
    )
