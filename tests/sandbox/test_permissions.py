"""`POST /rest/api/3/permissions/check`: an app asks whether a user is a Jira administrator."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox.models import ADMIN_USER, DEVELOPER_USER
from tests.sandbox.test_openapi import assert_matches

pytestmark = [pytest.mark.unit, pytest.mark.connect]

CHECK = "/rest/api/3/permissions/check"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("account_id", "granted"), [(ADMIN_USER.account_id, ["ADMINISTER"]), (DEVELOPER_USER.account_id, [])]
)
async def test_the_admin_flag_of_the_user_asked_about_decides(
    jira: httpx.AsyncClient, account_id: str, granted: list[str]
) -> None:
    answer = await jira.post(CHECK, json={"globalPermissions": ["ADMINISTER"], "accountId": account_id})

    assert answer.status_code == 200
    assert answer.json() == {"globalPermissions": granted, "projectPermissions": []}
    assert_matches(answer.json(), CHECK, "post")


@pytest.mark.anyio
async def test_without_an_account_the_app_asks_about_itself_and_holds_no_admin_rights(
    jira: httpx.AsyncClient,
) -> None:
    answer = await jira.post(CHECK, json={"globalPermissions": ["ADMINISTER", "USER_PICKER"]})
    assert answer.json()["globalPermissions"] == ["USER_PICKER"]


@pytest.mark.anyio
async def test_project_permissions_list_the_existing_projects_and_ignore_unknown_ids(
    jira: httpx.AsyncClient,
) -> None:
    project = (await jira.get("/rest/api/3/project/DTG")).json()
    body = {
        "accountId": DEVELOPER_USER.account_id,
        "projectPermissions": [{"permissions": ["EDIT_ISSUES"], "projects": [int(project["id"]), 99999]}],
    }
    answer = await jira.post(CHECK, json=body)

    assert answer.status_code == 200
    assert answer.json()["projectPermissions"] == [
        {"permission": "EDIT_ISSUES", "projects": [int(project["id"])], "issues": []}
    ]
    assert_matches(answer.json(), CHECK, "post")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"globalPermissions": ["PERMISSION_123"]},
            {"errorMessages": [], "errors": {"PERMISSION_123": "Unrecognized permission"}},
        ),
        ({"globalPermissions": ["ADMINISTER"], "accountId": "nobody"}, None),
        ({"projectPermissions": [{"projects": [10000]}]}, None),
    ],
)
async def test_bad_requests_answer_400_with_an_error_collection(
    jira: httpx.AsyncClient, body: dict[str, object], expected: dict[str, object] | None
) -> None:
    answer = await jira.post(CHECK, json=body)

    assert answer.status_code == 400
    assert set(answer.json()) == {"errorMessages", "errors"}
    if expected is not None:
        assert answer.json() == expected


@pytest.mark.anyio
async def test_an_unsigned_call_is_refused(sandbox: httpx.AsyncClient, installed: dict[str, object]) -> None:
    answer = await sandbox.post(CHECK, json={"globalPermissions": ["ADMINISTER"], "accountId": ADMIN_USER.account_id})
    assert answer.status_code == 401
