"""The README documents every setting and every command."""

from __future__ import annotations

import re

import pytest

from app.cli import main
from app.domain.retention import SESSION_IDLE_DAYS
from app.settings import SETTINGS_DOC, SettingDoc
from tests.support import REPO

pytestmark = [pytest.mark.unit, pytest.mark.web]

README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS_DOC, ids=lambda s: s.env)
def test_readme_documents_each_setting(setting: SettingDoc) -> None:
    assert f"`{setting.env}`" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_readme_documents_each_command(command: str) -> None:
    assert f"`dtg {command}" in README


def test_readme_starts_with_the_run_and_test_commands() -> None:
    lines = [line.strip() for line in README.splitlines() if line.startswith("    ")]
    assert lines[0].endswith("dtg demo")
    assert lines[1].endswith("python -m pytest")


def test_the_docs_state_the_session_retention_the_clean_up_applies() -> None:
    """README and the docstrings say "N days after ... last activity"; N is the one retention constant."""
    texts = [
        ("README.md", README),
        *((p.relative_to(REPO).as_posix(), p.read_text()) for p in (REPO / "app").rglob("*.py")),
    ]
    stated = {
        (name, int(days))
        for name, text in texts
        for days in re.findall(r"(\d+) days after (?:its|their|the) last", " ".join(text.split()))
    }
    assert len(stated) >= 4 and {days for _, days in stated} == {SESSION_IDLE_DAYS}, stated
