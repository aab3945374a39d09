"""The module pages Jira frames. Query parameters are covered by the token's `qsh`, so they can be trusted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.web.contexts import PageContext
from app.web.headers import module_page_headers


def _render(request: Request, template: str, page: PageContext) -> Response:
    services = request.state.services
    headers = module_page_headers(request.state.identity.installation, services.settings)
    return request.app.state.templates.TemplateResponse(request, template, {"page": page}, headers=headers)


async def project_page(request: Request) -> Response:
    return _render(request, "project.html", PageContext.from_request(request, title="Drupal spec to tickets"))


async def issue_glance(request: Request) -> Response:
    return _render(request, "glance.html", PageContext.from_request(request, title="Drupal spec"))


async def configure_page(request: Request) -> Response:
    return _render(request, "configure.html", PageContext.from_request(request, title="Settings"))
