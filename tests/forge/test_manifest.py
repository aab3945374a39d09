"""manifest.yml: rendered from the settings and checked by Atlassian's own validator (@forge/manifest, from npm)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from app.cli import main
from app.connect.descriptor import render_descriptor
from app.forge.manifest import ManifestSettingsError, endpoint_routes, manifest_text, render_manifest
from app.main import routes
from app.web.routing import FORGE_POLICIES, SecuredRoute
from tests.support import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.forge]

NODE_DIR = REPO / "tests" / "forge" / "node"
APP_ID = "ari:cloud:ecosystem::app/406d303d-0393-4ec4-ad7c-1435be94583a"
BASE_URL = "https://dtg.example.com/app"


@pytest.fixture(scope="module")
def forge_validator() -> Path:
    """Installs the pinned @forge/manifest (package-lock.json) with npm ci; fails, never skips, without npm."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to run Atlassian's manifest validator"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300)
    return NODE_DIR / "validate.js"


def _validate(validator: Path, manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    path = folder / "manifest.yml"
    path.write_text(manifest_text(manifest), encoding="utf-8")
    done = subprocess.run(["node", str(validator), str(path)], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _complaints(result: dict[str, Any]) -> list[str]:
    return [error["message"] for error in result["errors"]]


def test_the_rendered_manifest_with_its_built_custom_ui_passes_atlassians_validator(
    forge_validator: Path, built_ui: Path
) -> None:
    # The validator also checks that every resource's folder exists beside the manifest: `dtg forge-ui` built them.
    result = _validate(forge_validator, render_manifest(base_url=BASE_URL, app_id=APP_ID), built_ui)
    assert _complaints(result) == []


def test_the_validator_catches_a_broken_manifest(forge_validator: Path, tmp_path: Path) -> None:
    manifest = render_manifest(base_url=BASE_URL, app_id=APP_ID)
    manifest["permissions"]["scopes"].append("write:jira-everything")
    manifest["modules"]["jira:projectPage"][0]["resolver"]["endpoint"] = "no-such-endpoint"

    complaints = _complaints(_validate(forge_validator, manifest, tmp_path))

    assert any("write:jira-everything" in message for message in complaints)
    assert any("no-such-endpoint" in message for message in complaints)
    assert any("missing resource 'build/forge-ui/project'" in message for message in complaints)  # not built here


def test_app_id_and_remote_come_from_the_same_settings_as_the_connect_descriptor() -> None:
    manifest = render_manifest(base_url=BASE_URL, app_id=APP_ID)
    descriptor = render_descriptor(base_url=BASE_URL, app_key="dtg")

    assert manifest["app"]["id"] == APP_ID
    assert [remote["baseUrl"] for remote in manifest["remotes"]] == [descriptor["baseUrl"]]
    connect_modules = descriptor["modules"]
    assert (
        manifest["modules"]["jira:projectPage"][0]["title"] == connect_modules["jiraProjectPages"][0]["name"]["value"]
    )
    assert (
        manifest["modules"]["jira:issueGlance"][0]["title"] == connect_modules["jiraIssueGlances"][0]["name"]["value"]
    )
    assert manifest["modules"]["jira:adminPage"][0]["title"] == connect_modules["configurePage"]["name"]["value"]
    assert manifest["modules"]["jira:adminPage"][0]["useAsConfig"] is True


def test_the_manifest_asks_for_the_export_scopes_and_no_more() -> None:
    manifest = render_manifest(base_url=BASE_URL, app_id=APP_ID)
    assert sorted(manifest["permissions"]["scopes"]) == [
        "read:app-system-token",
        "read:app-user-token",
        "read:jira-user",
        "read:jira-work",
        "write:jira-work",
    ]
    events = manifest["modules"]["trigger"][0]["events"]
    assert events == ["avi:forge:installed:app", "avi:forge:upgraded:app"]
    assert manifest["modules"]["scheduledTrigger"][0]["interval"] == "hour"


def test_a_manifest_needs_an_https_remote_and_an_app_ari() -> None:
    with pytest.raises(ManifestSettingsError, match="https"):
        render_manifest(base_url="http://127.0.0.1:8000", app_id=APP_ID)
    with pytest.raises(ManifestSettingsError, match="ARI"):
        render_manifest(base_url=BASE_URL, app_id="drupal-ticket-generator")


def test_dtg_forge_manifest_writes_the_deployments_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DTG_BASE_URL", BASE_URL)
    monkeypatch.setenv("DTG_FORGE_APP_ID", APP_ID)
    output = tmp_path / "manifest.yml"

    result = CliRunner().invoke(main, ["forge-manifest", "--output", str(output)])

    assert result.exit_code == 0, result.output
    written = yaml.safe_load(output.read_text())
    assert written["app"]["id"] == APP_ID and written["remotes"][0]["baseUrl"] == BASE_URL

    monkeypatch.setenv("DTG_BASE_URL", "http://127.0.0.1:8000")
    refused = CliRunner().invoke(main, ["forge-manifest"])
    assert refused.exit_code == 1 and "https" in refused.output


def test_every_trigger_endpoint_is_a_forge_route_that_checks_the_invocation_token() -> None:
    manifest = render_manifest(base_url=BASE_URL, app_id=APP_ID)
    registered = {route.path: route for route in routes() if isinstance(route, SecuredRoute)}

    paths = endpoint_routes(manifest)

    assert set(paths) == {"lifecycle-remote", "schedule-remote", "uninstall-remote"}
    for path in paths.values():
        assert registered[path].auth in FORGE_POLICIES
        assert registered[path].methods is not None and "POST" in registered[path].methods


def test_the_manifest_indexes_the_same_issue_property_values_as_the_connect_descriptor() -> None:
    manifest = render_manifest(base_url=BASE_URL, app_id=APP_ID)
    descriptor = render_descriptor(base_url=BASE_URL, app_key="dtg")

    forge = {
        (module["propertyKey"], value["path"], value["type"])
        for module in manifest["modules"]["jira:entityProperty"]
        for value in module["values"]
    }
    connect = {
        (configuration["propertyKey"], extraction["objectName"], extraction["type"])
        for module in descriptor["modules"]["jiraEntityProperties"]
        for configuration in module["keyConfigurations"]
        for extraction in configuration["extractions"]
    }
    assert forge == connect and forge
