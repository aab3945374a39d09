"""The migration chain runs from empty on SQLite and PostgreSQL, matches the models, and rolls back."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
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


def _insert_session(engine: Engine) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                text(
                    "INSERT INTO upload_sessions (tenant_id, project_key, project_id, stage, site_name,"
                    " site_description, created_at, last_activity_at)"
                    " VALUES (1, 'DTG', '', 'upload', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                )
            ).scalar_one()
        )


def _exercise_autoincrement(url: str) -> None:
    upgrade(url, "0005")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tenants (client_key, shared_secret_encrypted, base_url, product_type, description,"
                    " enabled, installed_at, updated_at)"
                    " VALUES ('site-a', 'x', 'https://a', 'jira', '', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        assert [_insert_session(engine), _insert_session(engine)] == [1, 2]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_events (tenant_id, session_id, action, detail, created_at)"
                    " VALUES (1, 2, 'uploaded', '{}', CURRENT_TIMESTAMP)"
                )
            )

        upgrade(url)

        with engine.begin() as connection:
            assert connection.execute(text("SELECT id FROM upload_sessions ORDER BY id")).scalars().all() == [1, 2]
            assert connection.execute(text("SELECT session_id FROM audit_events")).scalar_one() == 2
        assert _insert_session(engine) == 3
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM upload_sessions WHERE id = 3"))
        assert _insert_session(engine) == 4  # not 3 again
        downgrade(url, "0005")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM upload_sessions")).scalar_one() == 3
    finally:
        engine.dispose()


@pytest.mark.unit
@pytest.mark.db
def test_sqlite_ids_are_never_reused_after_the_upgrade_and_rows_survive_it(tmp_path: Path) -> None:
    _exercise_autoincrement(f"sqlite:///{tmp_path / 'dtg.sqlite3'}")


@pytest.mark.integration
@pytest.mark.db
def test_postgresql_ids_are_never_reused_and_the_upgrade_changes_nothing(postgres_url: str) -> None:
    _exercise_autoincrement(postgres_url)


@pytest.mark.unit
@pytest.mark.db
def test_the_chain_is_linear() -> None:
    from alembic.script import ScriptDirectory

    from app.db.migrate import _config

    scripts = ScriptDirectory.from_config(_config("sqlite://"))
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
