"""Forge installations: the only repository that sees Forge system tokens, and only encrypted.

A Forge tenant is a `tenants` row keyed `forge:{cloudId}`: the cloudId is stable across reinstalls (the
installationId is not), so a site that reinstalls finds its sessions again, and retention purges it like any tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from secrets import token_urlsafe

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.engine import SessionFactory
from app.db.models import ForgeInstallation, Task, Tenant, UploadSession, utcnow
from app.domain.forge import FORGE_CLIENT_KEY_PREFIX, ForgeInvocationSite, ForgeSite, OAuthToken
from app.encryption import SecretBox


def forge_client_key(cloud_id: str) -> str:
    return FORGE_CLIENT_KEY_PREFIX + cloud_id


def is_forge_client_key(client_key: str) -> bool:
    return client_key.startswith(FORGE_CLIENT_KEY_PREFIX)


class ForgeInstallationRepository:
    def __init__(self, sessions: SessionFactory, secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    def record_invocation(self, site: ForgeInvocationSite, system_token: OAuthToken | None) -> ForgeSite | None:
        """Store the installation (and its tenant) on first sight and keep the newest system token.

        None when this installation was uninstalled: its calls are refused from then on (a reinstall brings a new
        installationId). Two first calls at once: the loser of the insert race reads the winner's row.
        """
        for _ in range(2):
            try:
                return self._record(site, system_token)
            except IntegrityError:
                continue
        return self._record(site, system_token)

    def _record(self, site: ForgeInvocationSite, system_token: OAuthToken | None) -> ForgeSite | None:
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation).where(ForgeInstallation.installation_id == site.installation_id)
            ).first()
            if row is not None and row.uninstalled_at is not None:
                return None
            now = utcnow()
            if row is None:
                tenant = _tenant_for(session, site, self._secrets)
                assert tenant.id is not None
                row = ForgeInstallation(
                    installation_id=site.installation_id,
                    tenant_id=tenant.id,
                    cloud_id=site.cloud_id,
                    site_url=site.site_url,
                    api_base_url=site.api_base_url,
                )
            row.site_url = site.site_url
            row.api_base_url = site.api_base_url
            row.last_invoked_at = now
            if system_token is not None and _newer(system_token, row.system_token_expires_at):
                row.system_token_encrypted = self._secrets.encrypt(system_token.value)
                row.system_token_expires_at = datetime.fromtimestamp(system_token.expires_at, UTC)
            session.add(row)
            session.commit()
            session.refresh(row)
            return _site(row)

    def find(self, installation_id: str) -> ForgeSite | None:
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation).where(
                    ForgeInstallation.installation_id == installation_id,
                    col(ForgeInstallation.uninstalled_at).is_(None),
                )
            ).first()
            return None if row is None else _site(row)

    def active_site(self, tenant_id: int) -> ForgeSite | None:
        """The tenant's newest active installation (a reinstall leaves the old one behind until preUninstall)."""
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation)
                .where(ForgeInstallation.tenant_id == tenant_id, col(ForgeInstallation.uninstalled_at).is_(None))
                .order_by(col(ForgeInstallation.installed_at).desc())
            ).first()
            return None if row is None else _site(row)

    def newest_system_token(self, tenant_id: int) -> OAuthToken | None:
        """The system token of this tenant's active installation that lives longest; never another tenant's."""
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation)
                .where(
                    ForgeInstallation.tenant_id == tenant_id,
                    col(ForgeInstallation.uninstalled_at).is_(None),
                    col(ForgeInstallation.system_token_encrypted).is_not(None),
                )
                .order_by(col(ForgeInstallation.system_token_expires_at).desc())
            ).first()
            if row is None or row.system_token_encrypted is None or row.system_token_expires_at is None:
                return None
            expires = _aware(row.system_token_expires_at)
            return OAuthToken(self._secrets.decrypt(row.system_token_encrypted), int(expires.timestamp()))

    def active_installation_ids(self, tenant_id: int) -> list[str]:
        with self._sessions() as session:
            return list(
                session.exec(
                    select(ForgeInstallation.installation_id).where(
                        ForgeInstallation.tenant_id == tenant_id, col(ForgeInstallation.uninstalled_at).is_(None)
                    )
                )
            )

    def link_to_connect_tenant(self, installation_id: str, connect_client_key: str) -> ForgeSite | None:
        """Make the Connect tenant of `connect_client_key` this site's one tenant: every installation of the site's
        cloudId points to it (reinstalls included), and the Forge-only tenant made at first sight is retired.

        None (nothing changed) when there is no such active Connect tenant, or when the Forge-only tenant already
        holds sessions or tasks of its own: one history is never split or merged silently.
        """
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation).where(ForgeInstallation.installation_id == installation_id)
            ).first()
            connect = session.exec(select(Tenant).where(Tenant.client_key == connect_client_key)).first()
            if row is None or connect is None or connect.id is None or not connect.is_active:
                return None
            if connect_client_key.startswith(FORGE_CLIENT_KEY_PREFIX):
                return None
            if connect.cloud_id is not None and connect.cloud_id != row.cloud_id:
                return None  # Jira named the Connect install of another site: never join two sites' histories
            current = session.get(Tenant, row.tenant_id)
            if current is not None and current.id != connect.id:
                if _has_history(session, row.tenant_id):
                    return None
                current.uninstalled_at = current.uninstalled_at or utcnow()  # empty: purged like any uninstall
                session.add(current)
            for other in session.exec(select(ForgeInstallation).where(ForgeInstallation.cloud_id == row.cloud_id)):
                other.tenant_id = connect.id
                session.add(other)
            connect.cloud_id = row.cloud_id
            session.add(connect)
            session.commit()
            session.refresh(row)
            return _site(row)

    def keep_site_after_connect_left(self, connect_client_key: str) -> bool:
        """The Connect app left a site whose Forge app stays (a site moving to Forge): its tenant, history and all,
        becomes the site's Forge tenant, reached through Forge tokens only (Jira is called with the system token, and
        no Connect token verifies any more: its shared secret is replaced by one nobody knows). False, changing
        nothing, when no Forge installation of the tenant is active, or when the site's own Forge tenant holds a
        history that would be split; the Connect uninstall then ends the tenant as before.
        """
        with self._sessions() as session:
            tenant = session.exec(select(Tenant).where(Tenant.client_key == connect_client_key)).first()
            if tenant is None or tenant.id is None or connect_client_key.startswith(FORGE_CLIENT_KEY_PREFIX):
                return False
            staying = session.exec(
                select(ForgeInstallation)
                .where(ForgeInstallation.tenant_id == tenant.id, col(ForgeInstallation.uninstalled_at).is_(None))
                .order_by(col(ForgeInstallation.last_invoked_at).desc())
            ).first()
            if staying is None:
                return False
            forge_key = forge_client_key(staying.cloud_id)
            retired = session.exec(select(Tenant).where(Tenant.client_key == forge_key)).first()
            if retired is not None and retired.id is not None:
                if _has_history(session, retired.id):
                    return False
                # The empty Forge-only tenant linking retired: it keeps its purge date under a name nobody signs with.
                retired.client_key = f"{forge_key}#retired-{retired.id}"
                retired.uninstalled_at = retired.uninstalled_at or utcnow()
                session.add(retired)
                session.flush()
            tenant.client_key = forge_key
            tenant.shared_secret_encrypted = self._secrets.encrypt(token_urlsafe(32))
            tenant.base_url = staying.api_base_url
            tenant.display_url = staying.site_url
            tenant.updated_at = utcnow()
            session.add(tenant)
            session.commit()
            return True

    def mark_uninstalled(self, installation_id: str) -> bool:
        """Idempotent. The tenant is marked uninstalled too (the 30-day purge) once no installation of it is left."""
        with self._sessions() as session:
            row = session.exec(
                select(ForgeInstallation).where(ForgeInstallation.installation_id == installation_id)
            ).first()
            if row is None:
                return False
            if row.uninstalled_at is None:
                row.uninstalled_at = utcnow()
                row.system_token_encrypted = None  # a token of an uninstalled app is of no further use
                session.add(row)
                session.flush()
            others = session.exec(
                select(ForgeInstallation.id).where(
                    ForgeInstallation.tenant_id == row.tenant_id, col(ForgeInstallation.uninstalled_at).is_(None)
                )
            ).first()
            tenant = session.get(Tenant, row.tenant_id)
            if others is None and tenant is not None and tenant.uninstalled_at is None:
                tenant.uninstalled_at = utcnow()
                tenant.updated_at = tenant.uninstalled_at
                session.add(tenant)
            session.commit()
            return True


def _has_history(session: Session, tenant_id: int) -> bool:
    sessions = session.exec(select(UploadSession.id).where(UploadSession.tenant_id == tenant_id)).first()
    tasks = session.exec(select(Task.id).where(Task.tenant_id == tenant_id)).first()
    return sessions is not None or tasks is not None


def _tenant_for(session: Session, site: ForgeInvocationSite, secrets: SecretBox) -> Tenant:
    # A site linked to its Connect tenant keeps that tenant across reinstalls (a new installationId each time).
    linked = session.exec(
        select(Tenant)
        .join(ForgeInstallation, col(ForgeInstallation.tenant_id) == col(Tenant.id))
        .where(
            ForgeInstallation.cloud_id == site.cloud_id,
            col(Tenant.client_key).not_like(f"{FORGE_CLIENT_KEY_PREFIX}%"),
            col(Tenant.uninstalled_at).is_(None),
        )
    ).first()
    if linked is not None:
        return linked
    client_key = forge_client_key(site.cloud_id)
    tenant = session.exec(select(Tenant).where(Tenant.client_key == client_key)).first()
    if tenant is None:
        # A Forge tenant signs nothing with a shared secret; a random one nobody knows fills the column, so no Connect
        # token can ever verify against it.
        unknown_secret = secrets.encrypt(token_urlsafe(32))
        tenant = Tenant(client_key=client_key, shared_secret_encrypted=unknown_secret, base_url=site.api_base_url)
    tenant.base_url = site.api_base_url
    tenant.display_url = site.site_url
    tenant.cloud_id = site.cloud_id
    tenant.uninstalled_at = None
    tenant.enabled = True
    tenant.updated_at = utcnow()
    session.add(tenant)
    session.flush()
    return tenant


def _newer(token: OAuthToken, stored_expiry: datetime | None) -> bool:
    return stored_expiry is None or token.expires_at > _aware(stored_expiry).timestamp()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _site(row: ForgeInstallation) -> ForgeSite:
    return ForgeSite(
        tenant_id=row.tenant_id,
        installation_id=row.installation_id,
        cloud_id=row.cloud_id,
        site_url=row.site_url,
        api_base_url=row.api_base_url,
        installed_at=_aware(row.installed_at).timestamp(),
        last_invoked_at=_aware(row.last_invoked_at).timestamp(),
    )
