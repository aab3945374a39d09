"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
UWEC = SHARED / "sample_data" / "uwec"


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    return Settings.from_env({"DTG_DATA_DIR": str(tmp_path / "data"), **overrides})
