"""Check that a background worker consumes the queue: enqueue a ping task and wait until it is done."""

from __future__ import annotations

import time
from datetime import datetime

from app.db.tasks import TaskRepository
from app.pipeline.jobs import JobQueue
from app.pipeline.ports import HeartbeatPorts


def newest_beat(ports: HeartbeatPorts) -> datetime | None:
    """When a worker last said it is alive (None: no worker ever did)."""
    return ports.heartbeats.newest()


def request_ping(tasks: TaskRepository, queue: JobQueue, *, tenant_id: int | None) -> int:
    task = tasks.create(tenant_id=tenant_id, kind="ping", total=1)
    assert task.id is not None
    queue.enqueue_ping(task.id)
    return task.id


def complete_ping(tasks: TaskRepository, task_id: int) -> None:
    """The worker side; idempotent, so a redelivered message does no harm."""
    tasks.finish(task_id, "pong")


def wait_for_ping(tasks: TaskRepository, task_id: int, *, timeout: float, tenant_id: int | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = tasks.get(task_id, tenant_id=tenant_id)
        if task is not None and task.state == "done":
            return True
        time.sleep(0.1)
    return False
