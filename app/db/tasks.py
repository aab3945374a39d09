"""Background tasks and their progress, always read within a tenant."""

from __future__ import annotations

from sqlmodel import select

from app.db.engine import SessionFactory
from app.db.models import Task, utcnow


class TaskRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def create(self, *, tenant_id: int | None, kind: str, total: int = 0) -> Task:
        with self._sessions() as session:
            task = Task(tenant_id=tenant_id, kind=kind, total=total)
            session.add(task)
            session.commit()
            session.refresh(task)
            return task

    def get(self, task_id: int, *, tenant_id: int | None) -> Task | None:
        with self._sessions() as session:
            query = select(Task).where(Task.id == task_id)
            query = query.where(Task.tenant_id == tenant_id) if tenant_id is not None else query.where(
                Task.tenant_id.is_(None)  # type: ignore[union-attr]
            )
            return session.exec(query).first()

    def finish(self, task_id: int, message: str = "") -> None:
        with self._sessions() as session:
            task = session.get(Task, task_id)
            if task is None or task.state == "done":
                return
            task.state, task.done, task.message, task.updated_at = "done", task.total, message, utcnow()
            session.add(task)
            session.commit()
