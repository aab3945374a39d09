"""Control characters (app/text_controls.py) are refused at the door: in a request's path or query string by
`ControlCharacterMiddleware` before any route or the static files see them (`/static/app.js%00.png` is a 400, not a
crash), and in JSON bodies by `refuse_control_characters`, which names the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import AppError
from app.text_controls import CONTROL_CHARACTERS, describe


class ControlCharacterError(AppError):
    """A value holds an invisible control character."""


def refuse_control_characters(value: Any, field: str = "the body") -> None:
    """Raises: ControlCharacterError naming the first field (`tickets[2].title`) whose text holds one."""
    if isinstance(value, str):
        if found := CONTROL_CHARACTERS.search(value):
            raise ControlCharacterError(
                f"{field} contains an invisible control character ({describe(found.group())}); remove it."
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_control_characters(key, f"a field name in {field}")
            refuse_control_characters(item, key if field == "the body" else f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_control_characters(item, f"{field}[{index}]")


class ControlCharacterMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
            if CONTROL_CHARACTERS.search(scope["path"]) or CONTROL_CHARACTERS.search(query):
                message = "The address contains an invisible control character (such as %00); remove it."
                # The row of ControlCharacterError in app/web/errors.py (a test holds the two together).
                error = {
                    "status": 400,
                    "code": "control_character",
                    "title": "Something needs attention",
                    "message": message,
                    "whoCanFix": "developer",
                }
                await JSONResponse({"error": error}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
