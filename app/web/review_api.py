"""Review from the project page: read and edit tickets, links, bulk changes, assignable people, the graph."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.adf.html import adf_to_html
from app.adf.markdown import to_markdown
from app.db.models import TicketRecord
from app.errors import AppError
from app.jira.users import ReviewJiraClient
from app.offload import offload
from app.pipeline import review
from app.pipeline.graph_view import layout, render_svg
from app.pipeline.queries import session_ticket, session_tickets
from app.web import body_schemas
from app.web.errors import rule_for
from app.web.forge_identity import user_auth
from app.web.panels import people
from app.web.routing import Auth, SecuredRoute
from app.web.scope import actor, json_body, project_key, review_scope, services, session_read

MAX_BULK = 500


def ticket_json(ticket: TicketRecord, *, full: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": ticket.key,
        "title": ticket.title,
        "area": ticket.area,
        "action": ticket.action,
        "labels": list(ticket.labels),
        "version": ticket.version,
        "onHold": ticket.on_hold,
        "excluded": ticket.excluded,
        "assignee": {"accountId": ticket.assignee_account_id, "name": ticket.assignee_name}
        if ticket.assignee_account_id
        else None,
        "blockedBy": list(ticket.blocked_by),
        "relatesTo": list(ticket.relates_to),
        "findings": len(ticket.findings),
        "proseFlag": ticket.prose_flag,
        "jiraKey": ticket.jira_key,
        "reviewed": ticket.reviewed,
    }
    if full:
        data["markdown"] = to_markdown(ticket.description)
        data["html"] = str(adf_to_html(ticket.description))
    return data


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise AppError(f"'{name}' must be text.")
    return value


def _keys(body: dict[str, Any]) -> list[str]:
    keys = body.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise AppError("Choose at least one ticket.")
    if len(keys) > MAX_BULK:
        raise AppError(f"Change at most {MAX_BULK} tickets at once.")
    return keys


def parse_edit(body: dict[str, Any]) -> tuple[int, review.TicketEdit]:
    """The version the editor started from and the fields it changes. Raises: AppError for malformed input."""
    version = body.get("version")
    if not isinstance(version, int):
        raise AppError("Send the ticket's version with every edit, so two tabs cannot overwrite each other.")
    labels = body.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise AppError("'labels' must be a list of texts.")
    assignee: tuple[str, str] | None = None
    if "assignee" in body:
        person = body["assignee"] or {}
        assignee = (str(person.get("accountId") or ""), str(person.get("name") or ""))
    flags = {name: body.get(name) for name in ("onHold", "excluded")}
    if any(value is not None and not isinstance(value, bool) for value in flags.values()):
        raise AppError("'onHold' and 'excluded' must be true or false.")
    edit = review.TicketEdit(
        title=_text(body, "title"),
        markdown=_text(body, "markdown"),
        labels=labels,
        assignee=assignee,
        on_hold=flags["onHold"],
        excluded=flags["excluded"],
    )
    return version, edit


async def list_tickets(request: Request) -> Response:
    found = await session_read(request, session_tickets)
    return JSONResponse({"tickets": [ticket_json(t, full=False) for t in found]})


async def get_ticket(request: Request) -> Response:
    ticket = await session_read(request, session_ticket, request.path_params["key"])
    return JSONResponse(ticket_json(ticket))


async def edit_ticket(request: Request) -> Response:
    scope = await review_scope(request)
    version, edit = parse_edit(await json_body(request, body_schemas.EDIT_TICKET))
    key = request.path_params["key"]
    try:
        ticket = await offload(
            review.edit_ticket, services(request), scope, actor(request), key=key, expected_version=version, edit=edit
        )
    except review.EditConflictError as exc:
        # The page shows the other change and lets the person reload it or overwrite it explicitly.
        current = {**ticket_json(exc.current), "changedBy": await _changed_by(request, exc.changed_by)}
        rule = rule_for(type(exc))
        error = {
            "status": rule.status,
            "code": rule.code,
            "title": "Changed elsewhere",
            "message": exc.message,
            "whoCanFix": str(rule.who_can_fix),
            "current": current,
        }
        return JSONResponse({"error": error}, status_code=rule.status)
    return JSONResponse(ticket_json(ticket))


async def _changed_by(request: Request, account_id: str | None) -> str:
    """Who saved last, as people read it: "you" (another tab of the same person), their Jira display name,
    or "another person" when Jira does not tell the name."""
    if account_id is not None and account_id == request.state.identity.account_id:
        return "you"
    names = await people(request, [account_id])
    return names.get(account_id or "", "another person")


async def add_link(request: Request) -> Response:
    scope = await review_scope(request)
    blocker = _text(await json_body(request, body_schemas.ADD_LINK), "blockedBy") or ""
    key = request.path_params["key"]
    ticket = await offload(review.add_link, services(request), scope, actor(request), key=key, blocked_by=blocker)
    return JSONResponse(ticket_json(ticket, full=False))


async def remove_link(request: Request) -> Response:
    scope = await review_scope(request)
    key, blocker = request.path_params["key"], request.path_params["blocker"]
    ticket = await offload(review.remove_link, services(request), scope, actor(request), key=key, blocked_by=blocker)
    return JSONResponse(ticket_json(ticket, full=False))


async def mark_reviewed(request: Request) -> Response:
    """`{"reviewed": true|false}`: the director went through this ticket (or wants to look again)."""
    scope = await review_scope(request)
    reviewed = (await json_body(request, body_schemas.MARK_REVIEWED)).get("reviewed")
    if not isinstance(reviewed, bool):
        raise AppError("'reviewed' must be true or false.")
    key = request.path_params["key"]
    ticket = await offload(review.set_reviewed, services(request), scope, actor(request), key=key, reviewed=reviewed)
    return JSONResponse(ticket_json(ticket, full=False))


async def bulk(request: Request) -> Response:
    """`action`: label (with `add`/`remove` lists), assign (with `assignee`), exclude or include."""
    scope = await review_scope(request)
    body = await json_body(request, body_schemas.BULK)
    keys, action, current, who = _keys(body), body.get("action"), services(request), actor(request)
    if action == "label":
        add, remove = body.get("add") or [], body.get("remove") or []
        if not isinstance(add, list) or not isinstance(remove, list):
            raise AppError("'add' and 'remove' must be lists of labels.")
        changed = await offload(review.bulk_label, current, scope, who, keys=keys, add=add, remove=remove)
    elif action == "assign":
        person = body.get("assignee") or {}
        account_id, name = str(person.get("accountId") or ""), str(person.get("name") or "")
        changed = await offload(review.bulk_assign, current, scope, who, keys=keys, account_id=account_id, name=name)
    elif action in ("exclude", "include"):
        changed = await offload(review.set_excluded, current, scope, who, keys=keys, excluded=action == "exclude")
    else:
        raise AppError("Unknown bulk action; use label, assign, exclude or include.")
    return JSONResponse({"tickets": [ticket_json(t, full=False) for t in changed]})


async def assignable_users(request: Request) -> Response:
    current = services(request)
    client = ReviewJiraClient(
        current.http, request.state.identity.installation, current.settings.app_key, auth=user_auth(request)
    )
    users = await client.assignable_users(project_key(request), request.query_params.get("query", ""))
    return JSONResponse({"users": [{"accountId": u.account_id, "name": u.display_name} for u in users]})


async def graph_svg(request: Request) -> Response:
    scope = await review_scope(request)
    found = await offload(session_tickets, services(request), scope)
    return Response(str(render_svg(layout(found))), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}"
    ticket = f"{base}/tickets/{{key}}"
    return [
        SecuredRoute(f"{base}/tickets", list_tickets, auth=Auth.CONTEXT),
        SecuredRoute(ticket, get_ticket, auth=Auth.CONTEXT),
        SecuredRoute(ticket, edit_ticket, auth=Auth.CONTEXT, methods=["PATCH"]),
        SecuredRoute(f"{ticket}/reviewed", mark_reviewed, auth=Auth.CONTEXT, methods=["PUT"]),
        SecuredRoute(f"{ticket}/links", add_link, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(f"{ticket}/links/{{blocker}}", remove_link, auth=Auth.CONTEXT, methods=["DELETE"]),
        SecuredRoute(f"{base}/bulk", bulk, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute(f"{base}/graph.svg", graph_svg, auth=Auth.CONTEXT),
        SecuredRoute("/api/assignable-users", assignable_users, auth=Auth.CONTEXT),
    ]
