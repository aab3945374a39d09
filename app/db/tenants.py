"""Tenants (Connect installations): the only repository that sees shared secrets, and only encrypted."""

from __future__ import annotations

from sqlmodel import select

from app.db.engine import SessionFactory
from app.db.models import Tenant, utcnow
from app.db.tenant_cache import LocalVersions, TenantVersions
from app.domain.installation import Installation, InstallPayload
from app.encryption import SecretBox


class TenantRepository:
    def __init__(self, sessions: SessionFactory, secrets: SecretBox, versions: TenantVersions | None = None) -> None:
        self._sessions = sessions
        self._secrets = secrets
        # Bumped after every committed change, so every process's TenantCache drops what it holds.
        self.versions = versions or LocalVersions()

    def find(self, client_key: str, *, include_uninstalled: bool = False) -> Installation | None:
        with self._sessions() as session:
            tenant = session.exec(select(Tenant).where(Tenant.client_key == client_key)).first()
            if tenant is None or (not include_uninstalled and not tenant.is_active):
                return None
            return self._to_installation(tenant)

    def get(self, tenant_id: int, *, include_uninstalled: bool = False) -> Installation | None:
        """By id, for workers that were handed a tenant's task."""
        with self._sessions() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None or (not include_uninstalled and not tenant.is_active):
                return None
            return self._to_installation(tenant)

    def save_installed(self, payload: InstallPayload) -> Installation:
        """Create the tenant, or on a re-install take the new shared secret and reactivate it."""
        with self._sessions() as session:
            tenant = session.exec(select(Tenant).where(Tenant.client_key == payload.client_key)).first()
            if tenant is None:
                tenant = Tenant(client_key=payload.client_key, shared_secret_encrypted="", base_url=payload.base_url)
            tenant.shared_secret_encrypted = self._secrets.encrypt(payload.shared_secret)
            tenant.base_url = payload.base_url
            tenant.display_url = payload.display_url
            tenant.product_type = payload.product_type
            tenant.description = payload.description[:1024]
            tenant.cloud_id = payload.cloud_id
            tenant.uninstalled_at = None
            tenant.enabled = True
            tenant.updated_at = utcnow()
            session.add(tenant)
            session.commit()
            session.refresh(tenant)
            installation = self._to_installation(tenant)
        self.versions.bump()
        return installation

    def mark_uninstalled(self, client_key: str) -> bool:
        """Idempotent: a second uninstall changes nothing and still reports success."""
        with self._sessions() as session:
            tenant = session.exec(select(Tenant).where(Tenant.client_key == client_key)).first()
            if tenant is None:
                return False
            if tenant.uninstalled_at is None:
                tenant.uninstalled_at = utcnow()
                tenant.updated_at = tenant.uninstalled_at
                session.add(tenant)
                session.commit()
                self.versions.bump()
            return True

    def set_enabled(self, client_key: str, enabled: bool) -> None:
        with self._sessions() as session:
            tenant = session.exec(select(Tenant).where(Tenant.client_key == client_key)).first()
            if tenant is not None and tenant.enabled != enabled:
                tenant.enabled = enabled
                tenant.updated_at = utcnow()
                session.add(tenant)
                session.commit()
                self.versions.bump()

    def _to_installation(self, tenant: Tenant) -> Installation:
        assert tenant.id is not None
        return Installation(
            id=tenant.id,
            client_key=tenant.client_key,
            base_url=tenant.base_url,
            display_url=tenant.display_url or tenant.base_url,
            shared_secret=self._secrets.decrypt(tenant.shared_secret_encrypted),
            enabled=tenant.enabled,
            active=tenant.is_active,
        )
