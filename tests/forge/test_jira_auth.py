"""Jira calls for Forge tenants: bearer tokens to {apiBaseUrl}/rest/api/3, grant-time retries, clear expiry."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from starlette.requests import Request

from app.domain.forge import ForgeSite, OAuthToken
from app.domain.installation import Installation
from app.forge.tokens import USER_HEADER
from app.jira.auth import GRANT_RETRY_AFTER, ForgeBearerAuth, ForgeTokenExpiredError, static_token
from app.jira.client import JiraClient
from app.jira.errors import JiraAuthError, JiraGrantPendingError
from app.retries import Retrier, RetryPolicy
from app.web.forge_identity import user_auth

pytestmark = [pytest.mark.unit, pytest.mark.forge, pytest.mark.anyio]

API_BASE = "https://api.atlassian.com/ex/jira/cloud-1"
FORGE_TENANT = Installation(
    id=3, client_key="forge:cloud-1", base_url=API_BASE, display_url="https://acme.atlassian.net", shared_secret="x"
)


class ForgeJira:
    """Answers /myself for one bearer token; refuses the first `refusals` calls as a site still granting scopes."""

    def __init__(self, token: str, *, refusals: int = 0) -> None:
        self.token = token
        self.refusals = refusals
        self.seen: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), request.headers.get("authorization", "")))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"errorMessages": ["bad token"]})
        if self.refusals:
            self.refusals -= 1
            return httpx.Response(403, json={"errorMessages": ["scopes not granted yet"]})
        return httpx.Response(200, json={"accountId": "app-bot", "displayName": "DTG"})


def _token(value: str, *, lives: float) -> OAuthToken:
    return OAuthToken(value, int(time.time() + lives))


def _client(jira: ForgeJira, auth: httpx.Auth) -> JiraClient:
    return JiraClient(httpx.AsyncClient(transport=httpx.MockTransport(jira)), FORGE_TENANT, "unused", auth=auth)


async def test_calls_go_to_the_api_base_url_with_the_bearer_token() -> None:
    jira = ForgeJira("system-1")
    auth = ForgeBearerAuth(static_token(_token("system-1", lives=3600)))

    me = await _client(jira, auth).myself()

    assert me.account_id == "app-bot"
    assert jira.seen == [(f"{API_BASE}/rest/api/3/myself", "Bearer system-1")]


async def test_each_call_reads_the_newest_token() -> None:
    tokens = iter([_token("old", lives=3600), _token("new", lives=7200)])
    jira = ForgeJira("new")

    async def newest() -> OAuthToken:
        return next(tokens)

    client = _client(jira, ForgeBearerAuth(newest))
    with pytest.raises(JiraAuthError):
        await client.myself()
    await client.myself()

    assert [header for _, header in jira.seen] == ["Bearer old", "Bearer new"]


async def test_a_refusal_right_after_install_is_retried_by_the_retry_policy_like_a_429() -> None:
    jira = ForgeJira("system-1", refusals=2)
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    client = _client(jira, ForgeBearerAuth(static_token(_token("system-1", lives=3600)), installed_at=time.time() - 10))
    with pytest.raises(JiraGrantPendingError):
        await client.myself()  # no sleeping where the call was made: the caller's policy decides
    retrier = Retrier(RetryPolicy(), sleep=sleep)

    assert (await retrier.call(client.myself, idempotent=True)).account_id == "app-bot"
    assert len(jira.seen) == 3 and len(pauses) == 1
    assert GRANT_RETRY_AFTER <= pauses[0] <= GRANT_RETRY_AFTER + RetryPolicy().retry_after_jitter


async def test_a_refusal_long_after_install_is_not_retried() -> None:
    jira = ForgeJira("system-1", refusals=1)
    auth = ForgeBearerAuth(static_token(_token("system-1", lives=3600)), installed_at=time.time() - 3600)

    with pytest.raises(JiraAuthError):
        await _client(jira, auth).myself()
    assert len(jira.seen) == 1


async def test_a_users_refusal_right_after_install_is_reported_as_it_is() -> None:
    """A user-token call (a Custom UI request) refused 403 is that person's permissions: no "try again" for the five
    minutes after the install, whereas the app's own token then gets the grant-time retry above."""
    user_token = jwt.encode({"exp": int(time.time() + 3600)}, "unused", algorithm="HS256")
    forge_site = ForgeSite(1, "install-1", "cloud-1", "https://acme.atlassian.net", API_BASE, installed_at=time.time())
    scope = {
        "type": "http",
        "headers": [(USER_HEADER.encode(), user_token.encode())],
        "state": {"forge": object(), "forge_site": forge_site},
    }
    auth = user_auth(Request(scope))
    assert auth is not None
    jira = ForgeJira(user_token, refusals=1)

    with pytest.raises(JiraAuthError) as refused:
        await _client(jira, auth).myself()
    assert not isinstance(refused.value, JiraGrantPendingError) and refused.value.status == 403
    assert len(jira.seen) == 1


@pytest.mark.parametrize("token", [None, _token("dying", lives=30), _token("dead", lives=-600)])
async def test_without_a_token_that_stays_valid_nothing_is_sent_and_the_error_says_why(
    token: OAuthToken | None,
) -> None:
    jira = ForgeJira("dying")

    with pytest.raises(ForgeTokenExpiredError, match=r"no valid Forge token.*hourly trigger"):
        await _client(jira, ForgeBearerAuth(static_token(token))).myself()
    assert jira.seen == []
