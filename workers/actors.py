"""The actors: thin, idempotent, taking ids only; each runs one pipeline function.

They are plain functions here and declared on the configured broker by `workers.broker.configure_broker`, so no
module has to be imported in a particular order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.pipeline.workers_check import complete_ping
from workers.runtime import services


def ping(task_id: int) -> None:
    complete_ping(services().tasks, task_id)


ACTORS: dict[Callable[..., Any], dict[str, Any]] = {
    ping: {"max_retries": 3, "time_limit": 60_000},
}
