"""`create_app(settings, jobs)`: the Starlette application, its routes and its lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from app.connect.descriptor import render_descriptor
from app.container import Services, build_services
from app.pipeline.jobs import JobQueue
from app.settings import Settings
from app.web import (
    admin,
    api,
    export_api,
    forge,
    generation_api,
    lifecycle,
    ops_api,
    pages,
    panels,
    review_api,
    revision_api,
    session_api,
)
from app.web.body_limit import BodyLimitMiddleware
from app.web.errors import EXCEPTION_HANDLERS
from app.web.input_guard import ControlCharacterMiddleware
from app.web.request_id import RequestIdMiddleware
from app.web.routing import Auth, SecuredMount, SecuredRoute, check_policies

ROOT = Path(__file__).resolve().parents[1]


class BackgroundWorker(Protocol):
    """The in-process Dramatiq worker of the embedded mode (`dramatiq.Worker` fits)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


async def descriptor(request: Request) -> Response:
    settings = request.state.services.settings
    return JSONResponse(render_descriptor(base_url=settings.base_url, app_key=settings.app_key))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def routes() -> list[SecuredRoute | SecuredMount]:
    return [
        # First: `url_for('static', ...)` walks the routes in order, and a page asks for it about six times.
        SecuredMount("/static", app=StaticFiles(directory=ROOT / "app" / "static"), name="static"),
        SecuredRoute("/atlassian-connect.json", descriptor, auth=Auth.PUBLIC),
        SecuredRoute("/healthz", healthz, auth=Auth.PUBLIC),
        SecuredRoute("/readyz", ops_api.readyz, auth=Auth.PUBLIC),
        SecuredRoute("/installed", lifecycle.installed, auth=Auth.SIGNED_INSTALL, methods=["POST"]),
        SecuredRoute("/uninstalled", lifecycle.uninstalled, auth=Auth.SIGNED_INSTALL, methods=["POST"]),
        SecuredRoute("/enabled", lifecycle.enabled, auth=Auth.JIRA_REQUEST, methods=["POST"]),
        SecuredRoute("/disabled", lifecycle.disabled, auth=Auth.JIRA_REQUEST, methods=["POST"]),
        *pages.routes(),
        SecuredRoute("/api/me", api.whoami, auth=Auth.CONTEXT),
        *session_api.routes(),
        *generation_api.routes(),
        *review_api.routes(),
        *export_api.routes(),
        *revision_api.routes(),
        *panels.routes(),
        *admin.routes(),
        *ops_api.routes(),
        *forge.routes(),
    ]


def create_app(
    settings: Settings,
    jobs: JobQueue,
    *,
    services: Services | None = None,
    worker: BackgroundWorker | None = None,
) -> Starlette:
    """The web app; `services` may be passed in by tests, `worker` runs beside it in the embedded mode."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Services]]:
        owned = services is None
        current = services or build_services(settings, jobs)
        if worker is not None:
            worker.start()
        try:
            yield {"services": current}
        finally:
            if worker is not None:
                worker.stop()
            if owned:
                await current.aclose()

    app_routes = routes()
    check_policies(app_routes)
    app = Starlette(
        routes=app_routes,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(ControlCharacterMiddleware),
            Middleware(BodyLimitMiddleware),
        ],
    )
    app.state.templates = Jinja2Templates(directory=ROOT / "templates")
    return app
