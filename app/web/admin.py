"""The configure page's JSON API, for Jira administrators only, checked with Jira on the server for each call."""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import AppError
from app.jira.client import JiraClient
from app.jira.errors import JiraError
from app.offload import offload
from app.pipeline.configuration import (
    LLMChoice,
    SettingsForm,
    SettingsValidationError,
    save_settings,
    settings_view,
    try_connection,
)
from app.pipeline.export_settings import (
    ExportSettingsForm,
    export_settings_json,
    project_fields,
    save_export_settings,
    stored_export_settings,
)
from app.web.body_schemas import CHECK_CONNECTION, EXPORT_SETTINGS, SETTINGS
from app.web.forge_identity import user_auth
from app.web.routing import Auth, SecuredRoute
from app.web.scope import json_body

log = logging.getLogger(__name__)
# Jira project keys: a capital letter, then capitals, digits or underscores (it goes into a REST path).
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,19}$")


class NotJiraAdminError(AppError):
    """The configure page's calls are for Jira admins of the site."""


class AdminCheckUnavailableError(AppError):
    """Jira could not tell whether the caller is an admin."""


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


async def get_settings(request: Request) -> Response:
    await require_admin(request)
    view = await offload(settings_view, request.state.services, request.state.identity.installation.id)
    return JSONResponse(view.to_dict())


async def put_settings(request: Request) -> Response:
    await require_admin(request)
    form = SettingsForm.from_json(await json_body(request, SETTINGS))
    identity = request.state.identity
    view = await offload(
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
    choice = LLMChoice.from_json(await json_body(request, CHECK_CONNECTION))
    services = request.state.services
    result = await try_connection(
        services, services.http, tenant_id=request.state.identity.installation.id, choice=choice
    )
    return JSONResponse({"ok": result.ok, "message": result.message})


async def get_export_settings(request: Request) -> Response:
    await require_admin(request)
    services = request.state.services
    stored = await offload(stored_export_settings, services, request.state.identity.installation.id)
    return JSONResponse(export_settings_json(stored))


async def put_export_settings(request: Request) -> Response:
    await require_admin(request)
    form = ExportSettingsForm.from_json(await json_body(request, EXPORT_SETTINGS))
    identity = request.state.identity
    saved = await offload(
        save_export_settings,
        request.state.services,
        tenant_id=identity.installation.id,
        account_id=identity.account_id,
        form=form,
    )
    return JSONResponse(export_settings_json(saved))


async def export_project_fields(request: Request) -> Response:
    """`?project=KEY`: what that project requires with the saved settings, so the admin can fill the gaps."""
    await require_admin(request)
    key = request.query_params.get("project", "")
    if not PROJECT_KEY.match(key):
        raise SettingsValidationError(f"{key[:20]!r} is not a Jira project key (capital letters and digits).")
    services = request.state.services
    installation = request.state.identity.installation
    stored = await offload(stored_export_settings, services, installation.id)
    client = JiraClient(services.http, installation, services.settings.app_key, auth=user_auth(request))
    return JSONResponse(await project_fields(client, key, stored))


def routes() -> list[SecuredRoute]:
    return [
        SecuredRoute("/api/admin/settings", get_settings, auth=Auth.CONTEXT),
        SecuredRoute("/api/admin/settings", put_settings, auth=Auth.CONTEXT, methods=["PUT"]),
        SecuredRoute("/api/admin/settings/check", check_connection, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute("/api/admin/export-settings", get_export_settings, auth=Auth.CONTEXT),
        SecuredRoute("/api/admin/export-settings", put_export_settings, auth=Auth.CONTEXT, methods=["PUT"]),
        SecuredRoute("/api/admin/export-settings/project", export_project_fields, auth=Auth.CONTEXT),
    ]
