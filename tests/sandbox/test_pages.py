"""Jira-like pages hosting the app's modules in iframes with signed URLs, the context tokens, and all.js."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from app.connect.qsh import CONTEXT_QSH, query_string_hash
from app.sandbox import SandboxConfig
from app.sandbox.models import ADMIN_USER, DEVELOPER_USER

pytestmark = [pytest.mark.unit, pytest.mark.connect]


def iframe_src(page: str) -> str:
    [src] = re.findall(r'<iframe class="ap-iframe" src="([^"]+)"', page)
    return html.unescape(src)


def verified_iframe_claims(src: str, installed: dict[str, Any], app_url: str) -> dict[str, Any]:
    """Decode the iframe's `jwt` as our app must: signature, `aud` = app key, and the `qsh` of this very GET."""
    token = parse_qs(urlsplit(src).query)["jwt"][0]
    claims = jwt.decode(token, installed["sharedSecret"], algorithms=["HS256"], audience=installed["appKey"])
    assert claims["qsh"] == query_string_hash("GET", src, app_url)
    return claims


@pytest.mark.anyio
async def test_project_page_embeds_the_project_page_module_with_a_jwt_bound_to_its_url(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], fake_app: Any, config: SandboxConfig
) -> None:
    page = await sandbox.get("/projects/DTG")
    assert page.status_code == 200
    src = iframe_src(page.text)
    assert src.startswith(f"{fake_app.url}/jira/project?projectKey=DTG&projectId=10000&")
    params = parse_qs(urlsplit(src).query, keep_blank_values=True)
    assert params["xdm_e"] == [config.public_url]
    assert params["xdm_deprecated_addon_key_do_not_use"] == [fake_app.key]
    assert params["cp"] == [""] and params["lic"] == ["none"] and params["loc"] == ["en-GB"]
    assert list(params)[-1] == "jwt"
    claims = verified_iframe_claims(src, installed, fake_app.url)
    assert claims["iss"] == installed["clientKey"]
    assert claims["sub"] == ADMIN_USER.account_id
    assert claims["exp"] - claims["iat"] == 180
    assert claims["context"] == {
        "user": {"accountId": ADMIN_USER.account_id, "accountType": "atlassian"},
        "jira": {"project": {"key": "DTG", "id": "10000"}},
    }


@pytest.mark.anyio
async def test_acting_as_the_developer_signs_the_iframe_for_the_developer(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], fake_app: Any
) -> None:
    page = await sandbox.get("/projects/DTG?as=developer")
    claims = verified_iframe_claims(iframe_src(page.text), installed, fake_app.url)
    assert claims["sub"] == DEVELOPER_USER.account_id


@pytest.mark.anyio
async def test_configure_page_is_for_admins_only(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], fake_app: Any
) -> None:
    page = await sandbox.get(f"/plugins/servlet/configure/{fake_app.key}")
    assert page.status_code == 200
    src = iframe_src(page.text)
    assert src.startswith(f"{fake_app.url}/jira/configure?xdm_e=")
    assert verified_iframe_claims(src, installed, fake_app.url)["context"]["jira"] == {}
    assert (await sandbox.get(f"/plugins/servlet/configure/{fake_app.key}?as=developer")).status_code == 403


@pytest.mark.anyio
async def test_pages_without_an_app_or_project_say_so(sandbox: httpx.AsyncClient) -> None:
    page = await sandbox.get("/projects/DTG")
    assert page.status_code == 200 and "No installed app has a project page" in page.text
    assert (await sandbox.get("/projects/NOPE")).status_code == 404
    assert (await sandbox.get("/browse/DTG-999")).status_code == 404
    index = await sandbox.get("/")
    assert 'href="/projects/DTG"' in index.text


@pytest.mark.anyio
async def test_context_token_carries_context_qsh_and_the_page_context(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], config: SandboxConfig
) -> None:
    response = await sandbox.post(
        "/_sandbox/context-token",
        json={"appKey": installed["appKey"], "context": {"project": {"key": "DTG"}}, "as": "developer"},
        headers={"Origin": config.public_url},
    )
    token = response.json()["token"]
    claims = jwt.decode(token, installed["sharedSecret"], algorithms=["HS256"], audience=installed["appKey"])
    assert claims["qsh"] == CONTEXT_QSH
    assert claims["iss"] == installed["clientKey"]
    assert claims["sub"] == DEVELOPER_USER.account_id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["context"]["jira"] == {"project": {"key": "DTG", "id": "10000"}}


@pytest.mark.anyio
async def test_context_token_is_refused_to_other_origins_and_unknown_apps(
    sandbox: httpx.AsyncClient, installed: dict[str, Any], fake_app: Any
) -> None:
    body = {"appKey": installed["appKey"]}
    refused = await sandbox.post("/_sandbox/context-token", json=body, headers={"Origin": fake_app.url})
    assert refused.status_code == 403
    unknown = await sandbox.post("/_sandbox/context-token", json={"appKey": "someone-else"})
    assert unknown.status_code == 404


@pytest.mark.anyio
async def test_all_js_is_served_as_javascript_and_talks_postmessage(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/atlassian-connect/all.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    for api in (
        "window.AP",
        "getToken",
        "getContext",
        "sizeToParent",
        "flag",
        "window.parent.postMessage",
        "event.origin !== hostOrigin",
    ):
        assert api in response.text
    host = await sandbox.get("/_sandbox/static/host.js")
    assert "event.origin !== frame.dataset.appOrigin" in host.text
