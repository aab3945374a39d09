from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path

import jsonschema
import pytest
from starlette.routing import Match

from app.connect.descriptor import module_urls, render_descriptor
from app.jira.client import JiraClient
from app.main import routes
from tests.support import SHARED

pytestmark = [pytest.mark.unit, pytest.mark.connect]


def _schema() -> dict:
    schema = json.loads((SHARED / "schemas" / "connect-jira-global-schema.json").read_text())
    # The published copy predates these migrations; Jira accepts them as booleans.
    migrations = schema["properties"]["apiMigrations"]["properties"]
    migrations["context-qsh"] = {"type": "boolean"}
    migrations["signed-install"] = {"type": "boolean"}
    return schema


def test_descriptor_validates_against_the_jira_global_schema() -> None:
    descriptor = render_descriptor(base_url="https://dtg.example.com", app_key="dtg-test")
    jsonschema.Draft4Validator(_schema()).validate(descriptor)


def test_schema_still_rejects_an_unknown_migration() -> None:
    descriptor = render_descriptor(base_url="https://dtg.example.com", app_key="dtg-test")
    broken = copy.deepcopy(descriptor)
    broken["apiMigrations"]["made-up"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_schema()).validate(broken)


def test_descriptor_declares_what_the_foundation_requires() -> None:
    descriptor = render_descriptor(base_url="https://dtg.example.com/app", app_key="dtg-test")

    assert descriptor["baseUrl"] == "https://dtg.example.com/app"
    assert descriptor["key"] == "dtg-test"
    assert descriptor["authentication"] == {"type": "jwt"}
    assert descriptor["apiMigrations"] == {"gdpr": True, "context-qsh": True, "signed-install": True}
    # DELETE only because a revision removes the links it no longer has (`JiraClient.delete_link`) and replaces
    # its attachments (`delete_attachment`); issues are never deleted (the sandbox refuses it whatever the scopes).
    assert sorted(descriptor["scopes"]) == ["DELETE", "READ", "WRITE"]
    assert set(descriptor["lifecycle"]) == {"installed", "uninstalled", "enabled", "disabled"}
    page = descriptor["modules"]["jiraProjectPages"][0]
    assert "${project.key}" in page["url"] and "${project.id}" in page["url"]
    assert descriptor["modules"]["jiraIssueGlances"]
    assert {"condition": "user_is_admin"} in descriptor["modules"]["configurePage"]["conditions"]


def test_every_descriptor_url_resolves_to_a_registered_route() -> None:
    descriptor = render_descriptor(base_url="https://dtg.example.com", app_key="dtg-test")
    registered = routes()
    for url in module_urls(descriptor):
        scope = {"type": "http", "path": url, "method": "POST" if url.startswith("/in") else "GET", "root_path": ""}
        matches = [route.matches(scope)[0] for route in registered]
        assert Match.FULL in matches or Match.PARTIAL in matches, url


def test_descriptor_template_at_the_root_is_the_one_served(tmp_path: Path) -> None:
    template = tmp_path / "descriptor.json"
    template.write_text(json.dumps({"key": "x", "baseUrl": "y", "name": "Custom"}))
    assert render_descriptor(base_url="https://b", app_key="k", template=template) == {
        "key": "k",
        "baseUrl": "https://b",
        "name": "Custom",
    }


def test_the_delete_scope_is_declared_exactly_when_the_client_sends_a_delete() -> None:
    descriptor = render_descriptor(base_url="https://dtg.example.com/app", app_key="dtg-test")
    deletes = '_call("DELETE"' in inspect.getsource(JiraClient)
    assert ("DELETE" in descriptor["scopes"]) == deletes
