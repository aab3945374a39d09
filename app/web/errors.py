"""One place that turns exceptions into safe answers: JSON for the API and callbacks, HTML for pages."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from app.errors import AppError

log = logging.getLogger(__name__)

_JSON_PREFIXES = ("/api/", "/installed", "/uninstalled", "/enabled", "/disabled", "/forge/")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(_JSON_PREFIXES) or "application/json" in request.headers.get("accept", "")


def _render(
    request: Request, status: int, title: str, message: str, details: dict[str, object] | None = None
) -> Response:
    if _wants_json(request):
        # `details` are structured facts the page can show (e.g. the tickets of a refused cycle).
        error = {"status": status, "title": title, "message": message, **({"details": details} if details else {})}
        return JSONResponse({"error": error}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    log.info("request refused: %s %s -> %s %s", request.method, request.url.path, exc.status_code, type(exc).__name__)
    title = "Not signed in" if exc.status_code == 401 else "Something needs attention"
    return _render(request, exc.status_code, title, exc.message, getattr(exc, "details", None))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _render(request, exc.status_code, "Not available", exc.detail or "This address does not exist.")


async def unexpected_error(request: Request, exc: Exception) -> Response:
    # The cause goes to the log only; the person sees a plain message and no internals.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _render(request, 500, "Something went wrong", "An unexpected error happened. Please try again in a minute.")


EXCEPTION_HANDLERS = {AppError: app_error, HTTPException: http_error, Exception: unexpected_error}
