"""The module pages Jira frames. Query parameters are covered by the token's `qsh`, so they can be trusted."""

from __future__ import annotations

from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from app.pipeline.configuration import settings_view
from app.pipeline.glance import issue_glance as glance_of
from app.web.admin import require_admin
from app.web.contexts import ConfigurePage, GlancePage, PageContext
from app.web.headers import module_page_headers


def _render(request: Request, template: str, page: PageContext) -> Response:
    services = request.state.services
    headers = module_page_headers(request.state.identity.installation, services.settings)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"page": page}, headers=headers)


async def project_page(request: Request) -> Response:
    return _render(request, "project.html", PageContext.from_request(request, title="Drupal spec to tickets"))


async def issue_glance(request: Request) -> Response:
    page = GlancePage.from_request(request, title="Drupal spec")
    glance = await run_in_threadpool(
        glance_of,
        request.state.services,
        tenant_id=request.state.identity.installation.id,
        jira_key=page.issue_key or "",
        site_url=page.site_url,
    )
    installation = request.state.identity.installation
    names = await request.state.services.display_names.names(installation, [glance.generated_by if glance else None])
    return _render(request, "glance.html", replace(page, glance=glance, names=names))


async def configure_page(request: Request) -> Response:
    await require_admin(request)
    view = await run_in_threadpool(settings_view, request.state.services, request.state.identity.installation.id)
    page = ConfigurePage.from_request(request, title="Settings")
    return _render(request, "configure.html", replace(page, settings=view))
