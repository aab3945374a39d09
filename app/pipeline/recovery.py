"""Tasks whose worker is gone are taken over within a minute, after any restart, embedded or not.

Each worker process beats every 15 s (`worker_heartbeats`) and a task records the worker running it
(`TaskRepository.claim`). Every worker, after each beat, calls `recover_orphaned_tasks`: an active task whose worker
has not beaten for `WORKER_GONE_AFTER`, or that no worker took for `QUEUED_LOST_AFTER` (Redis lost its message), is
queued again, or ends cancelled when someone asked to cancel it, so nobody has to click twice. The embedded mode is
the only worker of its deployment, so at start-up it queues every unfinished task again (`requeue_unfinished`).
A duplicate message is harmless: the actor runs only if it can claim the task.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from app.db.models import Task, utcnow
from app.db.tasks import TaskRepository
from app.pipeline.generation import KIND as GENERATION
from app.pipeline.jobs import JobQueue

log = logging.getLogger(__name__)

# Two missed beats and a margin; with the 15 s sweep, a task is taken over at most a minute after its worker died.
WORKER_GONE_AFTER = timedelta(seconds=40)
QUEUED_LOST_AFTER = timedelta(minutes=1)


class RecoveryPorts(Protocol):
    tasks: TaskRepository
    jobs: JobQueue


def recover_orphaned_tasks(ports: RecoveryPorts) -> int:
    """Take over the tasks whose worker is gone (any tenant's); returns how many."""
    now = utcnow()
    orphans = ports.tasks.take_over_orphans(gone_before=now - WORKER_GONE_AFTER, queued_before=now - QUEUED_LOST_AFTER)
    for task in orphans:
        _resume(ports, task)
    return len(orphans)


def requeue_unfinished(ports: RecoveryPorts) -> int:
    """Embedded start-up: the previous process was the only worker, so every unfinished task lost its runner."""
    unfinished = ports.tasks.release_unfinished()
    for task in unfinished:
        _resume(ports, task)
    return len(unfinished)


def _resume(ports: RecoveryPorts, task: Task) -> None:
    assert task.id is not None
    if task.cancel_requested:
        ports.tasks.finish(task.id, "Cancelled.", state="cancelled")
    elif task.kind == GENERATION:
        ports.jobs.enqueue_generation(task.id)
    elif task.kind == "export":
        ports.jobs.enqueue_export(task.id)
    else:  # a ping: nobody waits for it any more
        ports.tasks.finish(task.id, "Its worker stopped before it finished.", state="failed")
    log.warning("%s task %s lost its worker and was taken over", task.kind, task.id)
