"""The Forge front's Custom UI: resources built from the Connect pages' templates and scripts with a bundled
@forge/bridge adapter (`dtg forge-ui`), the pages' content answered as JSON, and the sandbox hosting them with its
stand-in for Forge's bridge (invokeRemote with both tokens, requestRemote with a FIT and a FormData)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from app.forge.custom_ui import HOST_BUNDLE, page_assets, resources
from app.sandbox.models import ADMIN_USER, DEVELOPER_USER
from tests.forge.conftest import ForgeWorld

pytestmark = [pytest.mark.integration, pytest.mark.forge]

PROJECT_PAGE = {"type": "jira:projectPage", "project": {"key": "DTG"}}


@pytest.mark.slow
def test_each_resource_is_the_connect_pages_assets_with_the_forge_host_and_nothing_from_a_cdn(built_ui: Path) -> None:
    built = resources(root=built_ui)
    assert {r.page for r in built} == {"project", "glance", "configure"}
    for resource in built:
        index = (resource.folder / "index.html").read_text(encoding="utf-8")
        styles, scripts = page_assets(resource.page)
        tag = re.search(r'<script src="forge-host.js" data-page="(\w+)" data-scripts="([^"]*)"', index)
        assert tag and tag.group(1) == resource.page and tag.group(2).split() == scripts
        assert scripts[0] == "app.js" and "host.js" not in scripts  # the Connect adapter stays out
        for name in [*styles, *scripts, HOST_BUNDLE]:
            assert (resource.folder / name).is_file(), name
        assert not re.search(r'(src|href)="(https?:)?//', index)  # every file is in the resource itself
    assert page_assets("project")[1] == ["app.js", "project.js", "review.js", "graph.js"]
    bundle = (built[0].folder / HOST_BUNDLE).read_text(encoding="utf-8")
    # @forge/bridge itself is inside: the calls it makes to Forge's `__bridge`, by name.
    for call in ('"invoke"', '"fetchRemote"', '"showFlag"', '"navigate"', "__bridge"):
        assert call in bundle, call
    assert "import(" not in bundle and "<script" not in bundle


@pytest.mark.anyio
async def test_a_page_through_the_api_is_the_templates_content_for_the_fits_project(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")

    page = await world.ui_call("GET", "/api/pages/project", extension=PROJECT_PAGE)
    missing = await world.ui_call("GET", "/api/pages/nothing", extension=PROJECT_PAGE)

    assert page.status_code == 200, page.text
    html = page.json()["html"]
    assert 'id="dtg-app" data-project="DTG"' in html and "<html" not in html and "<script" not in html
    assert page.json()["title"] == "Drupal spec to tickets"
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_the_configure_page_is_for_jira_admins_and_the_glance_names_its_issue(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    admin_page = {"type": "jira:adminPage"}

    admin = await world.ui_call("GET", "/api/pages/configure", extension=admin_page)
    developer = await world.ui_call(
        "GET", "/api/pages/configure", extension=admin_page, account_id=DEVELOPER_USER.account_id
    )
    glance = await world.ui_call(
        "GET", "/api/pages/glance", extension={"type": "jira:issueGlance", "issue": {"key": "DTG-404", "id": "1"}}
    )

    assert admin.status_code == 200 and 'id="dtg-settings"' in admin.json()["html"]
    assert developer.status_code == 403, developer.text  # Jira says so, asked with the developer's own token
    assert glance.status_code == 200 and "DTG-404 was not created from a Drupal spec" in glance.json()["html"]


@pytest.mark.anyio
async def test_the_sandbox_serves_a_built_resource_with_its_bridge_stand_in_first(
    world: ForgeWorld, built_ui: Path
) -> None:
    world.runtime.config.forge_resources_root = built_ui
    base = "/_sandbox/forge/resources"

    index = await world.sandbox.get(f"{base}/project-page/index.html")
    script = await world.sandbox.get(f"{base}/project-page/project.js")
    outside = await world.sandbox.get(f"{base}/project-page/..%2F..%2Fmanifest.yml")
    unknown = await world.sandbox.get(f"{base}/not-in-the-manifest/index.html")

    assert index.status_code == 200
    assert index.text.index("/_sandbox/static/forge-bridge.js") < index.text.index("forge-host.js")
    assert script.status_code == 200 and "DTGHost" in script.text
    assert outside.status_code == 404 and unknown.status_code == 404


@pytest.mark.anyio
async def test_invoke_carries_the_users_call_with_a_fit_and_both_tokens(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    call = {"as": "developer", "extension": PROJECT_PAGE, "request": {"path": "/api/me", "method": "GET"}}

    answer = await world.sandbox.post("/_sandbox/forge/invoke", json=call)
    users = await world.sandbox.post(
        "/_sandbox/forge/invoke", json={**call, "request": {"path": "/api/assignable-users", "method": "GET"}}
    )
    too_big = await world.sandbox.post(
        "/_sandbox/forge/invoke",
        json={**call, "request": {"path": "/api/sessions", "method": "POST", "body": {"x": "a" * 600_000}}},
    )
    foreign = await world.sandbox.post("/_sandbox/forge/invoke", json=call, headers={"Origin": "https://evil.test"})

    assert answer.status_code == 200 and answer.json()["success"] is True
    payload = answer.json()["payload"]
    assert payload["status"] == 200 and payload["body"]["accountId"] == DEVELOPER_USER.account_id
    assert payload["body"]["context"]["jira"]["project"]["key"] == "DTG"
    assert users.json()["payload"]["status"] == 200  # the user token reached Jira: it answered as that person
    assert too_big.json() == {
        "success": False,
        "error": {
            "status": 413,
            "headers": {},
            "body": {"error": {"message": "Forge refuses invokeRemote payloads over 500 KB."}},
        },
    }
    assert foreign.status_code == 403


def _bridge_form(files: dict[str, bytes]) -> str:
    """A FormData as @forge/bridge's requestRemote sends it over the bridge: one base64 data URL per file part."""
    fields: dict[str, str] = {}
    for index, (name, content) in enumerate(files.items()):
        key = f"file{index}"
        fields[key] = "data:text/csv;base64," + base64.b64encode(content).decode()
        fields[f"__{key}Name"], fields[f"__{key}Type"] = name, "text/csv"
    return json.dumps(fields)


@pytest.mark.anyio
async def test_request_remote_uploads_every_file_of_a_form_data(world: ForgeWorld) -> None:
    await world.sandbox.post("/_sandbox/forge/install")
    opened = await world.ui_call("POST", "/api/sessions", json={}, extension=PROJECT_PAGE)
    session_id = opened.json()["id"]
    form = _bridge_form({"a_Bundles.csv": b"Name,Machine name\nPage,page\n", "a_Fields.csv": b"Bundle,Label\n"})
    call = {
        "as": "admin",
        "extension": PROJECT_PAGE,
        "remoteKey": "backend",
        "fetchRequestInit": {
            "path": f"/api/sessions/{session_id}/files",
            "method": "POST",
            "headers": [["accept", "application/json"], ["content-type", "multipart/form-data; boundary=x"]],
            "body": form,
        },
        "isMultipartFormData": True,
    }

    answer = await world.sandbox.post("/_sandbox/forge/remote", json=call)

    assert answer.status_code == 200 and answer.json()["status"] in (200, 201), answer.text
    stored = world.services.sessions.files(session_id, tenant_id=world.tenant_id())
    assert sorted(f.name for f in stored) == ["a_Bundles.csv", "a_Fields.csv"]
    assert world.services.sessions.get(session_id, tenant_id=world.tenant_id()).created_by == ADMIN_USER.account_id
