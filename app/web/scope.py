"""What every project-page API call starts with: the caller's tenant, project and upload session.

The project key comes from the context token's `context` claim, which Jira signs, never from the URL alone, and a
session of another tenant or another project is answered exactly like a session that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from starlette.requests import Request

from app.container import Services
from app.db.models import UploadSession
from app.domain.retention import SESSION_IDLE_DAYS
from app.errors import AppError, NotFoundError
from app.offload import offload
from app.pipeline.ports import Actor, Scope
from app.pipeline.queries import SessionContents, find_session, session_with_contents
from app.web.body_schemas import check
from app.web.input_guard import refuse_control_characters

T = TypeVar("T")
P = ParamSpec("P")


class MissingProjectError(AppError):
    """The context token names no Jira project."""


def services(request: Request) -> Services:
    found: Services = request.state.services  # put there by the routing policy of every route
    return found


def tenant_id(request: Request) -> int:
    return int(request.state.identity.installation.id)


def project_key(request: Request) -> str:
    """Raises: MissingProjectError when the token was not issued for a project page."""
    project = ((request.state.identity.context or {}).get("jira") or {}).get("project") or {}
    key = project.get("key")
    if not isinstance(key, str) or not key:
        raise MissingProjectError("This call needs a Jira project; open the app from a project's page.")
    return key


async def upload_session(request: Request) -> UploadSession:
    """The session named in the path, if it belongs to the caller's tenant and project. Raises: NotFoundError."""
    key = project_key(request)
    return _in_project(await offload(find_session, services(request), tenant_id(request), _session_id(request)), key)


async def upload_session_contents(request: Request) -> tuple[UploadSession, SessionContents]:
    """`upload_session` and what the session holds, read together. Raises: NotFoundError."""
    key = project_key(request)
    found, contents = await offload(session_with_contents, services(request), tenant_id(request), _session_id(request))
    return _in_project(found, key), contents


async def session_read(
    request: Request, read: Callable[Concatenate[Services, Scope, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """`read(services, scope, ...)` on the session `upload_session` finds, in the same worker thread (one hop off
    the event loop, not two). Raises: NotFoundError."""
    ports, key, tenant, session_id = services(request), project_key(request), tenant_id(request), _session_id(request)

    def checked_read() -> T:
        return read(ports, scope_of(_in_project(find_session(ports, tenant, session_id), key)), *args, **kwargs)

    return await offload(checked_read)


def _session_id(request: Request) -> int:
    return int(request.path_params["session_id"])


def _in_project(found: UploadSession, key: str) -> UploadSession:
    """A session of another project is answered like one that does not exist."""
    if found.project_key != key:
        raise NotFoundError(f"This upload session does not exist (sessions are kept {SESSION_IDLE_DAYS} days).")
    return found


async def heavy(request: Request, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`offload` for CPU-heavy work, within the caller's tenant's slots (app/offload.TenantSlots)."""
    async with services(request).heavy.slot(tenant_id(request)):
        return await offload(call, *args, **kwargs)


def stored_id(upload: UploadSession) -> int:
    """The id of a stored session (SQLModel declares it optional only for rows not saved yet)."""
    assert upload.id is not None
    return upload.id


def scope_of(upload: UploadSession) -> Scope:
    return Scope(upload.tenant_id, stored_id(upload))


async def review_scope(request: Request) -> Scope:
    return scope_of(await upload_session(request))


def actor(request: Request) -> Actor:
    """The Jira account behind the request, as the token names it."""
    return Actor(request.state.identity.account_id)


async def json_body(request: Request, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request's JSON object, checked against `schema` (app/web/body_schemas.py) when given.

    Raises: AppError (400/415) for another content type, malformed JSON, control characters, or a body that does
    not fit the schema (the message names the field).
    """
    if "application/json" not in request.headers.get("content-type", ""):
        raise UnsupportedMediaError("Send this request as JSON (Content-Type: application/json).")
    try:
        body = await request.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: a hostile, deeply nested body
        raise AppError("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise AppError("The request body must be a JSON object.")
    refuse_control_characters(body)
    if schema is not None:
        check(body, schema)
    return body


class UnsupportedMediaError(AppError):
    """The request body is not of the content type the route takes."""
