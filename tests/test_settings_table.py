"""Each setting's default is stated once and holds everywhere: SETTINGS_DOC, the README table, `Settings.from_env`
with nothing set, and the `Settings` dataclass's own default (for the fields that have one)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.settings import SETTINGS_DOC, SettingDoc, Settings
from tests.support import REPO

pytestmark = [pytest.mark.unit, pytest.mark.web]

# Defaults that are a description, not a value: the README and SETTINGS_DOC say the same words.
DESCRIBED = {
    "unset",
    "none",
    "SQLite in the data folder",
    "generated into the data folder",
    "json (text for `dtg demo`)",
}
# Set by every test below (from_env creates the folder), so its default cannot be read back here.
SET_HERE = {"DTG_DATA_DIR"}


def _fields_by_env() -> dict[str, str]:
    """Which Settings field each DTG_ variable sets, read from `from_env` itself."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(Settings.from_env)))

    def variables(node: ast.AST) -> list[str]:
        return [
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("DTG_")
        ]

    # `data_dir = Path(env.get("DTG_DATA_DIR") ...)`, then `cls(data_dir=data_dir, ...)`.
    locals_read = {
        n.targets[0].id: variables(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)
    }
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "cls")
    found: dict[str, str] = {}
    for keyword in call.keywords:
        read = variables(keyword.value)
        if isinstance(keyword.value, ast.Name):
            read = locals_read.get(keyword.value.id, [])
        if keyword.arg and read:
            found[read[0]] = keyword.arg
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return " ".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_read_by_from_env_and_documented_once() -> None:
    assert sorted(_fields_by_env()) == sorted(d.env for d in SETTINGS_DOC)
    assert len({d.env for d in SETTINGS_DOC}) == len(SETTINGS_DOC)


@pytest.mark.parametrize("setting", SETTINGS_DOC, ids=lambda s: s.env)
def test_the_readme_table_states_the_documented_default(setting: SettingDoc) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| `{setting.env}` \| (.*?) \|", readme, re.M)
    assert row is not None, f"README's settings table has no row for {setting.env}"
    assert row.group(1).replace("`", "") == setting.default.replace("`", "")


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS_DOC if s.default not in DESCRIBED and s.env not in SET_HERE], ids=lambda s: s.env
)
def test_from_env_and_the_dataclass_give_the_documented_default(setting: SettingDoc, tmp_path: Path) -> None:
    name = _fields_by_env()[setting.env]
    built = Settings.from_env({"DTG_DATA_DIR": str(tmp_path)})
    assert _as_text(getattr(built, name)) == setting.default
    declared = {f.name: f.default for f in dataclasses.fields(Settings)}
    if declared[name] is not dataclasses.MISSING:
        assert _as_text(declared[name]) == setting.default
