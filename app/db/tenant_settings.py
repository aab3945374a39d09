"""What a Jira admin configured for a site. The language model's API key is only ever stored encrypted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.db.engine import SessionFactory
from app.db.models import TenantSettings, utcnow
from app.encryption import SecretBox


@dataclass(frozen=True)
class StoredSettings:
    """A tenant's saved settings, without the key itself; `configured` is False until an admin first saves."""

    provider: str = "offline"
    model: str = ""
    base_url: str | None = None
    has_api_key: bool = False
    status_mapping: dict[str, str] = field(default_factory=dict)
    default_labels: list[str] = field(default_factory=list)
    existing_site: bool = False
    updated_by: str | None = None
    updated_at: datetime | None = None
    configured: bool = False


class TenantSettingsRepository:
    def __init__(self, sessions: SessionFactory, secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    def get(self, tenant_id: int) -> StoredSettings:
        """The saved settings, or the defaults (nothing configured) when the admin never saved."""
        with self._sessions() as session:
            row = session.get(TenantSettings, tenant_id)
            return StoredSettings() if row is None else _stored(row)

    def api_key(self, tenant_id: int) -> str | None:
        """The decrypted key, for the provider call only: never return it from an API or log it."""
        with self._sessions() as session:
            row = session.get(TenantSettings, tenant_id)
            encrypted = row.llm_api_key_encrypted if row is not None else None
        return self._secrets.decrypt(encrypted) if encrypted else None

    def save(
        self,
        tenant_id: int,
        *,
        provider: str,
        model: str,
        base_url: str | None,
        status_mapping: dict[str, str],
        default_labels: list[str],
        updated_by: str | None,
        existing_site: bool = False,
        new_api_key: str | None = None,
        remove_api_key: bool = False,
    ) -> StoredSettings:
        """Replace the settings; the stored key is kept unless `new_api_key` replaces or `remove_api_key` drops it."""
        with self._sessions() as session:
            row = session.get(TenantSettings, tenant_id) or TenantSettings(tenant_id=tenant_id)
            row.llm_provider = provider
            row.llm_model = model
            row.llm_base_url = base_url
            row.status_mapping = status_mapping
            row.default_labels = default_labels
            row.existing_site = existing_site
            row.updated_by = updated_by
            row.updated_at = utcnow()
            if new_api_key:
                row.llm_api_key_encrypted = self._secrets.encrypt(new_api_key)
            elif remove_api_key:
                row.llm_api_key_encrypted = None
            session.add(row)
            session.commit()
            session.refresh(row)
            return _stored(row)


def _stored(row: TenantSettings) -> StoredSettings:
    return StoredSettings(
        provider=row.llm_provider,
        model=row.llm_model,
        base_url=row.llm_base_url,
        has_api_key=bool(row.llm_api_key_encrypted),
        status_mapping=dict(row.status_mapping),
        default_labels=list(row.default_labels),
        existing_site=row.existing_site,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        configured=True,
    )
