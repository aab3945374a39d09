"""The configure page's export settings: issue types for tickets and areas, epics on or off, required field values.

Others call::

    ExportSettingsForm.from_json(body) -> ExportSettingsForm      # raises SettingsValidationError
    save_export_settings(ports, tenant_id=..., account_id=..., form=...) -> StoredExportSettings
    await project_fields(jira, project_key, settings) -> dict     # what a project requires, for the form
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from app.db.audit import AuditRepository
from app.db.export_settings import ExportSettingsRepository, StoredExportSettings
from app.domain.jira_limits import ISSUE_TYPE_NAME_MAX, SHORT_TEXT_MAX
from app.pipeline.configuration import SettingsValidationError
from app.pipeline.project_fit import FIELDS_WE_SET, TICKET_TYPES, CreateMeta, check_project_fit

FIELD_ID = re.compile(r"^[a-z][A-Za-z0-9_]{0,63}$")
MAX_FIELD_DEFAULTS = 50


class ExportSettingsPorts(Protocol):
    export_settings: ExportSettingsRepository
    audit: AuditRepository


@dataclass(frozen=True)
class ExportSettingsForm:
    ticket_issue_type: str
    area_issue_type: str
    epics_enabled: bool
    field_defaults: dict[str, str]

    @classmethod
    def from_json(cls, body: object) -> ExportSettingsForm:
        """Raises: SettingsValidationError with a message the admin can act on."""
        if not isinstance(body, dict):
            raise SettingsValidationError("Send the export settings as a JSON object.")
        ticket_type = body.get("ticketIssueType", "Task")
        if ticket_type not in TICKET_TYPES:
            raise SettingsValidationError(
                f"Tickets can be created as {' or '.join(TICKET_TYPES)}, not {ticket_type!r}."
            )
        area_type = body.get("areaIssueType", "Epic")
        if not isinstance(area_type, str) or not area_type.strip():
            raise SettingsValidationError("The issue type for areas must be a name such as 'Epic'.")
        if len(area_type.strip()) > ISSUE_TYPE_NAME_MAX:
            raise SettingsValidationError(f"Jira's issue type names have at most {ISSUE_TYPE_NAME_MAX} characters.")
        epics = body.get("epicsEnabled", True)
        if not isinstance(epics, bool):
            raise SettingsValidationError("epicsEnabled must be true or false.")
        return cls(ticket_type, area_type.strip(), epics, _field_defaults(body.get("fieldDefaults")))


def stored_export_settings(ports: ExportSettingsPorts, tenant_id: int) -> StoredExportSettings:
    """The tenant's export settings (the defaults until an admin saves some)."""
    return ports.export_settings.get(tenant_id)


def save_export_settings(
    ports: ExportSettingsPorts, *, tenant_id: int, account_id: str | None, form: ExportSettingsForm
) -> StoredExportSettings:
    """Store the form and record who changed what in the audit trail."""
    saved = ports.export_settings.save(
        tenant_id,
        StoredExportSettings(
            ticket_issue_type=form.ticket_issue_type,
            area_issue_type=form.area_issue_type,
            epics_enabled=form.epics_enabled,
            field_defaults=form.field_defaults,
            updated_by=account_id,
        ),
    )
    ports.audit.record(
        tenant_id=tenant_id, session_id=None, account_id=account_id, action="configured_export", detail=asdict(saved)
    )
    return saved


def export_settings_json(settings: StoredExportSettings) -> dict[str, Any]:
    return {
        "ticketIssueType": settings.ticket_issue_type,
        "areaIssueType": settings.area_issue_type,
        "epicsEnabled": settings.epics_enabled,
        "fieldDefaults": settings.field_defaults,
        "updatedBy": settings.updated_by,
    }


async def project_fields(jira: CreateMeta, project_key: str, settings: StoredExportSettings) -> dict[str, Any]:
    """For the configure page: the project's fit with these settings, and every field of the chosen issue types
    that the admin could give a value (required ones first), with its options.

    Raises: JiraError.
    """
    fit = await check_project_fit(jira, project_key, settings)
    fields: dict[str, dict[str, Any]] = {}
    for chosen in (t for t in (fit.ticket_type, fit.area_type) if t is not None):
        for meta in fit.screens[chosen.id]:
            if meta.field_id in FIELDS_WE_SET:
                continue
            entry = fields.setdefault(
                meta.field_id,
                {
                    "fieldId": meta.field_id,
                    "name": meta.name,
                    "type": meta.schema_.type,
                    "options": meta.allowed_names(),
                    "requiredOn": [],
                    "jiraHasDefault": meta.has_default_value,
                    "value": settings.field_defaults.get(meta.field_id, ""),
                },
            )
            if meta.required:
                entry["requiredOn"].append(chosen.name)
    ordered = sorted(fields.values(), key=lambda f: (not f["requiredOn"], f["name"].lower()))
    return {
        "projectKey": project_key,
        "ready": fit.ready,
        "ticketIssueType": fit.ticket_type.name if fit.ticket_type else None,
        "areaIssueType": fit.area_type.name if fit.area_type else None,
        "checks": [asdict(check) for check in fit.checks],
        "fields": ordered,
    }


def _field_defaults(value: object) -> dict[str, str]:
    """`{"customfield_10050": "Web", ...}`: field ids as Jira names them, short text values; blanks dropped."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_FIELD_DEFAULTS:
        raise SettingsValidationError(f"fieldDefaults must be an object of at most {MAX_FIELD_DEFAULTS} fields.")
    defaults: dict[str, str] = {}
    for field_id, text in value.items():
        if not isinstance(field_id, str) or not FIELD_ID.match(field_id):
            raise SettingsValidationError(f"{str(field_id)[:64]!r} is not a Jira field id (e.g. customfield_10050).")
        if field_id in FIELDS_WE_SET:
            raise SettingsValidationError(f"The app fills {field_id!r} itself; it needs no default.")
        if not isinstance(text, str) or len(text) > SHORT_TEXT_MAX:
            raise SettingsValidationError(
                f"The value for {field_id} must be text of at most {SHORT_TEXT_MAX} characters."
            )
        if text.strip():
            defaults[field_id] = text.strip()
    return defaults
