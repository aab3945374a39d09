"""The `validate` command, driven through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.intake.command import validate_command

pytestmark = [pytest.mark.unit, pytest.mark.intake]


def _paths(kit) -> list[str]:
    return [str(p) for p in sorted(kit.uwec_dir.glob("*.csv"))]


def test_text_report_groups_by_file(kit):
    result = CliRunner().invoke(validate_command, _paths(kit))
    assert result.exit_code == 0, result.output
    assert "UWEC_Fields.csv: fields" in result.output
    assert "609 records on 617 lines" in result.output
    assert "storage_type_conflict at record" in result.output
    assert result.output.strip().splitlines()[-1].startswith("OK: 0 blocking")


def test_json_report(kit):
    result = CliRunner().invoke(validate_command, [*_paths(kit), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    files = {f["name"]: f for f in data["files"]}
    assert files["UWEC_Fields.csv"]["kind"] == "fields" and files["UWEC_Fields.csv"]["record_count"] == 609
    assert sum(f["record_count"] for f in files.values()) == 966
    finding = next(f for f in data["findings"] if f["code"] == "value_in_wrong_column")
    assert finding == {
        "code": "value_in_wrong_column",
        "severity": "warning",
        "who_can_fix": "spec_author",
        "message": finding["message"],
        "file": "UWEC_Fields.csv",
        "record": 258,
        "line": 266,
        "column": "Form widget",
        "value": "1",
        "suggestion": "",
        "cell": "",  # only findings on a workbook tab name a cell
    }


def test_blocking_exits_1_and_type_override(kit, tmp_path):
    unknown = tmp_path / "export.csv"
    unknown.write_bytes(kit.uwec_bytes("UWEC_Userroles.csv").replace(b"Machine name", b"Code"))
    blocked = CliRunner().invoke(validate_command, [str(unknown)])
    assert blocked.exit_code == 1 and "BLOCKED" in blocked.output
    roles = tmp_path / "roles.csv"
    roles.write_bytes(kit.uwec_bytes("UWEC_Userroles.csv"))
    fine = CliRunner().invoke(validate_command, [str(roles), "--type", "roles.csv=roles", "--json"])
    assert fine.exit_code == 0 and json.loads(fine.output)["files"][0]["basis"] == "override"


@pytest.mark.parametrize(
    "args", [[], ["--type", "nope"], ["--type", "x.csv=roles"], ["--type", "{f}=widgets"], ["/no/such/file.csv"]]
)
def test_misuse_exits_2(kit, args):
    path = _paths(kit)[0]
    args = [a.format(f=path) for a in args]
    result = CliRunner().invoke(validate_command, [*args, path] if args and args[0] == "--type" else args)
    assert result.exit_code == 2
