"""The root of every error the app raises on purpose.

Each layer subclasses `AppError` and knows nothing of HTTP: the table in `app/web/errors.py` gives each error its
code, status and `WhoCanFix`, which tells the person reading the message whether the spec author, the Jira admin,
the director, or nobody (retry later) can act on it.
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

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(AppError):
    """The thing asked for does not exist, or belongs to another tenant (answered the same way)."""


class ConflictError(AppError):
    """The step cannot run in the state things are in (a run in progress, a newer save)."""
