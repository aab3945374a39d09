"""One place that turns exceptions into safe answers: JSON for the API and callbacks, HTML for pages.

`ERRORS` is the table of every error the app refuses a request with: its stable code, HTTP status and who can fix
it. The layers below raise domain errors that know nothing of HTTP; an error without its own row takes the row of
its nearest base class (`rule_for`), and a test checks that every `AppError` of the app resolves to a row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from app.connect.lifecycle import LifecyclePayloadError
from app.connect.verifiers import AuthenticationError, KeyServerError
from app.egress import EgressRefusedError
from app.encryption import DecryptionError
from app.errors import AppError, ConflictError, NotFoundError, WhoCanFix
from app.forge.keys import ForgeKeysUnavailableError
from app.generation import GenerationBlockedError
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraRateLimitedError,
    JiraUnavailableError,
)
from app.llm.base import LLMAuthError, LLMConfigError, LLMError, LLMRateLimitedError, LLMUnavailableError
from app.pipeline.configuration import SettingsValidationError
from app.pipeline.export.context import ExportConfigurationError
from app.pipeline.generation import NothingToDraftError
from app.pipeline.intake import UnknownFileKindError, UploadRejectedError
from app.pipeline.project_fit import ProjectFitError
from app.pipeline.review import InvalidEditError
from app.pipeline.revisions import NoConflictError, RevisionError
from app.web.admin import AdminCheckUnavailableError, NotJiraAdminError
from app.web.body_limit import BodyTooLargeError
from app.web.body_schemas import BodyError
from app.web.input_guard import ControlCharacterError
from app.web.scope import MissingProjectError, UnsupportedMediaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorRule:
    code: str  # stable, for the page's script and for support: "upload_rejected"
    status: int
    who_can_fix: WhoCanFix


_SPEC, _ADMIN, _LATER, _DEV, _DIRECTOR = (
    WhoCanFix.SPEC_AUTHOR,
    WhoCanFix.JIRA_ADMIN,
    WhoCanFix.RETRY_LATER,
    WhoCanFix.DEVELOPER,
    WhoCanFix.DIRECTOR,
)

ERRORS: dict[type[AppError], ErrorRule] = {
    AppError: ErrorRule("invalid_request", 400, _DEV),
    NotFoundError: ErrorRule("not_found", 404, _DEV),
    # A run in progress, a ticket saved in another tab, a link closing a cycle, an export not ready yet.
    ConflictError: ErrorRule("conflict", 409, _DIRECTOR),
    # The request itself (a client bug or a hostile one).
    BodyError: ErrorRule("invalid_body", 400, _DEV),
    BodyTooLargeError: ErrorRule("body_too_large", 413, _DEV),
    ControlCharacterError: ErrorRule("control_character", 400, _DEV),
    MissingProjectError: ErrorRule("missing_project", 400, _DEV),
    UnsupportedMediaError: ErrorRule("unsupported_media", 415, _DEV),
    LifecyclePayloadError: ErrorRule("lifecycle_payload", 400, _DEV),
    # Who is asking.
    AuthenticationError: ErrorRule("not_signed_in", 401, _ADMIN),
    KeyServerError: ErrorRule("key_server_unavailable", 503, _LATER),
    ForgeKeysUnavailableError: ErrorRule("forge_keys_unavailable", 503, _LATER),
    NotJiraAdminError: ErrorRule("not_jira_admin", 403, _ADMIN),
    AdminCheckUnavailableError: ErrorRule("admin_check_unavailable", 503, _LATER),
    DecryptionError: ErrorRule("decryption_failed", 500, _DEV),
    # The spec and its tickets.
    UploadRejectedError: ErrorRule("upload_rejected", 413, _SPEC),
    UnknownFileKindError: ErrorRule("unknown_file_kind", 400, _DEV),
    GenerationBlockedError: ErrorRule("generation_blocked", 422, _SPEC),
    NothingToDraftError: ErrorRule("nothing_to_draft", 422, _SPEC),
    InvalidEditError: ErrorRule("invalid_edit", 400, _SPEC),
    RevisionError: ErrorRule("revision_refused", 409, _SPEC),
    NoConflictError: ErrorRule("no_conflict", 409, _DIRECTOR),
    # The site's set-up.
    SettingsValidationError: ErrorRule("invalid_settings", 400, _ADMIN),
    EgressRefusedError: ErrorRule("egress_refused", 400, _ADMIN),
    ProjectFitError: ErrorRule("project_does_not_fit", 409, _ADMIN),
    ExportConfigurationError: ErrorRule("export_not_configured", 409, _ADMIN),
    # Jira and the language model.
    JiraError: ErrorRule("jira_failed", 502, _DEV),
    JiraAuthError: ErrorRule("jira_refused_access", 403, _ADMIN),
    JiraNotFoundError: ErrorRule("jira_not_found", 404, _DEV),
    JiraBadRequestError: ErrorRule("jira_bad_request", 400, _DEV),
    JiraRateLimitedError: ErrorRule("jira_rate_limited", 503, _LATER),
    JiraUnavailableError: ErrorRule("jira_unavailable", 503, _LATER),
    LLMError: ErrorRule("llm_failed", 502, _LATER),
    LLMConfigError: ErrorRule("llm_not_configured", 400, _ADMIN),
    LLMAuthError: ErrorRule("llm_refused_key", 502, _ADMIN),
    LLMRateLimitedError: ErrorRule("llm_rate_limited", 503, _LATER),
    LLMUnavailableError: ErrorRule("llm_unavailable", 503, _LATER),
}


def rule_for(error: type[AppError]) -> ErrorRule:
    """The row of `error`, or of its nearest base class that has one (AppError always has)."""
    return next(ERRORS[kind] for kind in error.__mro__ if kind in ERRORS)


_JSON_PREFIXES = ("/api/", "/installed", "/uninstalled", "/enabled", "/disabled", "/forge/")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(_JSON_PREFIXES) or "application/json" in request.headers.get("accept", "")


# Who can act on an error, as the page says it.
WHO_CAN_FIX_TEXT = {
    WhoCanFix.SPEC_AUTHOR: "The author of the spec can fix this in its files.",
    WhoCanFix.JIRA_ADMIN: "A Jira admin of this site can fix this.",
    WhoCanFix.RETRY_LATER: "Nobody needs to act: try again in a few minutes.",
    WhoCanFix.DEVELOPER: "If this keeps happening, tell the app's developers.",
    WhoCanFix.DIRECTOR: "You can resolve this here, then try again.",
}


def _render(
    request: Request, status: int, title: str, message: str, rule: ErrorRule, details: dict[str, object] | None = None
) -> Response:
    if _wants_json(request):
        # `details` are structured facts the page can show (e.g. the tickets of a refused cycle).
        error = {
            "status": status,
            "code": rule.code,
            "title": title,
            "message": message,
            "whoCanFix": str(rule.who_can_fix),
            **({"details": details} if details else {}),
        }
        return JSONResponse({"error": error}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    context = {"status": status, "title": title, "message": message, "who_can_fix": WHO_CAN_FIX_TEXT[rule.who_can_fix]}
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers={"Cache-Control": "no-store"}
    )


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    rule = rule_for(type(exc))
    log.info("request refused: %s %s -> %s %s", request.method, request.url.path, rule.status, type(exc).__name__)
    title = "Not signed in" if rule.status == 401 else "Something needs attention"
    return _render(request, rule.status, title, exc.message, rule, getattr(exc, "details", None))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    rule = ErrorRule("not_available", exc.status_code, WhoCanFix.DEVELOPER)
    return _render(request, exc.status_code, "Not available", exc.detail or "This address does not exist.", rule)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    # The cause goes to the log only; the person sees a plain message and no internals.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    message = "An unexpected error happened. Please try again in a minute."
    return _render(request, 500, "Something went wrong", message, ErrorRule("unexpected", 500, WhoCanFix.RETRY_LATER))


EXCEPTION_HANDLERS = {AppError: app_error, HTTPException: http_error, Exception: unexpected_error}
