"""`dtg demo --headless`: the whole product on the UWEC sample in one command, checked by its summary."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.export.helpers import revised_uwec
from tests.support import DTG, UWEC, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.export]


def _number(label: str, output: str) -> int:
    match = re.search(rf"^  {label}:\s+(\d+)", output, re.MULTILINE)
    assert match, f"no '{label}' in the summary:\n{output}"
    return int(match.group(1))


def test_headless_demo_exports_the_uwec_sample_into_the_sandbox(tmp_path: Path) -> None:
    if not UWEC.is_dir():
        pytest.skip("the UWEC sample is not beside the repository")
    env = {**os.environ, "DTG_DATA_DIR": str(tmp_path / "data")}
    command = [*DTG, "demo", "--headless", "--port", str(free_port()), "--sandbox-port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    output = done.stdout
    assert done.returncode == 0, output + done.stderr

    assert _number("Spec files", output) == 11
    tickets = _number("Tickets", output)
    assert tickets > 100
    assert _number("Issues in the sandbox", output) == tickets
    # One per area: content model, views, images, display, access, workflow, and the removals.
    assert _number("Epics", output) == 7
    links = re.search(r"^  Links:\s+(\d+) of (\d+)", output, re.MULTILINE)
    assert links and int(links.group(1)) == int(links.group(2)) > 100
    assert _number("Attachments", output) > 0
    assert _number("Failures", output) == 0
    assert "Exporting to the Jira sandbox: done. " in output
    assert re.search(r"^  Sandbox project:\s+http://127\.0\.0\.1:\d+/projects/DTG$", output, re.MULTILINE)
    # Everything lived in the data dir the test gave it: the SQLite database is there.
    assert (tmp_path / "data" / "dtg.sqlite3").exists()


def test_headless_demo_without_a_spec_folder_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    command = [*DTG, "demo", "--headless", "--spec", str(missing)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "nowhere" in done.stderr


def _headless(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    if not UWEC.is_dir():
        pytest.skip("the UWEC sample is not beside the repository")
    env = {**os.environ, "DTG_DATA_DIR": str(tmp_path / "data")}
    ports = ["--port", str(free_port()), "--sandbox-port", str(free_port())]
    return subprocess.run(
        [*DTG, "demo", "--headless", *ports, *options], env=env, capture_output=True, text=True, timeout=240
    )


def test_a_project_with_required_fields_blocks_the_export_until_they_have_values(tmp_path: Path) -> None:
    blocked = _headless(tmp_path / "blocked", "--project", "REQ")
    assert blocked.returncode == 1
    assert (
        "Project REQ: Project REQ requires 'Cost centre' (customfield_10050) on Task and Epic issues" in blocked.stdout
    )
    assert "configure page (one of: Web, Brand)" in blocked.stdout
    assert _number("Issues in the sandbox", blocked.stdout) == 0

    mapped = _headless(
        tmp_path / "mapped", "--project", "REQ", "--field", "customfield_10050=Web", "--field", "customfield_10051=UWEC"
    )
    assert mapped.returncode == 0, mapped.stdout + mapped.stderr
    assert _number("Issues in the sandbox", mapped.stdout) == _number("Tickets", mapped.stdout) > 100
    assert re.search(r"^  Sandbox project:\s+http://127\.0\.0\.1:\d+/projects/REQ$", mapped.stdout, re.MULTILINE)


def test_the_dry_run_prints_each_create_request_and_exports_nothing(tmp_path: Path) -> None:
    done = _headless(tmp_path, "--project", "TEAM", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    entries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    epics = [e for e in entries if "area" in e]
    tickets = [e for e in entries if "key" in e]
    assert {e["area"] for e in epics} >= {"Content model", "Views"}
    assert len(tickets) == _number("Tickets", done.stdout)
    # The team-managed project's own issue type ids, and each ticket placed under its area's epic.
    assert {e["request"]["fields"]["issuetype"]["id"] for e in epics} == {"10100"}
    assert {t["request"]["fields"]["issuetype"]["id"] for t in tickets} == {"10101"}
    assert all("epic, created first" in t["request"]["fields"]["parent"]["key"] for t in tickets)
    assert _number("Issues in the sandbox", done.stdout) == 0


def test_a_team_managed_project_gets_its_epics_and_issues(tmp_path: Path) -> None:
    done = _headless(tmp_path, "--project", "TEAM")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _number("Issues in the sandbox", done.stdout) == _number("Tickets", done.stdout) > 100
    assert _number("Epics", done.stdout) == 7


def test_the_revise_option_applies_a_revised_spec_and_prints_the_counts(tmp_path: Path) -> None:
    revised = revised_uwec(tmp_path / "revised")
    done = _headless(tmp_path / "run", "--revise", str(revised))
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout

    def count(label: str) -> int:
        match = re.search(rf"^  {label}: (\d+)$", output, re.MULTILINE)
        assert match, f"no '{label}' in the summary:\n{output}"
        return int(match.group(1))

    # Two bundles left the spec (one deleted, one marked d): flagged, not deleted, so the sandbox keeps all 109.
    assert (count("Created"), count("Flagged"), count("Conflicts"), count("Moved")) == (0, 2, 0, 1)
    assert count("Updated") > 0 and count("Unchanged") > 0
    assert count("Updated") + count("Unchanged") == _number("Tickets", output) == 107
    assert _number("Issues in the sandbox", output) == 109
    assert "moved field_athena_id: bundle.node.bio.build -> bundle.node.job.build" in output
    assert "Applying the revision: done. " in output
