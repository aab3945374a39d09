"""The root of every error the app raises on purpose.

Each layer subclasses `AppError`; the web layer maps them to safe, user-facing answers. `who_can_fix` tells the
person reading the message whether the spec author, the Jira admin, or nobody (retry later) can act on it.
"""

from __future__ import annotations

from enum import StrEnum


class WhoCanFix(StrEnum):
    SPEC_AUTHOR = "spec_author"
    JIRA_ADMIN = "jira_admin"
    RETRY_LATER = "retry_later"
    DEVELOPER = "developer"
    DIRECTOR = "director"


class AppError(Exception):
    """An expected failure with a message that is safe to show to a user."""

    status_code = 400
    who_can_fix = WhoCanFix.DEVELOPER

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(AppError):
    status_code = 404


class ConflictError(AppError):
    status_code = 409
