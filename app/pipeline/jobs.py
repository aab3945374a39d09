"""The port through which use cases hand work to background workers; `workers/queue.py` implements it."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    def enqueue_ping(self, task_id: int) -> None:
        """Ask a worker to mark the task done: proves a worker is consuming the queue."""

    def enqueue_generation(self, task_id: int) -> None:
        """Ask a worker to run (or resume) generation task `task_id`."""

    def enqueue_export(self, task_id: int) -> None:
        """Ask a worker to run (or resume) export task `task_id`."""
