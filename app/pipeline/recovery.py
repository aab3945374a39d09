"""Tasks whose worker is gone are taken over within a minute, after any restart, embedded or not.

Each worker process beats every `Liveness.beat_every` (`worker_heartbeats`) and a task records the worker running it
(`TaskRepository.claim`). Every worker, after each beat, calls `recover_orphaned_tasks`: an active task whose worker
has not beaten for `Liveness.gone_after`, or that no worker took for `QUEUED_LOST_AFTER` (Redis lost its message), is
queued again, or ends cancelled when someone asked to cancel it, so nobody has to click twice. The embedded mode is
the only worker of its deployment, so at start-up it queues every unfinished task again (`requeue_unfinished`).
A duplicate message is harmless: the actor runs only if it can claim the task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from app.db.models import Task, utcnow
from app.db.tasks import TaskRepository
from app.pipeline.generation import KIND as GENERATION
from app.pipeline.jobs import JobQueue

log = logging.getLogger(__name__)

QUEUED_LOST_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Liveness:
    """How often a worker beats, and after how long a silent one counts as gone.

    Both follow the broker's heartbeat timeout (DTG_REDIS_HEARTBEAT_TIMEOUT_MS): the broker hands a dead worker's
    messages to another worker after that timeout, and that worker can claim the task only once the dead one counts
    as gone here too; a fixed, longer wait would drop the handed-on message and leave the run to the sweep.
    """

    beat_every: timedelta
    gone_after: timedelta

    @classmethod
    def for_heartbeat_timeout(cls, timeout_ms: int) -> Liveness:
        beat = timedelta(milliseconds=min(15_000, max(500, timeout_ms // 3)))
        # Two missed beats and a margin (at most 10 s): with the default 15 s timeout, gone after 20 s.
        return cls(beat_every=beat, gone_after=beat * 2 + min(timedelta(seconds=10), beat * 2))


class RecoveryPorts(Protocol):
    tasks: TaskRepository
    jobs: JobQueue


def recover_orphaned_tasks(ports: RecoveryPorts, *, gone_after: timedelta) -> int:
    """Take over the tasks whose worker is gone (any tenant's); returns how many."""
    now = utcnow()
    orphans = ports.tasks.take_over_orphans(gone_before=now - gone_after, queued_before=now - QUEUED_LOST_AFTER)
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
