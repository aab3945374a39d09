"""A task whose worker is gone is taken over or ended within a minute, after any restart, embedded or not; asking
to cancel does not extend the wait, and an orphan that was asked to cancel ends cancelled without another click."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
import redis
from sqlalchemy import text

from app.container import build_services
from app.db.heartbeats import HeartbeatRepository
from app.db.models import Task, utcnow
from app.pipeline.generation import start_generation
from app.pipeline.recovery import Liveness, recover_orphaned_tasks, requeue_unfinished
from app.settings import Settings
from tests.pipeline.conftest import Workspace, make_workspace
from tests.support import make_settings, spawn_worker, stop_process, wait_until, worker_environment
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.workers]

# The default DTG_REDIS_HEARTBEAT_TIMEOUT_MS gives a 5 s beat and 20 s until a silent worker counts as gone.
WORKER_GONE_AFTER = Liveness.for_heartbeat_timeout(15_000).gone_after
# The real-process test runs its workers on a short heartbeat (a 1 s beat, gone after 4 s) so that it waits seconds,
# not the default's 20 s; the default's own bound is checked below without processes.
FAST_HEARTBEAT_MS = 3_000


@pytest.mark.unit
def test_with_the_default_heartbeat_a_silent_worker_is_taken_over_within_a_minute() -> None:
    default = Liveness.for_heartbeat_timeout(Settings.from_env({}).redis_heartbeat_timeout_ms)
    assert default.gone_after + default.beat_every < timedelta(minutes=1)  # gone, then the next sweep
    fast = Liveness.for_heartbeat_timeout(FAST_HEARTBEAT_MS)
    assert fast.beat_every == timedelta(seconds=1) and fast.gone_after == timedelta(seconds=4)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    yield from make_workspace(f"sqlite:///{tmp_path / 'db.sqlite3'}")


def _set(workspace: Workspace, task_id: int, **values: object) -> None:
    with workspace.sessions._sessions() as session:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        session.execute(text(f"UPDATE tasks SET {assignments} WHERE id = :id"), {**values, "id": task_id})
        session.commit()


def _heartbeats(workspace: Workspace) -> HeartbeatRepository:
    return HeartbeatRepository(workspace.sessions._sessions)


def _running(workspace: Workspace, *, worker: str, beat_seconds_ago: float) -> int:
    """A generation task running on `worker`, whose last heartbeat was that long ago."""
    workspace.upload_uwec()
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    workspace.jobs.generations.clear()
    _heartbeats(workspace).beat(worker, host="h", pid=1)
    with workspace.sessions._sessions() as session:
        session.execute(
            text("UPDATE worker_heartbeats SET beat_at = :at WHERE worker_id = :id"),
            {"at": utcnow() - timedelta(seconds=beat_seconds_ago), "id": worker},
        )
        session.commit()
    assert workspace.tasks.claim(task_id, worker_id=worker, gone_before=utcnow() - WORKER_GONE_AFTER)
    _set(workspace, task_id, state="running")
    return task_id


@pytest.mark.unit
def test_a_task_whose_worker_stopped_beating_is_taken_over_once(workspace: Workspace) -> None:
    task_id = _running(workspace, worker="dead-worker", beat_seconds_ago=45)

    assert recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 1
    assert workspace.jobs.generations == [task_id]
    assert recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 0  # queued again once, not at every sweep
    assert workspace.jobs.generations == [task_id]
    # The new message's worker may claim it now; a duplicate message then finds it taken.
    assert workspace.tasks.claim(task_id, worker_id="new-worker", gone_before=utcnow() - WORKER_GONE_AFTER)
    _heartbeats(workspace).beat("new-worker", host="h", pid=2)
    assert not workspace.tasks.claim(task_id, worker_id="duplicate", gone_before=utcnow() - WORKER_GONE_AFTER)


@pytest.mark.unit
def test_a_task_whose_worker_beats_is_left_alone(workspace: Workspace) -> None:
    task_id = _running(workspace, worker="busy-worker", beat_seconds_ago=5)
    _set(workspace, task_id, updated_at=utcnow() - timedelta(minutes=30))  # a long step: no progress for a while

    assert recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 0 and workspace.jobs.generations == []
    assert not workspace.tasks.claim(task_id, worker_id="other", gone_before=utcnow() - WORKER_GONE_AFTER)
    workspace.tasks.release(task_id, worker_id="busy-worker")
    assert workspace.tasks.claim(task_id, worker_id="other", gone_before=utcnow() - WORKER_GONE_AFTER)


@pytest.mark.unit
def test_a_worker_whose_release_was_lost_can_claim_its_task_again(workspace: Workspace) -> None:
    # The database was down when the run failed, so the release never happened; the retry comes to the same worker,
    # which beats (it is alive): its own leftover claim must not stop it, or the task stays running for ever.
    task_id = _running(workspace, worker="this-worker", beat_seconds_ago=1)

    assert workspace.tasks.claim(task_id, worker_id="this-worker", gone_before=utcnow() - WORKER_GONE_AFTER)
    assert not workspace.tasks.claim(task_id, worker_id="other-worker", gone_before=utcnow() - WORKER_GONE_AFTER)


@pytest.mark.unit
def test_cancel_does_not_extend_the_wait_and_the_orphan_ends_cancelled(workspace: Workspace) -> None:
    task_id = _running(workspace, worker="dead-worker", beat_seconds_ago=45)
    before = workspace.tasks.find(task_id)

    assert workspace.tasks.request_cancel(task_id, tenant_id=workspace.tenant_id)
    after = workspace.tasks.find(task_id)
    assert before is not None and after is not None and after.updated_at == before.updated_at

    assert recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 1
    task = workspace.tasks.find(task_id)
    assert task is not None and task.state == "cancelled" and workspace.jobs.generations == []


@pytest.mark.unit
def test_a_queued_task_no_worker_took_within_a_minute_is_queued_again(workspace: Workspace) -> None:
    workspace.upload_uwec()
    task_id = start_generation(workspace, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    workspace.jobs.generations.clear()

    assert (
        recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 0
    )  # just queued: a worker may be about to take it
    _set(workspace, task_id, updated_at=utcnow() - timedelta(seconds=61))
    assert recover_orphaned_tasks(workspace, gone_after=WORKER_GONE_AFTER) == 1 and workspace.jobs.generations == [
        task_id
    ]


@pytest.mark.unit
def test_embedded_start_up_queues_every_unfinished_task_again(workspace: Workspace) -> None:
    # The previous process beat a second ago: in the embedded mode it was the only worker, so it is gone anyway.
    task_id = _running(workspace, worker="previous-process", beat_seconds_ago=1)

    assert requeue_unfinished(workspace) == 1 and workspace.jobs.generations == [task_id]
    assert workspace.tasks.claim(task_id, worker_id="this-process", gone_before=utcnow() - WORKER_GONE_AFTER)


@pytest.mark.integration
@pytest.mark.slow
def test_the_embedded_worker_resumes_a_run_left_running_by_the_previous_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    workspaces = make_workspace(settings.database_url)
    workspace = next(workspaces)
    task_id = _running(workspace, worker="previous-process", beat_seconds_ago=1)
    broker = configure_broker(settings)
    worker = dramatiq.Worker(broker, worker_threads=2)
    worker.start()  # its boot is the embedded process's start-up
    try:
        wait_until(lambda: _task(workspace, task_id).state == "done", 60, "the run to be resumed")
    finally:
        worker.stop()
    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert len(tickets) == 109 and all(t.prose_written for t in tickets)
    workspaces.close()


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_whose_worker_and_message_were_lost_is_taken_over_once_the_worker_counts_as_gone(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    """A worker is killed mid-run and the broker's copy of the message is lost (as when Redis restarts without
    persistence: this test empties only its own Redis database); the next worker takes the run over."""
    workspaces = make_workspace(postgres_url)
    workspace = next(workspaces)
    workspace.upload_uwec()
    env = worker_environment(
        tmp_path,
        postgres_url,
        redis_url,
        DTG_LLM_CONCURRENCY="1",
        DTG_REDIS_HEARTBEAT_TIMEOUT_MS=str(FAST_HEARTBEAT_MS),
    )
    liveness = Liveness.for_heartbeat_timeout(FAST_HEARTBEAT_MS)
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    task_id = start_generation(services, tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    first = spawn_worker(env, tmp_path / "worker.log")
    wait_until(lambda: _task(workspace, task_id).done >= 5, 60, "the first worker to start the run")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    redis.Redis.from_url(redis_url).flushdb()  # the message the killed worker held is gone
    killed_at, dead_worker = time.monotonic(), _task(workspace, task_id).worker_id
    assert dead_worker is not None and _task(workspace, task_id).state == "running"

    second = spawn_worker(env, tmp_path / "worker.log")
    try:
        wait_until(lambda: _task(workspace, task_id).worker_id not in (None, dead_worker), 90, "a take-over")
        taken_over_after = time.monotonic() - killed_at
        wait_until(lambda: _task(workspace, task_id).state == "done", 120, "the resumed run to finish")
    finally:
        stop_process(second)
    # Gone, then the second worker's first sweep; plus its start on a loaded machine.
    assert taken_over_after < (liveness.gone_after + liveness.beat_every).total_seconds() + 15
    tickets = workspace.tickets.list(tenant_id=workspace.tenant_id, session_id=workspace.session_id)
    assert len(tickets) == 109 and len({t.key for t in tickets}) == 109
    services.engine.dispose()
    workspaces.close()


def _task(workspace: Workspace, task_id: int) -> Task:
    task = workspace.tasks.find(task_id)
    assert task is not None
    return task
