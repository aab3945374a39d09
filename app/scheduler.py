"""The hourly clean-up schedule (APScheduler): `dtg scheduler` in production, the web process when embedded.

Run one scheduler per deployment. Running two by mistake is harmless, only wasteful: the clean-up is idempotent
and safe to run concurrently (see app/pipeline/retention.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from app.db.models import utcnow

log = logging.getLogger(__name__)

CLEANUP_EVERY = timedelta(hours=1)


def schedule_cleanup(scheduler: BaseScheduler, job: Callable[[], None], *, first_run_in: timedelta) -> None:
    """Run `job` (enqueue or run the clean-up) after `first_run_in`, then every hour; late runs are merged."""

    def run() -> None:
        try:
            job()
        except Exception:  # the scheduler must keep its schedule; the next hour tries again
            log.exception("the scheduled clean-up could not run")

    scheduler.add_job(
        run,
        "interval",
        seconds=CLEANUP_EVERY.total_seconds(),
        id="cleanup",
        next_run_time=utcnow() + first_run_in,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
