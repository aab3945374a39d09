"""Jira failures, translated once from HTTP answers and transport errors; use cases never see httpx.

JiraError
 ├── JiraAuthError            401/403: uninstalled, disabled, secret rotated, scope missing
 ├── JiraNotFoundError        404
 ├── JiraRateLimitedError     429, with the seconds Jira asked us to wait (an `app.retries.RateLimited`)
 ├── JiraUnavailableError     5xx, timeouts, dropped connections: the call may or may not have happened
 │                            (an `app.retries.OutcomeUnknown`)
 └── JiraBadRequestError      400: Jira's `errorMessages` and per-field `errors`
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import AppError
from app.retries import OutcomeUnknown, RateLimited


class JiraError(AppError):
    """Jira answered something we could not use."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class JiraAuthError(JiraError):
    """Jira refused the app access: its scopes, or the permissions the site gives it."""


class JiraNotFoundError(JiraError):
    """Jira has no such project, issue or field (404)."""


class JiraRateLimitedError(JiraError, RateLimited):
    def __init__(self, message: str, *, retry_after: float | None, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class JiraGrantPendingError(JiraRateLimitedError):
    """A 401/403 in the minutes after a Forge install: Atlassian is still granting the app's scopes. Jira did
    nothing, so the call is retried like a 429 (`app.retries`), not slept through where it was made."""


class JiraUnavailableError(JiraError, OutcomeUnknown):
    """Jira did not answer usefully in time: whether a write happened is unknown."""


class JiraBadRequestError(JiraError):
    def __init__(
        self,
        message: str,
        *,
        messages: list[str],
        field_errors: Mapping[str, str],
        body: Any = None,
        status: int | None = 400,
    ) -> None:
        super().__init__(message, status=status)
        self.messages = messages
        self.field_errors = dict(field_errors)
        # The whole answer: a bulk create that refused every element still reports each one in it.
        self.body = body


def describe(messages: list[str], field_errors: Mapping[str, str]) -> str:
    """One line from Jira's ErrorCollection: `summary: Summary must be less than 255 characters.`"""
    parts = [*messages, *(f"{name}: {text}" for name, text in sorted(field_errors.items()))]
    return "; ".join(parts) or "Jira gave no reason."
