"""Every REST call is verified as Jira does: HS256 JWT, `iss` = an installed app key, `exp`, `qsh`."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from app.connect.tokens import sign_request_token

pytestmark = [pytest.mark.unit, pytest.mark.export]


def token(installed: dict[str, Any], **overrides: Any) -> str:
    arguments = {
        "issuer": installed["appKey"],
        "secret": installed["sharedSecret"],
        "method": "GET",
        "url": "/rest/api/3/myself",
    } | overrides
    return sign_request_token(**arguments)


@pytest.mark.anyio
async def test_a_call_signed_by_connect_jwt_auth_is_accepted(jira: httpx.AsyncClient) -> None:
    response = await jira.get("/rest/api/3/myself")
    assert response.status_code == 200
    assert response.json()["accountType"] == "app"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "overrides", "reason"),
    [
        ("forged", {"secret": "not-the-shared-secret-not-the-shared-secret"}, "Signature verification failed"),
        ("expired", {"now": time.time() - 3600}, "Signature has expired"),
        ("wrong qsh", {"url": "/rest/api/3/project/DTG"}, "qsh claim does not match"),
        ("client key as iss", {"issuer": "CLIENT_KEY"}, "that is a clientKey"),
        ("unknown app", {"issuer": "someone-else"}, "no installed app"),
    ],
)
async def test_bad_tokens_are_answered_401_with_jiras_error_body(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], case: str, overrides: dict[str, Any], reason: str
) -> None:
    if overrides.get("issuer") == "CLIENT_KEY":
        overrides["issuer"] = installed["clientKey"]
    headers = {"Authorization": f"JWT {token(installed, **overrides)}"}
    response = await sandbox.get("/rest/api/3/myself", headers=headers)
    assert response.status_code == 401, case
    body = response.json()
    assert set(body) == {"errorMessages", "errors"} and body["errors"] == {}
    assert reason in body["errorMessages"][0]


@pytest.mark.anyio
async def test_a_missing_token_is_401(sandbox: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await sandbox.get("/rest/api/3/myself")
    assert response.status_code == 401
    assert "Authorization: JWT" in response.json()["errorMessages"][0]


@pytest.mark.anyio
async def test_the_qsh_covers_the_query_string(sandbox: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    signed = token(installed, url="/rest/api/3/user/assignable/search?project=DTG")
    ok = await sandbox.get("/rest/api/3/user/assignable/search?project=DTG", headers={"Authorization": f"JWT {signed}"})
    assert ok.status_code == 200
    tampered = await sandbox.get(
        "/rest/api/3/user/assignable/search?project=XYZ", headers={"Authorization": f"JWT {signed}"}
    )
    assert tampered.status_code == 401
