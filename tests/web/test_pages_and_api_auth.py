"""Module pages take only request-bound tokens, the JSON API only context tokens, each within its tenant."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from starlette.routing import Route

from app.connect.qsh import CONTEXT_QSH
from app.connect.verifiers import AuthenticationError, ContextTokenVerifier
from app.domain.installation import Installation
from app.main import routes
from app.web.headers import module_page_headers
from app.web.routing import check_policies
from tests.support import make_settings
from tests.web.conftest import AppUnderTest

pytestmark = [pytest.mark.unit, pytest.mark.connect, pytest.mark.web]

PROJECT = "/jira/project?projectKey=DTG&projectId=10000"


def test_project_page_opens_with_a_token_bound_to_its_url(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    response = app_under_test.client.get(jira.signed_path(PROJECT))

    assert response.status_code == 200
    assert "Project <strong>DTG</strong>" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors https://tenant-a.atlassian.net" in csp
    assert "unsafe-eval" not in csp


# The configure page also asks Jira whether the user is an admin: tests/web/test_admin.py covers it.
@pytest.mark.parametrize("path", ["/jira/glance?issueKey=DTG-1&issueId=1&projectKey=DTG"])
def test_other_module_pages_open_with_their_own_token(app_under_test: AppUnderTest, path: str) -> None:
    jira = app_under_test.jira()
    jira.install()
    assert app_under_test.client.get(jira.signed_path(path)).status_code == 200


def test_sandbox_origin_may_frame_pages_when_configured(tmp_path: Path, app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    installation = app_under_test.services.tenants.find(jira.client_key)
    assert installation is not None
    settings = make_settings(tmp_path, DTG_FRAME_ANCESTORS="http://127.0.0.1:8100")
    assert "http://127.0.0.1:8100" in module_page_headers(installation, settings)["Content-Security-Policy"]


def test_a_token_replayed_on_another_url_is_refused(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    token = jira.signed_path(PROJECT).split("jwt=", 1)[1]
    assert app_under_test.client.get(f"/jira/configure?jwt={token}").status_code == 401
    assert app_under_test.client.get(f"/jira/project?projectKey=OTHER&projectId=10000&jwt={token}").status_code == 401


def test_context_token_cannot_open_a_module_page(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    response = app_under_test.client.get(f"{PROJECT}&jwt={jira.context_token()}")
    assert response.status_code == 401
    assert "text/html" in response.headers["content-type"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("case", ["wrong secret", "expired", "unknown tenant", "garbage", "no token"])
def test_bad_page_tokens_are_refused(app_under_test: AppUnderTest, case: str) -> None:
    jira = app_under_test.jira()
    jira.install()
    stranger = app_under_test.jira()
    now = int(time.time())
    path = {
        "wrong secret": jira.signed_path(PROJECT, secret="not-the-secret-" + "x" * 32),
        "expired": jira.signed_path(PROJECT, iat=now - 3600, exp=now - 300),
        "unknown tenant": stranger.signed_path(PROJECT),
        "garbage": PROJECT + "&jwt=abc.def.ghi",
        "no token": PROJECT,
    }[case]
    assert app_under_test.client.get(path).status_code == 401


def test_api_accepts_context_tokens_only(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    client = app_under_test.client

    ok = client.get("/api/me", headers={"Authorization": f"JWT {jira.context_token()}"})
    assert ok.status_code == 200
    assert ok.json()["accountId"] == "5b10ac8d8"

    module_token = jira.signed_path("/api/me").split("jwt=", 1)[1]
    assert client.get("/api/me", headers={"Authorization": f"JWT {module_token}"}).status_code == 401
    assert client.get(f"/api/me?jwt={jira.context_token()}").status_code == 401
    assert client.get("/api/me").json()["error"]["status"] == 401


def test_tenant_a_cannot_read_tenant_b_tasks(app_under_test: AppUnderTest) -> None:
    tenant_a = app_under_test.jira()
    tenant_b = app_under_test.jira(base_url="https://tenant-b.atlassian.net")
    tenant_a.install()
    tenant_b.install()
    b = app_under_test.services.tenants.find(tenant_b.client_key)
    assert b is not None
    upload = app_under_test.services.sessions.create(tenant_id=b.id, project_key="DTG")
    task = app_under_test.services.tasks.create(tenant_id=b.id, kind="generate", total=1, session_id=upload.id)
    client = app_under_test.client
    project = {"context": {"jira": {"project": {"key": "DTG", "id": "10000"}}}}

    own = client.get(f"/api/tasks/{task.id}", headers={"Authorization": f"JWT {tenant_b.context_token(**project)}"})
    other = client.get(f"/api/tasks/{task.id}", headers={"Authorization": f"JWT {tenant_a.context_token(**project)}"})
    assert own.status_code == 200 and own.json()["kind"] == "generate"
    assert other.status_code == 404


def test_a_route_without_a_policy_cannot_be_registered() -> None:
    async def endpoint(request):  # type: ignore[no-untyped-def]
        raise AssertionError("never called")

    with pytest.raises(RuntimeError, match="declares no authentication policy"):
        check_policies([*routes(), Route("/open", endpoint)])


def test_descriptor_and_health_are_public(app_under_test: AppUnderTest) -> None:
    descriptor = app_under_test.client.get("/atlassian-connect.json").json()
    assert descriptor["baseUrl"] == "https://dtg.test"
    assert app_under_test.client.get("/healthz").json() == {"status": "ok"}
    assert app_under_test.client.get("/no-such-page").status_code == 404


@pytest.mark.parametrize(("lifetime", "status"), [(3_000, 200), (3_601 + 60, 401), (10 * 365 * 86_400, 401)])
def test_tokens_living_longer_than_an_hour_are_refused(
    app_under_test: AppUnderTest, lifetime: int, status: int
) -> None:
    jira = app_under_test.jira()
    jira.install()
    now = int(time.time())
    context = jira.context_token(iat=now, exp=now + lifetime)
    claims = {"iss": jira.client_key, "exp": now + lifetime, "qsh": CONTEXT_QSH}
    without_iat = jwt.encode(claims, jira.shared_secret, algorithm="HS256")
    page = jira.signed_path("/jira/project?projectKey=DTG&projectId=10000", exp=now + lifetime)

    assert app_under_test.client.get("/api/me", headers={"Authorization": f"JWT {context}"}).status_code == status
    assert app_under_test.client.get("/api/me", headers={"Authorization": f"JWT {without_iat}"}).status_code == status
    assert app_under_test.client.get(page).status_code == status


@pytest.mark.anyio
async def test_the_lifetime_cap_is_the_operators_to_set() -> None:
    site = "https://a.atlassian.net"
    installation = Installation(id=1, client_key="c", base_url=site, display_url=site, shared_secret="s" * 40)

    async def lookup(issuer: str) -> Installation | None:
        return installation if issuer == "c" else None

    now = int(time.time())
    token = jwt.encode({"iss": "c", "iat": now, "exp": now + 5_000, "qsh": CONTEXT_QSH}, "s" * 40, algorithm="HS256")
    strict = ContextTokenVerifier(app_base_url="https://app.test", lookup=lookup)
    relaxed = ContextTokenVerifier(app_base_url="https://app.test", lookup=lookup, max_lifetime_s=7_200)

    with pytest.raises(AuthenticationError, match="lives longer than 3600 s"):
        await strict.verify(token, "GET", "https://app.test/api/me")
    assert (await relaxed.verify(token, "GET", "https://app.test/api/me")).installation is installation
