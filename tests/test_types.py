"""`mypy --strict` accepts app/ and workers/ (configured in pyproject.toml), so the declared types are the real ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

pytestmark = [pytest.mark.unit, pytest.mark.web, pytest.mark.slow]


def test_mypy_strict_is_clean() -> None:
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert mypy is not None, "mypy is not installed: pip install -e '.[test]'"
    result = subprocess.run([mypy], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_type_ignore_without_a_reason() -> None:
    """A `# type: ignore` is only for what a third-party stub forces, and says so on its line."""
    bare = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("app", "workers")
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# type: ignore" in line and not line.split("# type: ignore", 1)[1].partition("#")[2].strip()
    ]
    assert bare == []
