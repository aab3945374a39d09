"""`create_sandbox_app(config)`: the Jira sandbox as a Starlette app, for `dtg sandbox`, `dtg demo` and tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.sandbox import control, pages
from app.sandbox.config import STATIC_DIR, SandboxConfig
from app.sandbox.errors import InstallError, SandboxError
from app.sandbox.forge import control as forge_control
from app.sandbox.keys import install_key
from app.sandbox.rest import rest_routes
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.gate import RestGate
from app.sandbox.runtime import SandboxRuntime

logger = logging.getLogger(__name__)


def create_sandbox_app(config: SandboxConfig, *, http_client: httpx.AsyncClient | None = None) -> Starlette:
    """The sandbox app; `http_client` is how it reaches the app under test (tests pass an ASGI transport).

    The runtime is built here, not in the lifespan, because `httpx.ASGITransport` runs no lifespan.
    """
    runtime = SandboxRuntime.build(config, http_client)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(install(runtime))
            for install, wanted in (
                (_auto_install, config.auto_install),
                (_auto_install_forge, config.forge_auto_install),
            )
            if wanted
        ]
        yield
        for task in tasks:
            task.cancel()
        await runtime.store.flush()  # the last changes, written at most half a second late otherwise
        if http_client is None:
            await runtime.http.aclose()

    routes = [
        Route("/", pages.index),
        Route("/projects/{key}", pages.project_page),
        Route("/projects/{key}/issues", pages.project_issues),
        Route("/browse/{key}", pages.issue_page),
        Route("/issues/", pages.issue_search),
        Route("/plugins/servlet/configure/{app_key}", pages.configure_page),
        Route("/jira/settings/apps/forge", pages.forge_admin_page),
        Route("/connect-install-keys/{kid}", install_key),
        Route("/_sandbox/install", control.install, methods=["POST"]),
        Route("/_sandbox/uninstall", control.uninstall, methods=["POST"]),
        Route("/_sandbox/installations", control.installations),
        Route("/_sandbox/context-token", control.context_token_endpoint, methods=["POST"]),
        Route("/_sandbox/faults", control.faults, methods=["GET", "POST"]),
        Route("/_sandbox/stats", control.stats),
        Route("/_sandbox/reset", control.reset, methods=["POST"]),
        Route("/_sandbox/attachments/{id}", control.attachment_download),
        Route("/_sandbox/issues/{key}/edit", control.edit_issue_as_person, methods=["POST"]),
        Route("/atlassian-connect/all.js", control.all_js),
        *forge_control.ROUTES,
        Mount("/_sandbox/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        *rest_routes,
    ]
    handlers = {SandboxError: control.sandbox_error, JiraRequestError: _jira_request_error}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.add_middleware(RestGate, runtime=runtime)
    app.state.sandbox = runtime
    return app


async def _jira_request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JiraRequestError)
    return exc.response()


async def _auto_install(runtime: SandboxRuntime) -> None:
    config = runtime.config
    try:
        installation = await runtime.installer.install_when_ready(config.descriptor_url, config.install_wait_seconds)
    except InstallError as exc:
        logger.error("could not install the app: %s", exc.message)
    else:
        logger.info("installed %s from %s", installation.app_key, config.descriptor_url)


async def _auto_install_forge(runtime: SandboxRuntime) -> None:
    """Install the Forge app once its lifecycle endpoint answers (the app may still be starting)."""
    config = runtime.config
    deadline = asyncio.get_running_loop().time() + config.install_wait_seconds
    while True:
        try:
            installation = await runtime.forge.install(config.app_url)
        except SandboxError as exc:
            if asyncio.get_running_loop().time() >= deadline:
                logger.error("could not install the Forge app: %s", exc.message)
                return
            await asyncio.sleep(0.5)
        else:
            logger.info("installed the Forge app (%s) from %s", installation.installation_id, config.app_url)
            return
