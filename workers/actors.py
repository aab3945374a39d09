"""The actors: thin, idempotent, taking ids only; each runs one pipeline function.

They are plain functions here and declared on the configured broker by `workers.broker.configure_broker`, so no
module has to be imported in a particular order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

import dramatiq

from app.db.models import utcnow
from app.offload import offload
from app.pipeline.export import PERMANENT_ERRORS, run_export
from app.pipeline.generation import run_generation, writer_for_task
from app.pipeline.recovery import Liveness
from app.pipeline.retention import run_cleanup
from app.pipeline.workers_check import complete_ping
from app.retries import RetryLater
from workers.runtime import services, worker_id

log = logging.getLogger(__name__)


# The tasks this process is running now. Its own claim on any other task is stale (its release was lost, say to a
# database outage) and may be taken again; a second message for a task it is running is a duplicate.
_running_here: set[int] = set()


@asynccontextmanager
async def running(task_id: int) -> AsyncIterator[bool]:
    """Whether this worker may run the task: it claims it unless a live worker has it (a duplicate message after a
    take-over), and releases it when the run ends, fails or is retried (not due again before a retry's delay)."""
    current, me = services(), worker_id()
    gone_after = Liveness.for_heartbeat_timeout(current.settings.redis_heartbeat_timeout_ms).gone_after
    tasks = current.tasks
    claimed = False
    if task_id not in _running_here:
        _running_here.add(task_id)
        try:
            claimed = await offload(tasks.claim, task_id, worker_id=me, gone_before=utcnow() - gone_after)
        finally:  # refused, or the database failed: the retry must find it free
            if not claimed:
                _running_here.discard(task_id)
    if not claimed:
        log.info("task %s is not active or another worker runs it; nothing to do", task_id)
    due_in = timedelta()
    try:
        yield claimed
    except dramatiq.Retry as retry:
        due_in = timedelta(milliseconds=retry.delay or 0)
        raise
    finally:
        if claimed:
            _running_here.discard(task_id)
            await offload(tasks.release, task_id, worker_id=me, due_in=due_in)


@contextmanager
def requeued_when_asked() -> Iterator[None]:
    """A server asked for a pause too long to sleep through: the message comes back after it, the worker is free."""
    try:
        yield
    except RetryLater as exc:
        raise dramatiq.Retry(str(exc), delay=round(exc.delay * 1000)) from exc


def ping(task_id: int) -> None:
    complete_ping(services().tasks, task_id)


async def generate(task_id: int) -> None:
    current = services()
    async with running(task_id) as claimed:
        writer = await offload(writer_for_task, current, task_id) if claimed else None
        if writer is None:
            return
        try:
            with requeued_when_asked():
                await run_generation(current, task_id, writer=writer, concurrency=current.settings.llm_concurrency)
        finally:
            await writer.aclose()


async def export(task_id: int) -> None:
    async with running(task_id) as claimed:
        if claimed:
            with requeued_when_asked():
                await run_export(services(), task_id)


def cleanup() -> None:
    """Enqueued every hour by `dtg scheduler` (or the embedded web process); see app/pipeline/retention.py."""
    run_cleanup(services())


def task_failed(message_data: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """Called once an actor has used up its retries: the task ends as failed instead of hanging as running."""
    task_id = message_data["args"][0]
    services().tasks.finish(
        task_id, "The run failed repeatedly; try again, and if it fails again, tell support.", state="failed"
    )


ACTORS: dict[Callable[..., Any], dict[str, Any]] = {
    ping: {"max_retries": 3, "time_limit": 60_000},
    generate: {"max_retries": 5, "time_limit": 3_600_000, "on_retry_exhausted": "task_failed"},
    task_failed: {"max_retries": 3},
    # Idempotent: a retry, or two scheduled runs overlapping, delete nothing twice.
    cleanup: {"max_retries": 3, "time_limit": 900_000},
    # Jira still failing after app.retries' in-process tries is retried with backoff (or after Jira's Retry-After);
    # the run resumes. The 3 here is part of the bound stated in app/retries.py.
    export: {
        "max_retries": 3,
        "min_backoff": 2_000,
        "max_backoff": 120_000,
        "time_limit": 3_600_000,
        "throws": PERMANENT_ERRORS,
        "on_retry_exhausted": "task_failed",
    },
}
