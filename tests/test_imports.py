"""The pure libraries load no CLI or SDK module, the offline path no SDK, and `dtg --help` loads no command module.

Each check runs in a fresh interpreter, since this test process has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from app.cli import LAZY_COMMANDS, load_command, main
from tests.support import REPO, UWEC

pytestmark = [pytest.mark.unit, pytest.mark.intake, pytest.mark.generation]

CLI_AND_SDKS = ("click", "openai", "anthropic")


def _loaded_after(code: str, roots: tuple[str, ...]) -> list[str]:
    """The top-level packages among `roots` that are in sys.modules once `code` ran in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout.splitlines()[-1])
    return [root for root in roots if root in loaded]


@pytest.mark.parametrize("library", ["app.intake", "app.generation", "app.llm"])
def test_importing_a_pure_library_loads_no_cli_or_sdk(library: str) -> None:
    assert _loaded_after(f"import {library}", CLI_AND_SDKS) == []


def test_the_offline_path_imports_no_sdk() -> None:
    code = (
        "import asyncio\n"
        "from app.generation import generate_tickets\n"
        "from app.intake import UploadedFile, intake_files\n"
        "from app.llm import LLMConfig, build_writer\n"
        f"data = open({str(UWEC / 'UWEC_Bundles.csv')!r}, 'rb').read()\n"
        "intake = intake_files([UploadedFile('UWEC_Bundles.csv', data)])\n"
        "result = asyncio.run(generate_tickets(intake, writer=build_writer(LLMConfig())))\n"
        "assert result.tickets, 'the offline writer drafted nothing'\n"
    )
    assert _loaded_after(code, ("openai", "anthropic")) == []


def test_the_sdk_is_imported_when_its_provider_is_built() -> None:
    code = (
        "from app.llm import LLMConfig, build_provider\n"
        "build_provider(LLMConfig(provider='anthropic', model='m', api_key='k'))"
    )
    assert _loaded_after(code, ("openai", "anthropic")) == ["anthropic"]


def test_dtg_help_loads_no_command_module() -> None:
    code = "from app.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    commands = ("app.intake", "app.generation", "app.sandbox")
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith({commands!r})))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert "generate" in result.stdout and "validate" in result.stdout and "sandbox" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"
    assert _loaded_after(code, CLI_AND_SDKS[1:]) == []


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_a_lazy_command_is_listed_with_its_own_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert LAZY_COMMANDS[name][1] == command.get_short_help_str(limit=200)


def test_a_lazy_command_runs_through_the_main_group() -> None:
    result = CliRunner().invoke(main, ["validate", str(UWEC / "UWEC_Bundles.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"][0]["kind"] == "bundles"
