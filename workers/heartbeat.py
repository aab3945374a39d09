"""Each worker process says it is alive: a row in `worker_heartbeats` rewritten every few seconds.

`/readyz` is ready only if some worker beat within the last minute. A thread, not a message, does the beating,
so a worker busy with a long export still counts as alive; one that dies stops beating, and its row ages out.
After each beat the thread takes over the tasks of workers that stopped beating (app/pipeline/recovery.py); the
embedded worker, its deployment's only one, first queues again every task a previous process left unfinished.
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
from app.pipeline.recovery import Liveness, recover_orphaned_tasks, requeue_unfinished
from workers.runtime import services, worker_id

log = logging.getLogger(__name__)


class HeartbeatMiddleware(Middleware):
    """Must be added before `ServicesMiddleware`, whose Services (the database) it uses once booted."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._repository: HeartbeatRepository | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        current = services()
        self._repository = current.heartbeats
        if current.settings.redis_url is None:
            requeued = requeue_unfinished(current)
            if requeued:
                log.warning("queued again %s tasks left unfinished by the previous process", requeued)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run,
            args=(self._repository, Liveness.for_heartbeat_timeout(current.settings.redis_heartbeat_timeout_ms)),
            name="dtg-heartbeat",
            daemon=True,
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._repository is None:
            return
        try:
            self._repository.forget(worker_id())
        except Exception:  # shutting down: the row ages out anyway
            log.warning("could not remove the worker heartbeat", exc_info=True)

    def _run(self, repository: HeartbeatRepository, liveness: Liveness) -> None:
        while True:
            try:
                repository.beat(worker_id(), host=socket.gethostname(), pid=os.getpid())
                recover_orphaned_tasks(services(), gone_after=liveness.gone_after)
            except Exception:  # the database may be restarting; the next beat tries again
                log.warning("worker heartbeat failed", exc_info=True)
            if self._stop.wait(liveness.beat_every.total_seconds()):
                return
