"""The module pages Jira frames. Query parameters are covered by the token's `qsh`, so they can be trusted.

The Forge front hosts only static Custom UI files, so it asks for the same pages as JSON (`GET /api/pages/{name}`):
the same template's `content` block, rendered for the caller's context (the FIT's project or issue).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from app.container import Services
from app.errors import NotFoundError
from app.offload import offload
from app.pipeline.configuration import settings_view
from app.pipeline.glance import issue_glance as glance_of
from app.pipeline.ports import Scope
from app.pipeline.queries import find_session, session_contents
from app.web.admin import require_admin
from app.web.contexts import ConfigurePage, GlancePage, PageContext
from app.web.headers import module_page_headers
from app.web.routing import Auth, SecuredRoute
from app.web.session_api import session_name

PageBuilder = Callable[[Request, PageContext], Awaitable[tuple[str, PageContext]]]


def _render(request: Request, template: str, page: PageContext) -> Response:
    services = request.state.services
    headers = module_page_headers(request.state.identity.installation, services.settings)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"page": page}, headers=headers)


async def _project(request: Request, page: PageContext) -> tuple[str, PageContext]:
    return "project.html", page


async def _glance(request: Request, page: PageContext) -> tuple[str, PageContext]:
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
    return "glance.html", GlancePage(**vars(page), glance=glance, names=names, session_name=label)


def _session_label(services: Services, tenant_id: int, session_id: int) -> str:
    upload = find_session(services, tenant_id, session_id)
    return session_name(upload, session_contents(services, Scope(tenant_id, session_id)).files)


async def _configure(request: Request, page: PageContext) -> tuple[str, PageContext]:
    await require_admin(request)
    view = await offload(settings_view, request.state.services, request.state.identity.installation.id)
    return "configure.html", ConfigurePage(**vars(page), settings=view)


# name -> (title, how its template and context are made); the Forge resources are named the same.
PAGES: dict[str, tuple[str, PageBuilder]] = {
    "project": ("Drupal spec to tickets", _project),
    "glance": ("Drupal spec", _glance),
    "configure": ("Settings", _configure),
}


async def _page(request: Request, name: str) -> Response:
    title, build = PAGES[name]
    template, page = await build(request, PageContext.from_request(request, title=title))
    return _render(request, template, page)


async def project_page(request: Request) -> Response:
    return await _page(request, "project")


async def issue_glance(request: Request) -> Response:
    return await _page(request, "glance")


async def configure_page(request: Request) -> Response:
    return await _page(request, "configure")


async def page_content(request: Request) -> Response:
    """`GET /api/pages/{name}`: `{"title", "html"}`, the page's content block for a Custom UI page to show."""
    name = request.path_params["name"]
    if name not in PAGES:
        raise NotFoundError(f"There is no page {name!r}.")
    title, build = PAGES[name]
    template, page = await build(request, PageContext.from_identity(request, title=title))
    templates: Jinja2Templates = request.app.state.templates
    compiled = templates.get_template(template)
    context = compiled.new_context({"request": request, "page": page})
    html = "".join(compiled.blocks["content"](context))
    return JSONResponse({"title": page.title, "html": html}, headers={"Cache-Control": "no-store"})


def routes() -> list[SecuredRoute]:
    return [
        SecuredRoute("/jira/project", project_page, auth=Auth.JIRA_REQUEST),
        SecuredRoute("/jira/glance", issue_glance, auth=Auth.JIRA_REQUEST),
        SecuredRoute("/jira/configure", configure_page, auth=Auth.JIRA_REQUEST),
        SecuredRoute("/api/pages/{name}", page_content, auth=Auth.CONTEXT),
    ]
