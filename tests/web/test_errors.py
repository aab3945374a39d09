"""One table of errors: every refusal has a code, a status and who can fix it, and every JSON error body says so."""

from __future__ import annotations

import ast
import importlib
import pkgutil

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.testclient import TestClient

import app
from app.errors import AppError, ConflictError, WhoCanFix
from app.pipeline.intake import UploadRejectedError
from app.web.errors import ERRORS, EXCEPTION_HANDLERS, WHO_CAN_FIX_TEXT, rule_for
from app.web.input_guard import ControlCharacterError, ControlCharacterMiddleware
from tests.support import REPO

pytestmark = [pytest.mark.unit, pytest.mark.web]


def _app_errors() -> set[type[AppError]]:
    """Every AppError of the app outside the sandbox (a Jira stand-in that answers with its own statuses)."""
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if not module.name.startswith("app.sandbox"):
            importlib.import_module(module.name)
    found: set[type[AppError]] = set()
    todo: list[type[AppError]] = [AppError]
    while todo:
        kind = todo.pop()
        found.add(kind)
        todo.extend(kind.__subclasses__())
    return {k for k in found if not k.__module__.startswith(("app.sandbox", "tests"))}


def test_every_error_of_the_app_resolves_to_a_row_and_every_row_is_an_error_of_the_app() -> None:
    errors = _app_errors()
    rules = {kind: rule_for(kind) for kind in errors}

    assert set(ERRORS) <= errors
    assert all(100 <= rule.status < 600 and rule.code for rule in rules.values())
    assert len({rule.code for rule in ERRORS.values()}) == len(ERRORS)
    assert set(WHO_CAN_FIX_TEXT) == set(WhoCanFix)
    # A subclass without its own row answers as its nearest base: a stale ticket is a conflict the director resolves.
    assert rules[next(k for k in errors if k.__name__ == "StaleTicketError")] == ERRORS[ConflictError]


def test_no_error_outside_the_table_declares_an_http_status_or_who_can_fix() -> None:
    declared = [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
        for path in sorted((REPO / "app").rglob("*.py"))
        if "sandbox" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in ("status_code", "who_can_fix") for t in stmt.targets)
            for stmt in node.body
        )
    ]
    assert declared == []


async def _refuse(request: Request) -> Response:
    raise UploadRejectedError("The upload is larger than a session allows.")


@pytest.fixture
def client() -> TestClient:
    web = Starlette(
        routes=[Route("/api/upload", _refuse), Route("/page", _refuse)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    web.state.templates = Jinja2Templates(directory=REPO / "templates")
    return TestClient(web)


def test_a_json_error_body_carries_its_code_and_who_can_fix_it_and_the_page_says_who(client: TestClient) -> None:
    answer = client.get("/api/upload")
    page = client.get("/page", headers={"accept": "text/html"})

    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "status": 413,
        "code": "upload_rejected",
        "title": "Something needs attention",
        "message": "The upload is larger than a session allows.",
        "whoCanFix": "spec_author",
    }
    assert page.status_code == 413 and WHO_CAN_FIX_TEXT[WhoCanFix.SPEC_AUTHOR] in page.text


def test_the_control_character_guard_answers_as_its_row_says() -> None:
    guarded = TestClient(ControlCharacterMiddleware(Starlette()))
    error = guarded.get("/api/x%00").json()["error"]
    rule = ERRORS[ControlCharacterError]
    assert (error["status"], error["code"], error["whoCanFix"]) == (rule.status, rule.code, str(rule.who_can_fix))
