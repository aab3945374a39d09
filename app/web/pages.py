"""The module pages Jira frames. Query parameters are covered by the token's `qsh`, so they can be trusted."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from app.container import Services
from app.offload import offload
from app.pipeline.configuration import settings_view
from app.pipeline.glance import issue_glance as glance_of
from app.pipeline.ports import Scope
from app.pipeline.queries import find_session, session_contents
from app.web.admin import require_admin
from app.web.contexts import ConfigurePage, GlancePage, PageContext
from app.web.headers import module_page_headers
from app.web.session_api import session_name


def _render(request: Request, template: str, page: PageContext) -> Response:
    services = request.state.services
    headers = module_page_headers(request.state.identity.installation, services.settings)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"page": page}, headers=headers)


async def project_page(request: Request) -> Response:
    return _render(request, "project.html", PageContext.from_request(request, title="Drupal spec to tickets"))


async def issue_glance(request: Request) -> Response:
    page = GlancePage.from_request(request, title="Drupal spec")
    glance = await offload(
        glance_of,
        request.state.services,
        tenant_id=request.state.identity.installation.id,
        jira_key=page.issue_key or "",
        site_url=page.site_url,
    )
    installation = request.state.identity.installation
    names = await request.state.services.display_names.names(installation, [glance.generated_by if glance else None])
    label = await offload(_session_label, request.state.services, installation.id, glance.session_id) if glance else ""
    return _render(request, "glance.html", replace(page, glance=glance, names=names, session_name=label))


def _session_label(services: Services, tenant_id: int, session_id: int) -> str:
    upload = find_session(services, tenant_id, session_id)
    return session_name(upload, session_contents(services, Scope(tenant_id, session_id)).files)


async def configure_page(request: Request) -> Response:
    await require_admin(request)
    view = await offload(settings_view, request.state.services, request.state.identity.installation.id)
    page = ConfigurePage.from_request(request, title="Settings")
    return _render(request, "configure.html", replace(page, settings=view))
