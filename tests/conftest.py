"""Fixtures shared by every test package: settings, databases, Redis, and a clean environment.

PostgreSQL and Redis tests are skipped when the service is missing on a developer machine, but fail in CI
(`CI=true`), so a green CI run always means they ran.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.support import KNOWN_SECRETS, LOG_CAPTURE

PG_ADMIN_URL = os.environ.get("DTG_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("DTG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session", autouse=True)
def capture_every_log_record() -> Iterator[None]:
    """Send every record of the run, DEBUG included, to LOG_CAPTURE; `pytest_sessionfinish` scans it."""
    root = logging.getLogger()
    level = root.level
    root.addHandler(LOG_CAPTURE)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(LOG_CAPTURE)
    root.setLevel(level)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a secret a fixture generated reached any log line (see tests/support.py)."""
    leaked = LOG_CAPTURE.leaks(KNOWN_SECRETS)
    if leaked:
        shown = ", ".join(f"{secret[:4]}…" for secret in leaked)
        session.config.get_terminal_writer().line(f"SECRETS IN THE LOGS: {len(leaked)} ({shown})", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DTG_") and not name.startswith("DTG_TEST_"):
            monkeypatch.delenv(name)


def _require_service(host: str, port: int, name: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not running on {host}:{port}; .ci/run must start it")
        pytest.skip(f"{name} is not running on {host}:{port}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    _require_service("127.0.0.1", 5432, "PostgreSQL")
    name = f"dtg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database emptied before and after the test."""
    import redis

    _require_service("127.0.0.1", 6379, "Redis")
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    try:
        yield REDIS_TEST_URL
    finally:
        client.flushdb()
        client.close()
