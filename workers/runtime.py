"""The one process global we accept: the Services a worker builds at boot and closes at shutdown."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from app.container import Services, build_services
from app.pipeline.jobs import JobQueue
from app.settings import Settings

_services: Services | None = None
_worker_ids: dict[int, str] = {}


class ServicesMiddleware(Middleware):
    def __init__(self, settings: Settings, jobs_factory: Callable[[], JobQueue]) -> None:
        self._settings = settings
        self._jobs_factory = jobs_factory

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # Before the worker threads start: after boot, a message already waiting in the queue can be run (and
        # fail) before the Services exist.
        global _services
        _services = build_services(self._settings, self._jobs_factory())

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        global _services
        if _services is not None:
            _services.engine.dispose()
            _services = None


def worker_id() -> str:
    """This worker process's id, in `worker_heartbeats` and on the tasks it runs. New at every start (the uuid),
    so a restarted container with the same host name and pid is never taken for the worker that died."""
    return _worker_ids.setdefault(os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}")


def services() -> Services:
    if _services is None:
        raise RuntimeError("the worker has not booted")
    return _services
