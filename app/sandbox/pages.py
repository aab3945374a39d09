"""Jira-like pages that host the app's modules in signed iframes: project page, issue view, configure page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.adf.html import adf_to_html
from app.sandbox.frames import Frame, module_frame
from app.sandbox.jql import JqlError, matcher, parse
from app.sandbox.models import LINK_TYPES, Installation, Issue, Project
from app.sandbox.rest.search import field_values
from app.sandbox.runtime import SandboxRuntime, runtime_of, user_of

PROJECT_PAGE = "jiraProjectPages"
ISSUE_GLANCE = "jiraIssueGlances"
CONFIGURE_PAGE = "configurePage"


def _apps_with(runtime: SandboxRuntime, module_type: str, app_key: str | None = None) -> list[Installation]:
    return [
        i
        for i in runtime.store.installations.values()
        if i.installed and i.enabled and i.module(module_type) and app_key in (None, i.app_key)
    ]


def _render(request: Request, template: str, status_code: int = 200, **context: object) -> Response:
    runtime = runtime_of(request)
    user = user_of(request)
    role = "developer" if not user.admin else "admin"
    context |= {
        "user": user,
        "role": role,
        "as_query": "" if user.admin else "?as=developer",
        "host_url": runtime.config.public_url,
        "projects": list(runtime.store.projects.values()),
        "installations": list(runtime.store.installations.values()),
    }
    return runtime.templates.TemplateResponse(request, template, context, status_code=status_code)


def _not_found(request: Request, what: str) -> Response:
    return _render(request, "not_found.html", status_code=404, what=what)


def _frame(
    request: Request,
    installation: Installation,
    module_type: str,
    project: Project | None = None,
    issue: Issue | None = None,
) -> Frame | None:
    host_url = runtime_of(request).config.public_url
    return module_frame(
        installation, module_type, host_url=host_url, user=user_of(request), project=project, issue=issue
    )


def issue_rows(runtime: SandboxRuntime, project: Project) -> list[dict[str, object]]:
    """What the issue list shows per issue: key, summary, labels, links (in words), attachment names."""
    types = {t.id: t for t in LINK_TYPES}
    rows = []
    for issue in runtime.store.project_issues(project):
        links = []
        for link in runtime.store.links_of(issue):
            link_type = types[link.type_id]
            if link.inward_issue_id == issue.id:
                other, verb = runtime.store.issues[link.outward_issue_id], link_type.outward
            else:
                other, verb = runtime.store.issues[link.inward_issue_id], link_type.inward
            links.append({"verb": verb, "key": other.key})
        attachments = [runtime.store.attachments[a].filename for a in issue.attachment_ids]
        rows.append({"issue": issue, "links": links, "attachments": attachments})
    return rows


async def index(request: Request) -> Response:
    return _render(request, "index.html")


async def project_page(request: Request) -> Response:
    """`/projects/{key}`: the app's project page in an iframe (`?app=` picks one of several apps)."""
    runtime = runtime_of(request)
    project = runtime.store.project(request.path_params["key"])
    if project is None:
        return _not_found(request, f"project {request.path_params['key']}")
    apps = _apps_with(runtime, PROJECT_PAGE, request.query_params.get("app"))
    frame = _frame(request, apps[0], PROJECT_PAGE, project=project) if apps else None
    return _render(request, "project.html", project=project, frame=frame, rows=issue_rows(runtime, project))


async def project_issues(request: Request) -> Response:
    runtime = runtime_of(request)
    project = runtime.store.project(request.path_params["key"])
    if project is None:
        return _not_found(request, f"project {request.path_params['key']}")
    return _render(request, "issues.html", project=project, rows=issue_rows(runtime, project))


async def issue_search(request: Request) -> Response:
    """`/issues/?jql=`: Jira's issue search page (the export's results link here), for the JQL the sandbox knows."""
    runtime = runtime_of(request)
    jql = request.query_params.get("jql", "")
    try:
        query = parse(jql)
    except JqlError as exc:
        return _render(request, "search.html", status_code=400, jql=jql, error=str(exc), rows=[])
    predicates = [matcher(clause, field_values(runtime.store)) for clause in query.clauses]
    found = {i.id for i in runtime.store.issues.values() if all(predicate(i) for predicate in predicates)}
    rows = [
        row
        for project in runtime.store.projects.values()
        for row in issue_rows(runtime, project)
        if getattr(row["issue"], "id", None) in found
    ]
    return _render(request, "search.html", jql=jql, error=None, rows=rows)


async def issue_page(request: Request) -> Response:
    """`/browse/{key}`: the issue with its ADF description as HTML and the app's glance beside it."""
    runtime = runtime_of(request)
    issue = runtime.store.issue(request.path_params["key"])
    if issue is None:
        return _not_found(request, f"issue {request.path_params['key']}")
    project = runtime.store.project(issue.project_id)
    assert project is not None  # issues are only created in existing projects
    apps = _apps_with(runtime, ISSUE_GLANCE)
    frame = _frame(request, apps[0], ISSUE_GLANCE, project=project, issue=issue) if apps else None
    row = next(r for r in issue_rows(runtime, project) if r["issue"] is issue)
    attachments = [runtime.store.attachments[a] for a in issue.attachment_ids]
    return _render(
        request,
        "issue.html",
        project=project,
        issue=issue,
        row=row,
        attachments=attachments,
        description=adf_to_html(issue.description),
        parent=runtime.store.issues.get(issue.parent_id or ""),
        comments=[
            {"author": c.author["displayName"], "created": c.created, "body": adf_to_html(c.body)}
            for c in issue.comments
        ],
        frame=frame,
    )


async def configure_page(request: Request) -> Response:
    """`/plugins/servlet/configure/{appKey}`: the app's configure page, for admins only as in Jira."""
    runtime = runtime_of(request)
    apps = _apps_with(runtime, CONFIGURE_PAGE, request.path_params["app_key"])
    if not apps:
        return _not_found(request, f"a configure page of {request.path_params['app_key']}")
    if not user_of(request).admin:
        return _render(request, "forbidden.html", status_code=403)
    return _render(request, "configure.html", installation=apps[0], frame=_frame(request, apps[0], CONFIGURE_PAGE))
