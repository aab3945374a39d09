"""The configure page's JSON API, for Jira administrators only, checked with Jira on the server for each call."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import AppError, WhoCanFix
from app.jira.errors import JiraError
from app.pipeline.configuration import (
    LLMChoice,
    SettingsForm,
    SettingsValidationError,
    save_settings,
    settings_view,
    try_connection,
)
from app.web.forge_identity import user_auth
from app.web.routing import Auth, SecuredRoute

log = logging.getLogger(__name__)


class NotJiraAdminError(AppError):
    status_code = 403
    who_can_fix = WhoCanFix.JIRA_ADMIN


class AdminCheckUnavailableError(AppError):
    status_code = 503
    who_can_fix = WhoCanFix.RETRY_LATER


async def require_admin(request: Request) -> None:
    """Refuse anyone Jira does not report as an administrator; the descriptor's condition only hides the page.

    Raises: NotJiraAdminError (403); AdminCheckUnavailableError (503) when Jira cannot answer, since guessing
    either way would be wrong.
    """
    identity = request.state.identity
    refused = NotJiraAdminError("Only Jira administrators can change these settings.")
    if not identity.account_id:
        raise refused
    try:
        admin = await request.state.services.admin_check.is_admin(
            identity.installation, identity.account_id, auth=user_auth(request)
        )
    except JiraError as exc:
        log.warning("admin check failed for tenant %s: %s", identity.installation.id, type(exc).__name__)
        raise AdminCheckUnavailableError(
            "Jira did not confirm that you are an administrator, so the settings stay closed. Try again in a minute."
        ) from exc
    if not admin:
        raise refused


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: a hostile, deeply nested body
        raise SettingsValidationError("The request body is not valid JSON.") from exc


async def get_settings(request: Request) -> Response:
    await require_admin(request)
    view = await run_in_threadpool(settings_view, request.state.services, request.state.identity.installation.id)
    return JSONResponse(view.to_dict())


async def put_settings(request: Request) -> Response:
    await require_admin(request)
    form = SettingsForm.from_json(await _json_body(request))
    identity = request.state.identity
    view = await run_in_threadpool(
        save_settings,
        request.state.services,
        tenant_id=identity.installation.id,
        account_id=identity.account_id,
        form=form,
    )
    return JSONResponse(view.to_dict())


async def check_connection(request: Request) -> Response:
    """Try the provider in the form (not yet saved) with the key just typed, or else the stored one."""
    await require_admin(request)
    choice = LLMChoice.from_json(await _json_body(request))
    services = request.state.services
    result = await try_connection(
        services, services.http, tenant_id=request.state.identity.installation.id, choice=choice
    )
    return JSONResponse({"ok": result.ok, "message": result.message})


def routes() -> list[SecuredRoute]:
    return [
        SecuredRoute("/api/admin/settings", get_settings, auth=Auth.CONTEXT),
        SecuredRoute("/api/admin/settings", put_settings, auth=Auth.CONTEXT, methods=["PUT"]),
        SecuredRoute("/api/admin/settings/check", check_connection, auth=Auth.CONTEXT, methods=["POST"]),
    ]
