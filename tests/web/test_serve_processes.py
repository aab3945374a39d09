"""`dtg serve --processes N`: several web processes on one port, allowed only where they share what they cache."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from app.cli import main
from tests.support import DTG, free_port, start_process, stop_process, wait_until, worker_environment


@pytest.mark.unit
@pytest.mark.web
def test_several_processes_are_refused_without_redis(tmp_path: Path) -> None:
    env = {"DTG_DATA_DIR": str(tmp_path), "DTG_SECRET_KEY": Fernet.generate_key().decode(), "DTG_REDIS_URL": ""}
    result = CliRunner().invoke(main, ["serve", "--processes", "2"], env=env)
    assert result.exit_code == 2
    assert "--processes above 1 needs DTG_REDIS_URL" in result.output


def _serving_children(leader: int) -> int:
    """uvicorn's worker processes under `leader` (multiprocessing starts each with `spawn_main`)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        count += parent == leader and b"spawn_main" in command
    return count


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.web
def test_two_processes_serve_one_port(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    port = free_port()
    env = worker_environment(tmp_path / "data", postgres_url, redis_url, DTG_BASE_URL=f"http://127.0.0.1:{port}")
    server = start_process([*DTG, "serve", "--port", str(port), "--processes", "2"], env, tmp_path / "serve.log")
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, "the web processes to answer")
        wait_until(lambda: _serving_children(server.pid) == 2, 30, "two web processes")
        assert all(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200 for _ in range(20))
    finally:
        stop_process(server)
