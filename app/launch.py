"""Entry-point composition: the web app with its broker (and embedded worker), and the demo beside the sandbox.

Only entry points (`app/cli.py`, this module) may import `workers/`; the rest of `app/` talks to it through the
`JobQueue` port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dramatiq
import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from starlette.applications import Starlette

from app.container import build_cleanup_services
from app.db.migrate import upgrade
from app.logs import configure_logging
from app.main import create_app
from app.pipeline.retention import run_cleanup
from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.runtime import SandboxRuntime
from app.scheduler import schedule_cleanup
from app.settings import Settings
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

# The embedded clean-up waits a little after start, so a restart loop does not run it again and again.
EMBEDDED_FIRST_CLEANUP = timedelta(minutes=5)


class EmbeddedBackground:
    """Without Redis the web process is the whole deployment: it runs the worker and the clean-up schedule."""

    def __init__(self, broker: dramatiq.Broker, settings: Settings) -> None:
        self.worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        schedule_cleanup(self.scheduler, broker.get_actor("cleanup").send, first_run_in=EMBEDDED_FIRST_CLEANUP)

    def start(self) -> None:
        self.worker.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.worker.stop()


def web_app(settings: Settings, broker: dramatiq.Broker | None = None) -> Starlette:
    """The app as `dtg serve` runs it: migrations applied on SQLite, a worker in-process without Redis.

    `broker`: one already configured, for callers that enqueue work themselves (the headless demo).
    """
    if settings.is_sqlite:
        upgrade(settings.database_url)
    broker = broker or configure_broker(settings)
    worker = None if settings.redis_url else EmbeddedBackground(broker, settings)
    return create_app(settings, DramatiqJobQueue(broker), worker=worker)


def web_process() -> Starlette:
    """One process of `dtg serve --processes N` (uvicorn starts each), with settings from the environment."""
    settings = Settings.from_env()
    configure_logging(settings, default_format="json")
    return web_app(settings)


def run_scheduler(settings: Settings) -> None:
    """`dtg scheduler`: enqueue the clean-up now and every hour for the workers, or run it here without Redis."""
    job: Callable[[], None]
    if settings.redis_url:
        job = configure_broker(settings).get_actor("cleanup").send
    else:
        cleanup = build_cleanup_services(settings)

        def job() -> None:
            run_cleanup(cleanup)

    scheduler = BlockingScheduler(timezone="UTC")
    schedule_cleanup(scheduler, job, first_run_in=timedelta(0))
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


def demo_environment(environ: Mapping[str, str], *, app_port: int, sandbox_port: int) -> dict[str, str]:
    """Settings that point the app at the sandbox; anything the operator set explicitly wins."""
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    defaults = {
        "DTG_BASE_URL": f"http://127.0.0.1:{app_port}",
        "DTG_CONNECT_INSTALL_KEYS_URL": f"{sandbox_url}/connect-install-keys",
        "DTG_JIRA_SITES": "127.0.0.1",
        "DTG_ALL_JS_URL": f"{sandbox_url}/atlassian-connect/all.js",
        "DTG_FRAME_ANCESTORS": sandbox_url,
        # The sandbox plays Forge too: its invocation tokens' keys, and its REST API as the tokens' apiBaseUrl.
        "DTG_FORGE_JWKS_URL": f"{sandbox_url}/_sandbox/forge/jwks.json",
        "DTG_FORGE_API_HOSTS": "127.0.0.1",
    }
    return {**defaults, **{k: v for k, v in environ.items() if k.startswith("DTG_")}}


class _QuietServer(uvicorn.Server):
    """A second server in the same loop: the first one owns the signal handlers and stops both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class DemoStack:
    """The sandbox and the app (with its embedded worker) served together in one event loop."""

    settings: Settings
    broker: dramatiq.Broker
    sandbox: Starlette
    sandbox_config: SandboxConfig
    app_server: uvicorn.Server
    sandbox_server: uvicorn.Server

    @property
    def project_url(self) -> str:
        return f"{self.sandbox_config.public_url}/projects/{self.sandbox_config.project_key}"

    async def serve(self) -> None:
        """Serve both until the app server stops (Ctrl+C, or `stop()`)."""

        async def run_app() -> None:
            try:
                await self.app_server.serve()
            finally:
                self.sandbox_server.should_exit = True

        await asyncio.gather(run_app(), self.sandbox_server.serve())

    def stop(self) -> None:
        self.app_server.should_exit = True

    async def installed_forge_tenant(self, timeout: float = 60.0) -> str | None:
        """The installationId once the sandbox has installed the Forge app (`forge_auto_install`), or None."""
        runtime: SandboxRuntime = self.sandbox.state.sandbox
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            forge = runtime.forge
            if forge.installation is not None and ("/forge/lifecycle", 200) in forge.calls:
                return forge.installation.installation_id
            await asyncio.sleep(0.1)
        return None

    async def installed_client_key(self, timeout: float = 60.0) -> str | None:
        """The clientKey once the sandbox has installed our app (it auto-installs at start), or None."""
        runtime: SandboxRuntime = self.sandbox.state.sandbox
        store = runtime.store
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            installation = store.installations.get(self.settings.app_key)
            if installation is not None and installation.installed:
                return installation.client_key
            await asyncio.sleep(0.1)
        return None


def demo_stack(
    settings: Settings, *, app_port: int, sandbox_port: int, sandbox_state_dir: Path | None, forge: bool = False
) -> DemoStack:
    """The servers of `dtg demo`, not started yet; `settings` should come from `demo_environment`.

    `forge`: the sandbox installs the Forge app (its lifecycle trigger) and frames its Custom UI, not Connect's.
    """
    sandbox_config = SandboxConfig(
        port=sandbox_port,
        app_url=settings.base_url,
        auto_install=not forge,
        forge_auto_install=forge,
        forge_app_id=settings.forge_app_id,
        state_dir=sandbox_state_dir,
    )
    sandbox = create_sandbox_app(sandbox_config)
    broker = configure_broker(settings)
    # log_config=None keeps the handlers configure_logging set (uvicorn would install its own).
    app_server = uvicorn.Server(
        uvicorn.Config(web_app(settings, broker), host="127.0.0.1", port=app_port, log_level="warning", log_config=None)
    )
    sandbox_server = _QuietServer(
        uvicorn.Config(sandbox, host="127.0.0.1", port=sandbox_port, log_level="warning", log_config=None)
    )
    return DemoStack(settings, broker, sandbox, sandbox_config, app_server, sandbox_server)


async def serve_demo(
    *, app_port: int, sandbox_port: int, on_ready: Callable[[str | None], None], forge: bool = False
) -> None:
    """Run the sandbox and the app (with its embedded worker) until interrupted; `on_ready` gets the page URL.

    `forge`: through the Forge front (the Custom UI must be built: `dtg forge-ui`).
    """
    settings = Settings.from_env(demo_environment(os.environ, app_port=app_port, sandbox_port=sandbox_port))
    configure_logging(settings, default_format="text")
    stack = demo_stack(
        settings,
        app_port=app_port,
        sandbox_port=sandbox_port,
        sandbox_state_dir=settings.data_dir / "sandbox",
        forge=forge,
    )

    async def announce() -> None:
        installed = await (stack.installed_forge_tenant() if forge else stack.installed_client_key())
        on_ready(stack.project_url if installed else None)

    await asyncio.gather(stack.serve(), announce())
