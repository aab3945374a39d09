"""The configure page and its API: Jira admins only (asked of a fake Jira through the real HTTP client), the API
key encrypted and never shown, validation, the connectivity check, and tenant isolation."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from app.connect.qsh import query_string_hash
from app.container import build_services
from app.db.migrate import upgrade
from app.encryption import SecretBox
from app.intake.model import Action
from app.intake.status import SPEC_TOOL_LEGEND
from app.jira.permissions import AdminCheck
from app.main import create_app
from app.pipeline.configuration import (
    _llm_config,
    effective_default_labels,
    effective_existing_site,
    effective_llm_config,
    effective_status_mapping,
)
from tests.support import LoopbackServer, RecordingQueue, make_settings, remember_secret
from tests.web.conftest import BASE_URL, KEYS_URL, AppUnderTest, Jira, KeyServer

pytestmark = [pytest.mark.unit, pytest.mark.web]

PAGE_USER = "5b10ac8d82e05b22cc7d4ef5"  # the `sub` of Jira.signed_path
API_USER = "5b10ac8d8"  # the default `sub` of Jira.context_token
SECRET_KEY = remember_secret("sk-proj-THIS-IS-THE-SECRET-1234")
OPENAI = {
    "provider": "openai",
    "model": "gpt-4o-mini",
    "apiKey": SECRET_KEY,
    "statusMapping": [{"status": "a", "action": "build"}, {"status": "w", "action": "hold"}],
    "labels": ["drupal-build"],
}


def openai_completion() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": None,
                    "message": {"role": "assistant", "content": "OK", "refusal": None},
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        },
    )


@dataclass
class FakeInternet:
    """The install-key server, Jira sites answering `permissions/check` (checking the app's JWT), and OpenAI."""

    keys: KeyServer
    app_key: str
    secrets: dict[str, str] = field(default_factory=dict)  # Jira host -> shared secret
    admins: set[str] = field(default_factory=set)
    jira_status: int = 200
    permission_checks: list[dict[str, Any]] = field(default_factory=list)
    openai: list[httpx.Request] = field(default_factory=list)
    openai_reply: httpx.Response = field(default_factory=openai_completion)

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host == urlsplit(KEYS_URL).hostname:
            return self.keys.handle(request)
        if host == "api.openai.com":
            self.openai.append(request)
            return self.openai_reply
        assert request.url.path == "/rest/api/3/permissions/check", request.url
        token = request.headers["authorization"].removeprefix("JWT ")
        claims = jwt.decode(token, self.secrets[host], algorithms=["HS256"])
        assert claims["iss"] == self.app_key  # signed as the app, not as the tenant
        assert claims["qsh"] == query_string_hash("POST", str(request.url), f"https://{host}")
        body = json.loads(request.content)
        self.permission_checks.append(body)
        if self.jira_status != 200:
            return httpx.Response(self.jira_status, json={"errorMessages": ["down"], "errors": {}})
        granted = ["ADMINISTER"] if body["accountId"] in self.admins else []
        return httpx.Response(200, json={"globalPermissions": granted, "projectPermissions": []})


@dataclass
class Site:
    app: AppUnderTest
    internet: FakeInternet
    jira: Jira

    def site(self, base_url: str) -> Jira:
        """Another Jira site with the app installed."""
        other = self.app.jira(base_url=base_url)
        other.install()
        self.internet.secrets[urlsplit(base_url).hostname or ""] = other.shared_secret
        return other

    def api(self, method: str, path: str, *, jira: Jira | None = None, **kwargs: Any) -> httpx.Response:
        token = (jira or self.jira).context_token()
        return self.app.client.request(method, path, headers={"Authorization": f"JWT {token}"}, **kwargs)

    def settings_row(self) -> list[tuple[Any, ...]]:
        with self.app.services.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text("SELECT * FROM tenant_settings"))]

    def audit_rows(self) -> list[tuple[Any, ...]]:
        with self.app.services.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text("SELECT action, account_id, detail FROM audit_events"))]

    def tenant_id(self, jira: Jira | None = None) -> int:
        installation = self.app.services.tenants.find((jira or self.jira).client_key)
        assert installation is not None
        return installation.id


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from _site(tmp_path)


@pytest.fixture
def loopback_site(tmp_path: Path) -> Iterator[Site]:
    """A site on a server whose operator lets tenants' base URLs reach this machine's loopback over http."""
    yield from _site(tmp_path, DTG_ALLOWED_LLM_HOSTS="127.0.0.1", DTG_LLM_ALLOW_HTTP="true")


def _site(tmp_path: Path, **environment: str) -> Iterator[Site]:
    settings = make_settings(tmp_path, DTG_BASE_URL=BASE_URL, DTG_CONNECT_INSTALL_KEYS_URL=KEYS_URL, **environment)
    upgrade(settings.database_url)
    internet = FakeInternet(KeyServer(), settings.app_key, admins={PAGE_USER, API_USER})
    queue = RecordingQueue()
    services = build_services(settings, queue, http=httpx.AsyncClient(transport=httpx.MockTransport(internet.handle)))
    with TestClient(create_app(settings, queue, services=services), base_url=BASE_URL) as client:
        app = AppUnderTest(client, services, queue, internet.keys)
        fixture = Site(app, internet, app.jira())
        fixture.jira.install()
        internet.secrets["tenant-a.atlassian.net"] = fixture.jira.shared_secret
        yield fixture
    services.engine.dispose()


def test_an_admin_opens_the_page_with_the_legend_and_no_key(site: Site) -> None:
    response = site.app.client.get(site.jira.signed_path("/jira/configure"))

    assert response.status_code == 200
    assert 'id="dtg-settings"' in response.text and 'data-stored="false"' in response.text
    for code, action in SPEC_TOOL_LEGEND.items():
        assert f'value="{code}" maxlength="16"' in response.text, action
    assert "<script>" not in response.text  # the CSP forbids inline scripts
    assert site.internet.permission_checks == [{"globalPermissions": ["ADMINISTER"], "accountId": PAGE_USER}]


def test_a_non_admin_gets_403_everywhere_and_changes_nothing(site: Site) -> None:
    site.internet.admins.clear()

    page = site.app.client.get(site.jira.signed_path("/jira/configure"))
    assert page.status_code == 403 and "Only Jira administrators can change these settings" in page.text
    assert "dtg-settings" not in page.text
    for method, path, body in [
        ("GET", "/api/admin/settings", None),
        ("PUT", "/api/admin/settings", OPENAI),
        ("POST", "/api/admin/settings/check", OPENAI),
    ]:
        answer = site.api(method, path, json=body)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["message"] == "Only Jira administrators can change these settings."
    assert site.settings_row() == [] and site.audit_rows() == []
    assert site.internet.openai == []


def test_the_admin_answer_is_cached_per_site_and_account_for_a_minute(site: Site) -> None:
    now = [1000.0]
    site.app.services.admin_check = AdminCheck(site.app.services.http, "drupal-ticket-generator", clock=lambda: now[0])

    for _ in range(3):
        assert site.api("GET", "/api/admin/settings").status_code == 200
    assert len(site.internet.permission_checks) == 1
    site.app.client.get(site.jira.signed_path("/jira/configure"))  # another account: asked separately
    assert len(site.internet.permission_checks) == 2

    site.internet.admins.discard(API_USER)
    now[0] += 61
    assert site.api("GET", "/api/admin/settings").status_code == 403
    assert len(site.internet.permission_checks) == 3


def test_when_jira_cannot_answer_the_page_stays_closed_and_nothing_is_cached(site: Site) -> None:
    site.internet.jira_status = 503
    assert site.api("GET", "/api/admin/settings").status_code == 503
    site.internet.jira_status = 200
    assert site.api("GET", "/api/admin/settings").status_code == 200
    assert len(site.internet.permission_checks) == 2


def test_a_module_iframe_token_is_refused_by_the_api(site: Site) -> None:
    iframe_token = site.jira.signed_path("/api/admin/settings").split("jwt=", 1)[1]
    by_header = site.app.client.get("/api/admin/settings", headers={"Authorization": f"JWT {iframe_token}"})
    by_query = site.app.client.get(f"/api/admin/settings?jwt={iframe_token}")
    assert (by_header.status_code, by_query.status_code) == (401, 401)
    assert site.internet.permission_checks == []


def test_the_key_is_stored_encrypted_and_never_returned_or_logged(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    saved = site.api("PUT", "/api/admin/settings", json=OPENAI)
    assert saved.status_code == 200, saved.text

    assert saved.json()["apiKeyStored"] is True and saved.json()["labels"] == ["drupal-build"]
    [row] = site.settings_row()
    assert SECRET_KEY not in repr(row)
    stored = site.app.services.tenant_settings
    assert stored.api_key(site.tenant_id()) == SECRET_KEY
    encrypted = next(value for value in row if isinstance(value, str) and value.startswith("gAAAA"))
    assert SecretBox(site.app.services.settings.secret_key).decrypt(encrypted) == SECRET_KEY

    answers = [
        saved.text,
        site.api("GET", "/api/admin/settings").text,
        site.app.client.get(site.jira.signed_path("/jira/configure")).text,
        site.api("POST", "/api/admin/settings/check", json={"provider": "openai", "model": "gpt-4o-mini"}).text,
    ]
    assert all(SECRET_KEY not in answer and SECRET_KEY[-4:] not in answer for answer in answers)
    assert SECRET_KEY not in caplog.text
    [(action, account, detail)] = site.audit_rows()
    assert (action, account) == ("configured", API_USER)
    assert SECRET_KEY not in str(detail) and json.loads(detail)["api_key"] == "replaced"


def test_the_key_is_kept_replaced_removed_or_forgotten_with_its_provider(loopback_site: Site) -> None:
    site = loopback_site
    tenant = site.tenant_id()
    keys = site.app.services.tenant_settings
    site.api("PUT", "/api/admin/settings", json=OPENAI)

    kept = site.api("PUT", "/api/admin/settings", json=OPENAI | {"apiKey": "", "model": "gpt-4o"})
    assert kept.json()["apiKeyStored"] is True and keys.api_key(tenant) == SECRET_KEY
    site.api("PUT", "/api/admin/settings", json=OPENAI | {"apiKey": "sk-new"})
    assert keys.api_key(tenant) == "sk-new"
    removed = site.api("PUT", "/api/admin/settings", json=OPENAI | {"apiKey": None, "removeApiKey": True})
    assert removed.status_code == 400  # openai needs a key: removing the only one is refused
    assert keys.api_key(tenant) == "sk-new"

    switched = site.api(
        "PUT",
        "/api/admin/settings",
        json={
            "provider": "openai_compatible",
            "model": "llama3.1:8b",
            "baseUrl": "http://127.0.0.1:11434/v1",
            "statusMapping": OPENAI["statusMapping"],
        },
    )
    assert switched.status_code == 200 and switched.json()["apiKeyStored"] is False
    assert keys.api_key(tenant) is None  # an OpenAI key is never sent to another endpoint


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provider": "gemini"}, "Unknown language model provider 'gemini'"),
        ({"model": ""}, "Choose a model for the openai provider."),
        ({"provider": "anthropic", "model": "claude-3-5-haiku-latest", "apiKey": ""}, "needs an API key"),
        ({"provider": "openai_compatible", "baseUrl": ""}, "needs a base URL"),
        ({"provider": "openai_compatible", "baseUrl": "file:///etc/passwd"}, "is not an http:// or https://"),
        ({"labels": ["drupal build"]}, "Jira labels cannot contain spaces: 'drupal build' (try 'drupal-build')"),
        ({"statusMapping": [{"status": "a", "action": "demolish"}]}, "Unknown action 'demolish' for status 'a'"),
        ({"statusMapping": [{"status": "a", "action": "build"}, {"status": " A", "action": "hold"}]}, "twice"),
        ({"statusMapping": []}, "needs at least one status"),
        ({"apiKey": "sk with spaces"}, "The API key looks wrong"),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_400(site: Site, change: dict[str, Any], message: str) -> None:
    answer = site.api("PUT", "/api/admin/settings", json=OPENAI | change)

    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]
    assert site.settings_row() == [] and site.audit_rows() == []


def test_a_body_that_is_not_json_is_a_400(site: Site) -> None:
    token = site.jira.context_token()
    headers = {"Authorization": f"JWT {token}", "Content-Type": "application/json"}
    answer = site.app.client.put("/api/admin/settings", content=b"{nope", headers=headers)
    assert answer.status_code == 400
    assert site.api("PUT", "/api/admin/settings", content=b"{}").status_code == 415  # not sent as JSON


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/admin/settings", OPENAI | {"provider": ["openai"]}, "provider: must be text or null"),
        ("/api/admin/settings", OPENAI | {"model": {"name": "gpt"}}, "model: must be text or null"),
        ("/api/admin/settings", OPENAI | {"apiKey": 12345}, "apiKey: must be text or null"),
        ("/api/admin/settings", OPENAI | {"removeApiKey": "yes"}, "removeApiKey: must be true or false"),
        ("/api/admin/settings", OPENAI | {"statusMapping": {"a": "build"}}, "statusMapping: must be a list"),
        ("/api/admin/settings", OPENAI | {"statusMapping": ["a"]}, "statusMapping[0]: must be an object"),
        ("/api/admin/settings", OPENAI | {"statusMapping": [{"status": 1, "action": "build"}]}, "status: must be"),
        ("/api/admin/settings", OPENAI | {"labels": "drupal"}, "labels: must be a list or null"),
        ("/api/admin/settings", OPENAI | {"labels": [1]}, "labels[0]: must be text"),
        ("/api/admin/settings", OPENAI | {"baseUrl": "https://x.test/" + "a" * 3000}, "longer than 2,048"),
        ("/api/admin/settings", [OPENAI], "must be a JSON object"),
        ("/api/admin/settings/check", OPENAI | {"provider": 7}, "provider: must be text or null"),
        ("/api/admin/export-settings", {"ticketIssueType": ["Task"]}, "ticketIssueType: must be text"),
        ("/api/admin/export-settings", {"areaIssueType": 3}, "areaIssueType: must be text"),
        ("/api/admin/export-settings", {"fieldDefaults": {f"customfield_{n}": "x" for n in range(101)}}, "100 items"),
        ("/api/admin/export-settings", {"fieldDefaults": {"customfield_1": "x" * 1001}}, "longer than 1,000"),
    ],
)
def test_admin_bodies_of_the_wrong_shape_are_a_400_naming_the_field_and_change_nothing(
    site: Site, path: str, body: Any, message: str
) -> None:
    method = "POST" if path.endswith("/check") else "PUT"
    answer = site.api(method, path, json=body)

    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]["message"]
    assert site.settings_row() == [] and site.audit_rows() == []
    assert site.app.services.export_settings.get(site.tenant_id()).field_defaults == {}
    assert site.internet.openai == []  # a refused check calls nothing


def test_the_connectivity_check_uses_the_typed_key_then_the_stored_one(site: Site) -> None:
    typed = site.api("POST", "/api/admin/settings/check", json=OPENAI)
    assert typed.json()["ok"] is True and "gpt-4o-mini answered" in typed.json()["message"]
    assert site.internet.openai[-1].headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert site.settings_row() == []  # a check saves nothing

    site.api("PUT", "/api/admin/settings", json=OPENAI)
    stored = site.api("POST", "/api/admin/settings/check", json={"provider": "openai", "model": "gpt-4o-mini"})
    assert stored.json()["ok"] is True
    assert site.internet.openai[-1].headers["authorization"] == f"Bearer {SECRET_KEY}"


def test_a_failing_connectivity_check_reports_why(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    site.internet.openai_reply = httpx.Response(401, json={"error": {"message": "Incorrect API key", "type": "x"}})

    refused = site.api("POST", "/api/admin/settings/check", json=OPENAI)
    incomplete = site.api("POST", "/api/admin/settings/check", json={"provider": "anthropic", "model": "claude"})

    assert refused.status_code == 200 and refused.json()["ok"] is False and refused.json()["message"]
    assert incomplete.json() == {"ok": False, "message": "The anthropic provider needs an API key."}
    assert SECRET_KEY not in caplog.text


def test_a_tenant_reads_and_changes_only_its_own_settings(site: Site) -> None:
    other = site.site("https://tenant-b.atlassian.net")
    site.api("PUT", "/api/admin/settings", json=OPENAI)

    seen_by_b = site.api("GET", "/api/admin/settings", jira=other).json()
    assert seen_by_b["configured"] is False and seen_by_b["apiKeyStored"] is False and seen_by_b["labels"] == []
    offline = {"provider": "offline", "statusMapping": [{"status": "a", "action": "build"}], "labels": ["b-only"]}
    assert site.api("PUT", "/api/admin/settings", jira=other, json=offline).status_code == 200

    mine = site.api("GET", "/api/admin/settings").json()
    assert (mine["provider"], mine["apiKeyStored"], mine["labels"]) == ("openai", True, ["drupal-build"])
    assert site.app.services.tenant_settings.api_key(site.tenant_id(other)) is None


def test_effective_settings_merge_the_tenant_over_the_environment(site: Site) -> None:
    services, tenant = site.app.services, site.tenant_id()

    assert effective_llm_config(services, tenant).provider == "offline"  # the environment's default
    assert effective_status_mapping(services.tenant_settings, tenant).action_for("W") is Action.HOLD
    assert effective_default_labels(services, tenant) == []

    site.api("PUT", "/api/admin/settings", json=OPENAI)
    config = effective_llm_config(services, tenant)
    assert (config.provider, config.model, config.api_key) == ("openai", "gpt-4o-mini", SECRET_KEY)
    mapping = effective_status_mapping(services.tenant_settings, tenant)
    assert (mapping.action_for(" A "), mapping.action_for("d")) == (Action.BUILD, None)
    assert effective_default_labels(services, tenant) == ["drupal-build"]


def test_the_operators_key_never_goes_to_a_base_url_a_tenant_typed(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        DTG_LLM_PROVIDER="openai_compatible",
        DTG_LLM_MODEL="local",
        DTG_LLM_BASE_URL="http://llm.internal/v1",
        DTG_LLM_API_KEY=remember_secret("sk-operator-key-0123456789"),
    )
    assert _llm_config(settings, "openai_compatible").api_key == settings.llm_api_key
    assert _llm_config(settings, "openai_compatible", "x", "http://llm.internal/v1").api_key == settings.llm_api_key
    # Another endpoint gets no key of ours, only the one its admin typed.
    assert _llm_config(settings, "openai_compatible", "x", "https://evil.example/v1").api_key is None
    assert (
        _llm_config(settings, "openai_compatible", "x", "https://evil.example/v1", "sk-theirs").api_key == "sk-theirs"
    )


def test_export_settings_default_to_task_under_epic_and_are_saved_with_an_audit_event(site: Site) -> None:
    assert site.api("GET", "/api/admin/export-settings").json() == {
        "ticketIssueType": "Task",
        "areaIssueType": "Epic",
        "epicsEnabled": True,
        "fieldDefaults": {},
        "updatedBy": None,
    }
    form = {
        "ticketIssueType": "Story",
        "areaIssueType": "Epic",
        "epicsEnabled": False,
        "fieldDefaults": {"customfield_10050": " Web ", "customfield_10051": ""},
    }
    saved = site.api("PUT", "/api/admin/export-settings", json=form)
    assert saved.status_code == 200
    assert saved.json() | {"updatedBy": None} == form | {
        "fieldDefaults": {"customfield_10050": "Web"},
        "updatedBy": None,
    }
    assert site.api("GET", "/api/admin/export-settings").json()["ticketIssueType"] == "Story"
    assert site.app.services.export_settings.get(site.tenant_id()).field_defaults == {"customfield_10050": "Web"}
    [(action, account, _)] = site.audit_rows()
    assert (action, account) == ("configured_export", API_USER)
    # Another site sees its own defaults, not these.
    other = site.site("https://tenant-b.atlassian.net")
    assert site.api("GET", "/api/admin/export-settings", jira=other).json()["ticketIssueType"] == "Task"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"ticketIssueType": "Bug"}, "Task or Story"),
        ({"areaIssueType": "  "}, "name such as 'Epic'"),
        ({"areaIssueType": "E" * 61}, "at most 60 characters"),
        ({"fieldDefaults": {"customfield_1": "x" * 256}}, "at most 255 characters"),
        ({"epicsEnabled": "yes"}, "true or false"),
        ({"fieldDefaults": {"summary": "x"}}, "fills 'summary' itself"),
        ({"fieldDefaults": {"custom field": "x"}}, "not a Jira field id"),
        ({"fieldDefaults": {"customfield_1": 5}}, "must be text"),
        ({"fieldDefaults": ["customfield_1"]}, "must be an object"),
    ],
)
def test_bad_export_settings_are_refused_and_change_nothing(site: Site, form: dict[str, Any], message: str) -> None:
    answer = site.api("PUT", "/api/admin/export-settings", json=form)
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]
    assert site.app.services.export_settings.get(site.tenant_id()).ticket_issue_type == "Task"
    assert site.audit_rows() == []


def test_export_settings_and_project_checks_are_for_admins_only(site: Site) -> None:
    refused = site.api("GET", "/api/admin/export-settings/project?project=../myself")
    assert refused.status_code == 400 and "not a Jira project key" in refused.json()["error"]["message"]
    site.internet.admins.clear()
    site.app.services.admin_check = AdminCheck(site.app.services.http, "drupal-ticket-generator")
    for method, path in [
        ("GET", "/api/admin/export-settings"),
        ("PUT", "/api/admin/export-settings"),
        ("GET", "/api/admin/export-settings/project?project=DTG"),
    ]:
        assert site.api(method, path, json={}).status_code == 403, path
    assert site.audit_rows() == []


def test_the_configure_page_carries_the_issue_settings_form(site: Site) -> None:
    page = site.app.client.get(site.jira.signed_path("/jira/configure")).text
    assert 'id="dtg-export-settings"' in page and 'id="dtg-field-defaults"' in page
    assert "/static/export-settings.js" in page
    assert site.app.client.get("/static/export-settings.js").status_code == 200


COMPATIBLE = {"provider": "openai_compatible", "model": "llama3.1:8b", "statusMapping": OPENAI["statusMapping"]}


@pytest.fixture
def endpoint() -> Iterator[LoopbackServer]:
    """A real OpenAI-compatible endpoint on this machine's loopback."""
    with LoopbackServer(body=openai_completion().content) as server:
        yield server


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "127.1:{port}", "0x7f000001:{port}", "[::ffff:127.0.0.1]:{port}"],
)
def test_a_base_url_on_an_internal_address_is_refused_and_never_called(
    site: Site, endpoint: LoopbackServer, host: str
) -> None:
    base_url = f"https://{host.format(port=endpoint.port)}/v1"
    body = COMPATIBLE | {"baseUrl": base_url, "apiKey": "sk-typed"}

    saved = site.api("PUT", "/api/admin/settings", json=body)
    checked = site.api("POST", "/api/admin/settings/check", json=body)

    assert saved.status_code == 400 and "internal address" in saved.json()["error"]["message"]
    assert checked.status_code == 200 and checked.json()["ok"] is False
    assert "internal address" in checked.json()["message"] and "DTG_ALLOWED_LLM_HOSTS" in checked.json()["message"]
    assert endpoint.requests == []  # the server was listening: nothing reached it
    assert site.settings_row() == [] and site.audit_rows() == []


@pytest.mark.parametrize("base_url", ["https://169.254.169.254/v1", "https://10.0.0.1/v1", "https://100.64.0.1/v1"])
def test_metadata_private_and_cgnat_addresses_are_refused_on_save(site: Site, base_url: str) -> None:
    saved = site.api("PUT", "/api/admin/settings", json=COMPATIBLE | {"baseUrl": base_url})
    assert saved.status_code == 400 and "internal address" in saved.json()["error"]["message"]
    assert site.settings_row() == []


def test_plain_http_is_refused_unless_the_operator_allows_it(site: Site) -> None:
    saved = site.api("PUT", "/api/admin/settings", json=COMPATIBLE | {"baseUrl": "http://llm.example/v1"})
    assert saved.status_code == 400 and "plain http is off" in saved.json()["error"]["message"]


def test_a_loopback_endpoint_the_operator_allows_is_called_with_the_typed_key(
    loopback_site: Site, endpoint: LoopbackServer
) -> None:
    body = COMPATIBLE | {"baseUrl": f"{endpoint.url}/v1", "apiKey": "sk-typed-for-loopback"}

    checked = loopback_site.api("POST", "/api/admin/settings/check", json=body)

    assert checked.json()["ok"] is True and "llama3.1:8b answered" in checked.json()["message"]
    [(method, path, headers, _)] = endpoint.requests
    assert (method, path, headers["Authorization"]) == ("POST", "/v1/chat/completions", "Bearer sk-typed-for-loopback")


def test_an_endpoints_answer_is_never_echoed(loopback_site: Site, endpoint: LoopbackServer) -> None:
    endpoint.status, endpoint.body = 400, b'{"error": {"message": "INTERNAL-ONLY redis_version:7.2.4"}}'
    body = COMPATIBLE | {"baseUrl": f"{endpoint.url}/v1"}

    checked = loopback_site.api("POST", "/api/admin/settings/check", json=body).json()

    assert checked["ok"] is False and "(400)" in checked["message"]
    assert "INTERNAL-ONLY" not in checked["message"] and "redis_version" not in checked["message"]
    endpoint.status, endpoint.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data"}
    redirected = loopback_site.api("POST", "/api/admin/settings/check", json=body).json()
    assert redirected["ok"] is False and "redirect (302); it is not followed" in redirected["message"]


def test_the_stored_key_goes_only_to_the_base_url_it_was_saved_with(loopback_site: Site) -> None:
    site, stored_key = loopback_site, remember_secret("sk-stored-for-endpoint-a-0123456789")
    with (
        LoopbackServer(body=openai_completion().content) as saved_with,
        LoopbackServer(body=openai_completion().content) as elsewhere,
    ):
        site.api(
            "PUT", "/api/admin/settings", json=COMPATIBLE | {"baseUrl": f"{saved_with.url}/v1", "apiKey": stored_key}
        )

        same = site.api("POST", "/api/admin/settings/check", json=COMPATIBLE | {"baseUrl": f"{saved_with.url}/v1"})
        other = site.api("POST", "/api/admin/settings/check", json=COMPATIBLE | {"baseUrl": f"{elsewhere.url}/v1"})

        assert same.json()["ok"] is True and other.json()["ok"] is True
        assert saved_with.requests[0][2]["Authorization"] == f"Bearer {stored_key}"
        assert stored_key not in str(elsewhere.requests) and len(elsewhere.requests) == 1
        # Saving another base URL without a new key forgets the key, so generation cannot send it there either.
        moved = site.api("PUT", "/api/admin/settings", json=COMPATIBLE | {"baseUrl": f"{elsewhere.url}/v1"})
        assert moved.json()["apiKeyStored"] is False
        assert site.app.services.tenant_settings.api_key(site.tenant_id()) is None


def test_the_existing_site_setting_is_saved_per_tenant_shown_on_the_page_and_audited(site: Site) -> None:
    services, tenant = site.app.services, site.tenant_id()
    assert effective_existing_site(services.tenant_settings, tenant) is False  # a new build until an admin says so
    page = site.app.client.get(site.jira.signed_path("/jira/configure")).text
    assert 'id="dtg-existing-site" name="existingSite" type="checkbox">' in page

    saved = site.api("PUT", "/api/admin/settings", json={**OPENAI, "existingSite": True})
    assert saved.status_code == 200 and saved.json()["existingSite"] is True
    assert site.api("GET", "/api/admin/settings").json()["existingSite"] is True
    assert effective_existing_site(services.tenant_settings, tenant) is True
    assert (
        'name="existingSite" type="checkbox" checked>'
        in site.app.client.get(site.jira.signed_path("/jira/configure")).text
    )
    assert json.loads(site.audit_rows()[-1][2])["existing_site"] is True
    other = site.site("https://tenant-b.atlassian.net")
    assert site.api("GET", "/api/admin/settings", jira=other).json()["existingSite"] is False

    refused = site.api("PUT", "/api/admin/settings", json={**OPENAI, "existingSite": "yes"})
    assert refused.status_code == 400 and "existingSite must be true or false" in refused.text
    assert effective_existing_site(services.tenant_settings, tenant) is True
