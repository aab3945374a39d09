"""`JobQueue` implemented with Dramatiq messages."""

from __future__ import annotations

import dramatiq


class DramatiqJobQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def enqueue_ping(self, task_id: int) -> None:
        self._broker.get_actor("ping").send(task_id)

    def enqueue_generation(self, task_id: int) -> None:
        self._broker.get_actor("generate").send(task_id)

    def enqueue_export(self, task_id: int) -> None:
        self._broker.get_actor("export").send(task_id)
