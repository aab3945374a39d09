"""A generation run survives its worker being killed: another worker resumes it, no ticket twice or missing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.container import build_services
from app.pipeline.generation import start_generation
from app.settings import Settings
from tests.pipeline.conftest import make_workspace
from tests.support import spawn_worker, stop_process, worker_environment
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.integration, pytest.mark.workers, pytest.mark.generation, pytest.mark.slow]


def _task(url: str, task_id: int) -> tuple[str, int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT state, done, total FROM tasks WHERE id = :id"), {"id": task_id}).one()
    engine.dispose()
    return row[0], row[1], row[2]


def test_killed_worker_mid_run_is_resumed_by_another(tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    workspace_iter = make_workspace(postgres_url)
    workspace = next(workspace_iter)
    workspace.upload_uwec()
    # A short broker heartbeat: the killed worker's message goes to the next worker after 3 s, not the default 15 s.
    env = worker_environment(
        tmp_path, postgres_url, redis_url, DTG_LLM_CONCURRENCY="1", DTG_REDIS_HEARTBEAT_TIMEOUT_MS="3000"
    )
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    task_id = start_generation(services, tenant_id=workspace.tenant_id, session_id=workspace.session_id)

    first = spawn_worker(env, tmp_path / "worker.log")
    deadline = time.monotonic() + 60
    while _task(postgres_url, task_id)[1] < 5:
        assert time.monotonic() < deadline, "the first worker never started the run"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    state, done, total = _task(postgres_url, task_id)
    assert state == "running" and done < total, "the run finished before the kill; make it slower"

    second = spawn_worker(env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 120
        while _task(postgres_url, task_id)[0] != "done":
            assert time.monotonic() < deadline, "no worker resumed the run"
            time.sleep(0.5)
    finally:
        stop_process(second)

    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert len(tickets) == total
    assert len({t.key for t in tickets}) == total
    assert all(t.prose_written for t in tickets)
    services.engine.dispose()
    workspace_iter.close()
