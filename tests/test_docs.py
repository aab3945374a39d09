"""The README documents every setting and every command."""

from __future__ import annotations

import pytest

from app.cli import main
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
