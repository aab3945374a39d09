"""The composition root: everything a request, an actor or a command needs, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from dramatiq.rate_limits import RateLimiterBackend
from dramatiq.rate_limits.backends import RedisBackend, StubBackend
from sqlalchemy.engine import Engine

from app.connect.verifiers import ContextTokenVerifier, InstallTokenVerifier, RequestTokenVerifier
from app.db.audit import AuditRepository
from app.db.engine import SessionFactory, create_db_engine, session_factory
from app.db.export_settings import ExportSettingsRepository
from app.db.exports import ExportRepository
from app.db.forge_installations import ForgeInstallationRepository, is_forge_client_key
from app.db.heartbeats import HeartbeatRepository
from app.db.retention import RetentionRepository
from app.db.sessions import SessionRepository
from app.db.tasks import TaskRepository
from app.db.tenant_cache import LocalVersions, RedisVersions, TenantCache
from app.db.tenant_settings import TenantSettingsRepository
from app.db.tenants import TenantRepository
from app.db.tickets import TicketRepository
from app.domain.installation import Installation
from app.encryption import SecretBox
from app.forge.invocation import InvocationTokenVerifier
from app.forge.keys import ForgeKeySet
from app.jira.people import DisplayNames
from app.jira.permissions import AdminCheck
from app.offload import TenantSlots, offload
from app.pipeline.jobs import JobQueue
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: SessionFactory
    http: httpx.AsyncClient
    tenants: TenantRepository
    forge_installations: ForgeInstallationRepository
    tasks: TaskRepository
    sessions: SessionRepository
    tickets: TicketRepository
    tenant_settings: TenantSettingsRepository
    export_settings: ExportSettingsRepository
    exports: ExportRepository
    audit: AuditRepository
    retention: RetentionRepository
    heartbeats: HeartbeatRepository
    install_verifier: InstallTokenVerifier
    request_verifier: RequestTokenVerifier
    context_verifier: ContextTokenVerifier
    # Forge Invocation Tokens on every call of the Forge front (keys from Forge's JWKS, cached).
    forge_verifier: InvocationTokenVerifier
    jobs: JobQueue
    # Where the per-tenant pace of Jira calls is counted: Redis, shared by every worker, or in this process.
    rate_limits: RateLimiterBackend
    # Who is a Jira admin, per site and account, remembered for a minute (the configure page asks on every call).
    admin_check: AdminCheck
    # Jira display names for stored account ids, remembered for ten minutes per site.
    display_names: DisplayNames
    # Tenants by clientKey for the token verifiers, dropped everywhere when any tenant changes.
    tenant_cache: TenantCache
    # CPU-heavy work (intake, graph layout, the spec download) per tenant at once, so no tenant starves the others.
    heavy: TenantSlots = field(default_factory=TenantSlots)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.tenant_cache.aclose()
        self.engine.dispose()


def build_services(settings: Settings, jobs: JobQueue, *, http: httpx.AsyncClient | None = None) -> Services:
    engine = create_db_engine(settings.database_url)
    db = session_factory(engine)
    secrets = SecretBox(settings.secret_key)
    versions = RedisVersions(settings.redis_url) if settings.redis_url else LocalVersions()
    tenants = TenantRepository(db, secrets, versions)
    http = http or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))

    async def load(client_key: str) -> Installation | None:
        return await offload(tenants.find, client_key)

    # Verifying a token costs no query and no decryption while the tenant is cached; any change to any tenant, in
    # any process, empties every process's cache before its next lookup (see app/db/tenant_cache.py).
    cache = TenantCache(load, versions)

    async def find_active(client_key: str) -> Installation | None:
        if is_forge_client_key(client_key):  # Forge tenants are reached through Forge tokens only
            return None
        return await cache.find(client_key)

    return Services(
        settings=settings,
        engine=engine,
        db=db,
        http=http,
        tenants=tenants,
        forge_installations=ForgeInstallationRepository(db, secrets),
        tasks=TaskRepository(db),
        sessions=SessionRepository(db),
        tickets=TicketRepository(db),
        tenant_settings=TenantSettingsRepository(db, secrets),
        export_settings=ExportSettingsRepository(db),
        exports=ExportRepository(db),
        audit=AuditRepository(db),
        retention=RetentionRepository(db),
        heartbeats=HeartbeatRepository(db),
        install_verifier=InstallTokenVerifier(
            keys_url=settings.connect_install_keys_url,
            app_base_url=settings.base_url,
            http=http,
            max_lifetime_s=settings.jwt_max_lifetime_s,
        ),
        request_verifier=RequestTokenVerifier(
            app_base_url=settings.base_url, lookup=find_active, max_lifetime_s=settings.jwt_max_lifetime_s
        ),
        context_verifier=ContextTokenVerifier(
            app_base_url=settings.base_url, lookup=find_active, max_lifetime_s=settings.jwt_max_lifetime_s
        ),
        forge_verifier=forge_verifier(settings, http),
        jobs=jobs,
        rate_limits=RedisBackend(url=settings.redis_url) if settings.redis_url else StubBackend(),
        admin_check=AdminCheck(http, settings.app_key),
        display_names=DisplayNames(http, settings.app_key),
        tenant_cache=cache,
    )


@dataclass
class CleanupServices:
    """What the clean-up needs, for the scheduler that runs it itself (no Redis, so no workers to send it to)."""

    retention: RetentionRepository
    heartbeats: HeartbeatRepository


def build_cleanup_services(settings: Settings) -> CleanupServices:
    db = session_factory(create_db_engine(settings.database_url))
    return CleanupServices(retention=RetentionRepository(db), heartbeats=HeartbeatRepository(db))


def forge_verifier(settings: Settings, http: httpx.AsyncClient) -> InvocationTokenVerifier:
    isolated = settings.forge_isolated_cloud_jwks_url
    return InvocationTokenVerifier(
        app_id=settings.forge_app_id,
        keys=ForgeKeySet(settings.forge_jwks_url, http),
        isolated_cloud_keys=ForgeKeySet(isolated, http) if isolated else None,
    )
