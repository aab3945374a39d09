"""The sandbox's services, built once per app and reached from handlers as `request.app.state.sandbox`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from app.sandbox.config import SandboxConfig
from app.sandbox.faults import FaultInjector
from app.sandbox.forge.signing import ForgeSigner
from app.sandbox.forge.site import SandboxForge
from app.sandbox.installer import Installer
from app.sandbox.keys import InstallKeyPair
from app.sandbox.models import ADMIN_USER, ISSUE_TYPES, Project, SandboxUser, sample_projects, user_for_role
from app.sandbox.ratelimit import RateLimiter
from app.sandbox.stats import Stats
from app.sandbox.store import SandboxStore

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass
class SandboxRuntime:
    config: SandboxConfig
    store: SandboxStore
    keys: InstallKeyPair
    http: httpx.AsyncClient
    installer: Installer
    faults: FaultInjector
    limiter: RateLimiter | None
    stats: Stats
    templates: Jinja2Templates
    # The sandbox as Forge: used when the app is installed through its Forge front.
    forge: SandboxForge

    @classmethod
    def build(cls, config: SandboxConfig, http: httpx.AsyncClient | None = None) -> SandboxRuntime:
        main = Project(
            config.project_id,
            config.project_key,
            config.project_name,
            ADMIN_USER.account_id,
            issue_types=ISSUE_TYPES,
            links_on_create_screen=config.links_on_create_screen,
        )
        samples = [p for p in sample_projects(ADMIN_USER.account_id) if p.key != main.key and p.id != main.id]
        store = SandboxStore([main, *samples], config.state_dir)
        keys = InstallKeyPair.generate()
        http = http or httpx.AsyncClient(timeout=10.0)
        limiter = (
            RateLimiter(config.rate_limit_per_second, config.rate_limit_burst) if config.rate_limit_per_second else None
        )
        return cls(
            config=config,
            store=store,
            keys=keys,
            http=http,
            installer=Installer(config, store, keys, http),
            faults=FaultInjector(config.faults),
            limiter=limiter,
            stats=Stats(),
            templates=Jinja2Templates(directory=TEMPLATES_DIR),
            forge=SandboxForge(ForgeSigner(config.forge_app_id), config.cloud_id, config.public_url, http),
        )


def runtime_of(request: Request) -> SandboxRuntime:
    runtime: SandboxRuntime = request.app.state.sandbox
    return runtime


def user_of(request: Request) -> SandboxUser:
    """`?as=developer` acts as the non-admin developer; everything else as the admin."""
    return user_for_role(request.query_params.get("as"))
