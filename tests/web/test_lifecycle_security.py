"""Install and uninstall accept only Atlassian's signed RS256 tokens; anything else changes nothing."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import jwt
import pytest

from tests.web.conftest import BASE_URL, AppUnderTest, Jira, KeyServer
from tests.web.project import PROJECT

pytestmark = [pytest.mark.unit, pytest.mark.connect, pytest.mark.web]


def test_signed_install_stores_the_tenant_with_its_secret_encrypted(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()

    installation = app_under_test.services.tenants.find(jira.client_key)
    assert installation is not None
    assert installation.shared_secret == jira.shared_secret
    assert installation.base_url == jira.base_url
    (row,) = app_under_test.tenant_rows()
    assert jira.shared_secret not in " ".join(str(cell) for cell in row)


def test_the_public_key_is_fetched_once_per_kid(app_under_test: AppUnderTest) -> None:
    first, second = app_under_test.jira(), app_under_test.jira()
    first.install()
    second.install()
    assert app_under_test.keys.requests == 1


def test_reinstall_takes_the_new_shared_secret(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    old_secret = jira.shared_secret
    jira.shared_secret = "rotated-" + old_secret
    jira.install()

    installation = app_under_test.services.tenants.find(jira.client_key)
    assert installation is not None and installation.shared_secret == jira.shared_secret
    assert len(app_under_test.tenant_rows()) == 1
    stale = app_under_test.client.get(jira.signed_path("/jira/project?projectKey=DTG", secret=old_secret))
    assert stale.status_code == 401


def _forgeries(jira: Jira, keys: KeyServer) -> dict[str, str]:
    now = int(time.time())
    honest = {"iss": jira.client_key, "aud": BASE_URL, "iat": now, "exp": now + 180}
    from app.connect.qsh import query_string_hash

    honest["qsh"] = query_string_hash("POST", BASE_URL + "/installed", BASE_URL)
    return {
        "hs256 with the shared secret": jwt.encode(
            honest, jira.shared_secret, algorithm="HS256", headers={"kid": "test-kid-1"}
        ),
        "alg none": jwt.encode(honest, None, algorithm="none", headers={"kid": "test-kid-1"}),
        "no kid": jwt.encode(honest, keys.private_key, algorithm="RS256"),
        "unknown kid": jira.install_token(kid="another-kid"),
        "kid with a path": jira.install_token(kid="../etc/passwd"),
        "kid of ..": jira.install_token(kid=".."),
        "kid with a dot": jira.install_token(kid="key.pem"),
        "lives ten years": jira.install_token(exp=now + 10 * 365 * 86400),
        "wrong aud": jira.install_token(aud="https://evil.example"),
        "wrong qsh": jira.install_token(qsh="0" * 64),
        "context qsh": jira.install_token(qsh="context-qsh"),
        "iss is not the clientKey": jira.install_token(iss="jira:someone-else"),
        "expired": jira.install_token(iat=now - 3600, exp=now - 600),
        "not a token": "not.a.token",
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "hs256 with the shared secret",
        "alg none",
        "no kid",
        "unknown kid",
        "kid with a path",
        "kid of ..",
        "kid with a dot",
        "lives ten years",
        "wrong aud",
        "wrong qsh",
        "context qsh",
        "iss is not the clientKey",
        "expired",
        "not a token",
    ],
)
def test_forged_install_is_refused_and_changes_nothing(app_under_test: AppUnderTest, forgery: str) -> None:
    existing = app_under_test.jira()
    existing.install()
    before = app_under_test.tenant_rows()

    attacker = app_under_test.jira()
    token = _forgeries(attacker, app_under_test.keys)[forgery]
    response = attacker.post_lifecycle("/installed", token)

    assert response.status_code == 401, response.text
    assert response.json()["error"]["status"] == 401
    assert app_under_test.tenant_rows() == before


def test_install_overwriting_another_tenant_is_refused(app_under_test: AppUnderTest) -> None:
    victim = app_under_test.jira()
    victim.install()
    before = app_under_test.tenant_rows()
    attacker = app_under_test.jira()
    # A valid token for the attacker's own site, with the victim's clientKey in the body.
    response = attacker.post_lifecycle(
        "/installed", attacker.install_token(), attacker.payload(clientKey=victim.client_key)
    )
    assert response.status_code == 401
    assert app_under_test.tenant_rows() == before


def test_install_without_a_token_or_with_a_bad_body_is_refused(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    assert app_under_test.client.post("/installed", json=jira.payload()).status_code == 401
    bad_body = app_under_test.client.post(
        "/installed", content=b"\xff{not json", headers={"Authorization": f"JWT {jira.install_token()}"}
    )
    assert bad_body.status_code == 400
    missing_secret = jira.post_lifecycle("/installed", jira.install_token(), jira.payload(sharedSecret=""))
    assert missing_secret.status_code == 400
    assert app_under_test.tenant_rows() == []


def test_uninstall_marks_the_tenant_and_is_idempotent(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    page = jira.signed_path("/jira/project?projectKey=DTG")

    for _ in range(2):
        response = jira.post_lifecycle("/uninstalled", jira.install_token("/uninstalled"), jira.payload())
        assert response.status_code == 204
    assert app_under_test.services.tenants.find(jira.client_key) is None
    assert app_under_test.services.tenants.find(jira.client_key, include_uninstalled=True) is not None
    assert app_under_test.client.get(page).status_code == 401


def test_uninstall_needs_a_signed_token_too(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    forged = jwt.encode({"iss": jira.client_key, "exp": int(time.time()) + 60, "qsh": "x"}, jira.shared_secret)
    assert jira.post_lifecycle("/uninstalled", forged).status_code == 401
    assert app_under_test.services.tenants.find(jira.client_key) is not None


def test_reinstall_after_uninstall_reactivates(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    jira.post_lifecycle("/uninstalled", jira.install_token("/uninstalled"))
    jira.install()
    assert app_under_test.services.tenants.find(jira.client_key) is not None


def test_enabled_and_disabled_need_a_request_token(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    client = app_under_test.client
    signed = jira.signed_path("/disabled", method="POST")
    token = signed.split("jwt=", 1)[1]

    assert client.post("/disabled", json=jira.payload(), headers={"Authorization": f"JWT {token}"}).status_code == 204
    installation = app_under_test.services.tenants.find(jira.client_key)
    assert installation is not None and installation.enabled is False
    wrong = jira.context_token()
    assert client.post("/enabled", json=jira.payload(), headers={"Authorization": f"JWT {wrong}"}).status_code == 401


def test_no_shared_secret_reaches_the_log(app_under_test: AppUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jira = app_under_test.jira()
    jira.install()
    jira.post_lifecycle("/installed", jira.install_token(aud="https://evil.example"))
    app_under_test.client.get(jira.signed_path("/jira/project?projectKey=DTG"))
    assert jira.shared_secret not in caplog.text
    assert repr(app_under_test.services.tenants.find(jira.client_key)).count(jira.shared_secret) == 0


def test_large_bodies_are_refused_before_anything_reads_them(app_under_test: AppUnderTest) -> None:
    client = app_under_test.client
    jira = app_under_test.jira()
    huge = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    declared = client.post("/installed", content=huge, headers={"Authorization": f"JWT {jira.install_token()}"})
    assert declared.status_code == 413
    assert app_under_test.tenant_rows() == []

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as the body streams in
        for _ in range(40):
            yield b" " * 65536

    jira.install()
    token = jira.context_token(context={"jira": {"project": {"key": "DTG", "id": "10000"}}})
    headers = {"Authorization": f"JWT {token}", "Content-Type": "application/json"}
    session_id = client.post("/api/sessions", headers=headers).json()["id"]
    streamed = client.post(f"/api/sessions/{session_id}/generate", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert "larger than" in streamed.json()["error"]["message"]


@pytest.mark.parametrize(
    "site",
    [
        {"baseUrl": "http://10.0.0.5:8080/internal"},
        {"baseUrl": "https://evil.example"},
        {"baseUrl": "http://tenant-a.atlassian.net"},
        {"displayUrl": "http://127.0.0.1:6379"},
        {"displayUrl": 42},
    ],
    ids=["internal host", "not jira", "plain http", "display url", "display url not text"],
)
def test_an_install_naming_a_site_outside_jira_cloud_is_refused(app_under_test: AppUnderTest, site: dict) -> None:
    # The body is not covered by the token's qsh, and every later call to Jira goes to baseUrl.
    jira = app_under_test.jira()
    response = jira.post_lifecycle("/installed", jira.install_token(), jira.payload(**site))
    assert response.status_code == 400
    assert app_under_test.tenant_rows() == []


def test_a_disabled_app_serves_no_page_or_api_but_keeps_the_data(app_under_test: AppUnderTest) -> None:
    jira = app_under_test.jira()
    jira.install()
    client, api = app_under_test.client, {"Authorization": f"JWT {jira.context_token()}"}
    session = client.post("/api/sessions", headers={"Authorization": f"JWT {jira.context_token(context=PROJECT)}"})
    assert session.status_code == 201, session.text

    def lifecycle(path: str) -> int:
        token = jira.signed_path(path, method="POST").split("jwt=", 1)[1]
        return client.post(path, json=jira.payload(), headers={"Authorization": f"JWT {token}"}).status_code

    assert lifecycle("/disabled") == 204
    page = client.get(jira.signed_path("/jira/project?projectKey=DTG&projectId=10000"))
    me = client.get("/api/me", headers=api)
    assert (page.status_code, me.status_code) == (401, 401)
    assert "disabled on this Jira site" in me.json()["error"]["message"]
    tenant = app_under_test.services.tenants.find(jira.client_key)
    assert (
        tenant is not None
        and len(app_under_test.services.sessions.list_for_project(tenant_id=tenant.id, project_key="DTG")) == 1
    )

    assert lifecycle("/enabled") == 204
    assert client.get("/api/me", headers=api).status_code == 200
