"""The port through which use cases hand work to background workers; `workers/queue.py` implements it."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

# Runs save progress after every ticket or chunk, and one step takes at most a few minutes of retries; an active
# run untouched for longer has lost its message (Redis keeps nothing on disk) or its worker, so starting it again
# re-enqueues it instead of refusing.
STALE_AFTER = timedelta(minutes=10)


class JobQueue(Protocol):
    def enqueue_ping(self, task_id: int) -> None:
        """Ask a worker to mark the task done: proves a worker is consuming the queue."""

    def enqueue_generation(self, task_id: int) -> None:
        """Ask a worker to run (or resume) generation task `task_id`."""

    def enqueue_export(self, task_id: int) -> None:
        """Ask a worker to run (or resume) export task `task_id`."""
