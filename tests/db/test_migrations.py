"""The migration chain runs from empty on SQLite and PostgreSQL, matches the models, and rolls back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from app.db import models  # noqa: F401  (registers the tables)
from app.db.migrate import downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()


def _exercise_chain(url: str) -> None:
    upgrade(url)
    assert {"tenants", "tasks", "upload_sessions", "spec_files", "tickets"} <= _tables(url)
    assert _drift(url) == []
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    upgrade(url)  # a second upgrade is a no-op
    assert {"tenants", "tasks", "upload_sessions", "spec_files", "tickets"} <= _tables(url)


@pytest.mark.unit
@pytest.mark.db
def test_chain_on_sqlite(tmp_path: Path) -> None:
    _exercise_chain(f"sqlite:///{tmp_path / 'dtg.sqlite3'}")


@pytest.mark.integration
@pytest.mark.db
def test_chain_on_postgresql(postgres_url: str) -> None:
    _exercise_chain(postgres_url)


@pytest.mark.unit
@pytest.mark.db
def test_the_chain_is_linear() -> None:
    from alembic.script import ScriptDirectory

    from app.db.migrate import _config

    scripts = ScriptDirectory.from_config(_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
