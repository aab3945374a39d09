"""A `dtg worker` process on Redis and PostgreSQL runs an actor end to end."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app.db.migrate import upgrade
from tests.support import DTG, spawn_worker, stop_process

pytestmark = [pytest.mark.integration, pytest.mark.workers, pytest.mark.slow]


@pytest.fixture
def worker_env(tmp_path: Path, postgres_url: str, redis_url: str) -> dict[str, str]:
    upgrade(postgres_url)
    return {
        **os.environ,
        "DTG_DATA_DIR": str(tmp_path / "data"),
        "DTG_DATABASE_URL": postgres_url,
        "DTG_REDIS_URL": redis_url,
        "DTG_SECRET_KEY": Fernet.generate_key().decode(),
    }


@pytest.fixture
def worker_process(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = spawn_worker(worker_env, tmp_path / "worker.log", threads=2)
    try:
        yield process
    finally:
        stop_process(process)


def test_ping_goes_through_redis_to_a_worker_process_and_back(
    worker_env: dict[str, str], worker_process: subprocess.Popen[bytes]
) -> None:
    result = subprocess.run(
        [*DTG, "check-worker", "--timeout", "60"], env=worker_env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr
    assert "A worker answered" in result.stdout

    engine = create_engine(worker_env["DTG_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT kind, state, message FROM tasks")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("ping", "done", "pong")]


def test_check_worker_fails_clearly_when_no_worker_runs(worker_env: dict[str, str]) -> None:
    result = subprocess.run(
        [*DTG, "check-worker", "--timeout", "1"], env=worker_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "No worker answered" in result.stderr


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DTG_")}
    env["DTG_DATA_DIR"] = str(tmp_path)
    result = subprocess.run([*DTG, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "DTG_REDIS_URL is not set" in result.stderr
