"""Each worker process says it is alive: a row in `worker_heartbeats` rewritten every few seconds.

`/readyz` is ready only if some worker beat within the last minute. A thread, not a message, does the beating,
so a worker busy with a long export still counts as alive; one that dies stops beating, and its row ages out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from app.db.heartbeats import HeartbeatRepository
from workers.runtime import services

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 15.0


class HeartbeatMiddleware(Middleware):
    """Must be added before `ServicesMiddleware`, whose Services (the database) it uses once booted."""

    def __init__(self, interval: float = INTERVAL_SECONDS) -> None:
        self.interval = interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._repository: HeartbeatRepository | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._repository = HeartbeatRepository(services().db)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(self._repository,), name="dtg-heartbeat", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._repository is None:
            return
        try:
            self._repository.forget(self.worker_id)
        except Exception:  # shutting down: the row ages out anyway
            log.warning("could not remove the worker heartbeat", exc_info=True)

    def _run(self, repository: HeartbeatRepository) -> None:
        while True:
            try:
                repository.beat(self.worker_id, host=socket.gethostname(), pid=os.getpid())
            except Exception:  # the database may be restarting; the next beat tries again
                log.warning("worker heartbeat failed", exc_info=True)
            if self._stop.wait(self.interval):
                return
