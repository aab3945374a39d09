"""Jira's error answers: an `ErrorCollection`, `{"errorMessages": [...], "errors": {field: message}}`."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse


def jira_error(
    status_code: int,
    *messages: str,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"errorMessages": list(messages), "errors": dict(errors or {})}, status_code=status_code, headers=headers
    )


class JiraRequestError(Exception):
    """Raised by REST handlers to answer an ErrorCollection; the gate turns it into the response."""

    def __init__(self, status_code: int, *messages: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(messages[0] if messages else str(errors))
        self.status_code = status_code
        self.messages = messages
        self.errors = dict(errors or {})

    def response(self) -> JSONResponse:
        return jira_error(self.status_code, *self.messages, errors=self.errors)
