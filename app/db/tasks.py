"""Background tasks and their progress, always read within a tenant."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.db.engine import SessionFactory
from app.db.models import ACTIVE_TASK_STATES, Task, Tenant, WorkerHeartbeat, utcnow
from app.db.sessions import require_session
from app.errors import ConflictError

log = logging.getLogger(__name__)


class TaskAlreadyRunningError(ConflictError):
    """Another run of the same kind is active for this upload session."""


class TaskRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def create(
        self,
        *,
        tenant_id: int | None,
        kind: str,
        total: int = 0,
        session_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Task:
        """Raises: TaskAlreadyRunningError when a task of this kind is already active for the session."""
        with self._sessions() as session:
            if session_id is not None:
                require_session(session, tenant_id=tenant_id or 0, session_id=session_id)
            task = Task(tenant_id=tenant_id, session_id=session_id, kind=kind, total=total, detail=detail or {})
            session.add(task)
            try:
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise TaskAlreadyRunningError(f"A {kind} run is already in progress for this session.") from exc
            session.refresh(task)
            return task

    def create_or_claim_stale(
        self,
        *,
        tenant_id: int,
        session_id: int,
        kind: str,
        stale_before: datetime,
        total: int = 0,
        detail: dict[str, Any] | None = None,
    ) -> Task:
        """A new task, or the session's active one of `kind` if it has been idle since `stale_before`.

        Raises: TaskAlreadyRunningError when an active task made progress lately.
        """
        try:
            return self.create(tenant_id=tenant_id, session_id=session_id, kind=kind, total=total, detail=detail)
        except TaskAlreadyRunningError:
            stale = self.claim_stale(tenant_id=tenant_id, session_id=session_id, kind=kind, stale_before=stale_before)
            if stale is None:
                raise
            log.warning("%s task %s was idle since before %s; queued again", kind, stale.id, stale_before)
            return stale

    def claim_stale(self, *, tenant_id: int, session_id: int, kind: str, stale_before: datetime) -> Task | None:
        """The session's active task of `kind` if nothing touched it since `stale_before`, marked touched now.

        Its message may be gone (Redis keeps nothing on disk, so a restart drops whatever was queued or being
        handed on) and it would stay active forever, blocking every new run; the caller enqueues it again. The
        conditional update makes one caller the winner when two ask at once, so it is re-enqueued once.
        """
        with self._sessions() as session:
            claimed = session.execute(
                update(Task)
                .where(
                    col(Task.tenant_id) == tenant_id,
                    col(Task.session_id) == session_id,
                    col(Task.kind) == kind,
                    col(Task.state).in_(ACTIVE_TASK_STATES),
                    col(Task.updated_at) < stale_before,
                )
                .values(updated_at=utcnow())
                .returning(col(Task.id))
            ).first()
            session.commit()
        return self.get(claimed[0], tenant_id=tenant_id) if claimed else None

    def claim(self, task_id: int, *, worker_id: str, gone_before: datetime) -> bool:
        """Make `worker_id` the runner of the active task, if no other live worker runs it (none does, `worker_id`'s own
        claim is left over because its release failed, or the runner has not beaten since `gone_before`). False: the
        task ended, or another live worker has it (a duplicate message). The caller keeps a worker from running one
        task twice at once."""
        with self._sessions() as session:
            result = session.execute(
                update(Task)
                .where(
                    col(Task.id) == task_id,
                    col(Task.state).in_(ACTIVE_TASK_STATES),
                    or_(
                        col(Task.worker_id).is_(None),
                        col(Task.worker_id) == worker_id,
                        col(Task.worker_id).not_in(_live_workers(gone_before)),
                    ),
                )
                .values(worker_id=worker_id)
            )
            session.commit()
        return cast(CursorResult[Any], result).rowcount == 1

    def release(self, task_id: int, *, worker_id: str, due_in: timedelta = timedelta()) -> None:
        """The worker stopped running the task (finished, failed or will be retried): anyone may claim it again.

        `due_in`: the delay of the retry's message; until then plus `take_over_orphans`' wait for a queued task,
        the recovery does not take the message for lost.
        """
        with self._sessions() as session:
            session.execute(
                update(Task)
                .where(col(Task.id) == task_id, col(Task.worker_id) == worker_id)
                .values(worker_id=None, updated_at=utcnow() + due_in)
            )
            session.commit()

    def take_over_orphans(self, *, gone_before: datetime, queued_before: datetime) -> list[Task]:
        """Active tasks whose worker stopped beating before `gone_before`, or that no worker took since
        `queued_before` (their message was lost), each returned to exactly one caller with its runner cleared and
        its clock reset, so the caller re-enqueues (or ends) it once. Any tenant's: for the workers' recovery."""
        orphaned = or_(
            # IS NOT NULL too: `NULL NOT IN (no rows)` is true in SQL.
            col(Task.worker_id).is_not(None) & col(Task.worker_id).not_in(_live_workers(gone_before)),
            (col(Task.worker_id).is_(None)) & (col(Task.updated_at) < queued_before),
        )
        with self._sessions() as session:
            candidates = list(session.exec(select(Task).where(col(Task.state).in_(ACTIVE_TASK_STATES), orphaned)))
            taken: list[Task] = []
            for task in candidates:
                # Conditional on what was seen: when two workers recover at once, one of them wins each task.
                same_runner = (
                    col(Task.worker_id).is_(None) if task.worker_id is None else col(Task.worker_id) == task.worker_id
                )
                result = session.execute(
                    update(Task)
                    .where(col(Task.id) == task.id, col(Task.state).in_(ACTIVE_TASK_STATES), same_runner, orphaned)
                    .values(worker_id=None, updated_at=utcnow())
                )
                if cast(CursorResult[Any], result).rowcount == 1:
                    taken.append(task)
            session.commit()
        return taken

    def release_unfinished(self) -> list[Task]:
        """Every queued or running task, of any tenant, with its runner cleared: what an embedded process starting
        must queue again (it is its deployment's only worker, so whoever ran them is gone)."""
        with self._sessions() as session:
            unfinished = list(session.exec(select(Task).where(col(Task.state).in_(ACTIVE_TASK_STATES))))
            session.execute(update(Task).where(col(Task.state).in_(ACTIVE_TASK_STATES)).values(worker_id=None))
            session.commit()
            return unfinished

    def active_at_step(self, *, tenant_id: int, kind: str, current: str) -> list[Task]:
        """This tenant's queued or running tasks of `kind` whose progress line reads `current` (a waiting step)."""
        with self._sessions() as session:
            query = select(Task).where(
                Task.tenant_id == tenant_id,
                Task.kind == kind,
                Task.current == current,
                col(Task.state).in_(ACTIVE_TASK_STATES),
            )
            return list(session.exec(query))

    def get(self, task_id: int, *, tenant_id: int | None) -> Task | None:
        with self._sessions() as session:
            query = select(Task).where(Task.id == task_id)
            if tenant_id is None:
                query = query.where(col(Task.tenant_id).is_(None))
            else:
                query = query.where(Task.tenant_id == tenant_id)
            return session.exec(query).first()

    def get_active(self, task_id: int) -> Task | None:
        """For workers, which know only the task id: the task if it is still queued or running."""
        with self._sessions() as session:
            task = session.get(Task, task_id)
            return task if task is not None and task.state in ACTIVE_TASK_STATES else None

    def find(self, task_id: int) -> Task | None:
        """Any tenant's task: for workers, whose messages carry only the task id."""
        with self._sessions() as session:
            return session.get(Task, task_id)

    def latest(self, *, tenant_id: int, session_id: int, kind: str) -> Task | None:
        with self._sessions() as session:
            query = (
                select(Task)
                .where(Task.tenant_id == tenant_id, Task.session_id == session_id, Task.kind == kind)
                .order_by(col(Task.id).desc())
            )
            return session.exec(query).first()

    def progress(
        self, task_id: int, *, done: int, total: int, current: str = "", detail: dict[str, Any] | None = None
    ) -> None:
        with self._sessions() as session:
            task = session.get(Task, task_id)
            if task is None or task.state not in ACTIVE_TASK_STATES:
                return
            task.state, task.done, task.total, task.current = "running", done, total, current[:255]
            if detail is not None:
                # Merged, so what the run was started with (e.g. its provider) stays beside the progress.
                task.detail = {**task.detail, **detail}
            task.updated_at = utcnow()
            session.add(task)
            session.commit()

    def request_cancel(self, task_id: int, *, tenant_id: int) -> bool:
        with self._sessions() as session:
            task = session.exec(select(Task).where(Task.id == task_id, Task.tenant_id == tenant_id)).first()
            if task is None or task.state not in ACTIVE_TASK_STATES:
                return False
            # `updated_at` is left alone: asking to cancel must not make a task whose worker is gone look alive.
            task.cancel_requested = True
            session.add(task)
            session.commit()
            return True

    def cancel_requested(self, task_id: int) -> bool:
        """True when someone asked to cancel, or when the tenant uninstalled or disabled the app: a run in progress
        then stops at its next checkpoint and calls Jira no more (a re-install or re-enable lets it be started
        again, where it stopped)."""
        with self._sessions() as session:
            task = session.get(Task, task_id)
            if task is None or task.cancel_requested:
                return True
            tenant = session.get(Tenant, task.tenant_id) if task.tenant_id is not None else None
            return tenant is not None and not (tenant.is_active and tenant.enabled)

    def finish(self, task_id: int, message: str = "", *, state: str = "done") -> None:
        """Idempotent: a task that already ended keeps its first outcome."""
        with self._sessions() as session:
            task = session.get(Task, task_id)
            if task is None or task.state not in ACTIVE_TASK_STATES:
                return
            task.state, task.message, task.updated_at = state, message[:2048], utcnow()
            if state == "done":
                task.done = task.total
            session.add(task)
            session.commit()


def _live_workers(gone_before: datetime) -> SelectOfScalar[str]:
    """The ids of the workers that have beaten since `gone_before`, as a subquery."""
    return select(WorkerHeartbeat.worker_id).where(col(WorkerHeartbeat.beat_at) >= gone_before)
