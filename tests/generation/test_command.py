"""`dtg generate`: the JSON it writes, its summary and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.generation.command import generate_command
from tests.support import UWEC

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def _uwec_args() -> list[str]:
    return [str(p) for p in sorted(UWEC.glob("*.csv"))]


def test_generate_writes_the_tickets_as_json(tmp_path: Path) -> None:
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(generate_command, [*_uwec_args(), "--out", str(out), "--site-name", "UWEC"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert set(data) >= {"tickets", "findings", "usage"} and len(data["tickets"]) == 109
    ticket = data["tickets"][0]
    assert {
        "key",
        "title",
        "area",
        "action",
        "labels",
        "description",
        "blocked_by",
        "source",
        "findings",
        "attachments",
    } <= set(ticket)
    assert ticket["description"]["type"] == "doc" and ticket["source"][0].keys() == {"file", "record"}
    assert "109 tickets" in result.output and "Content model: 72" in result.output and "Cycle broken" in result.output


def test_blocking_findings_exit_1_and_say_what_blocks(tmp_path: Path) -> None:
    mystery = tmp_path / "Mystery.csv"
    mystery.write_text("foo,bar\n1,2\n")
    result = CliRunner().invoke(generate_command, [str(mystery), "--out", str(tmp_path / "t.json")])
    assert result.exit_code == 1 and "Mystery.csv" in result.output and "block" in result.output
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "openai"],  # no model
        ["--provider", "openai", "--model", "gpt-4o-mini", "--api-key-env", "DTG_TEST_NO_SUCH_KEY"],  # no key
        ["--provider", "openai_compatible", "--model", "m"],  # no base URL
        ["--type", "Nope.csv=fields"],
        ["--provider", "bogus"],
    ],
)
def test_misuse_exits_2(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        generate_command, [str(UWEC / "UWEC_Bundles.csv"), *args, "--out", str(tmp_path / "t.json")]
    )
    assert result.exit_code == 2, result.output
