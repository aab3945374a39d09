"""Worker heartbeats: each worker process rewrites its row every few seconds; `/readyz` reads the newest."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select

from app.db.engine import SessionFactory
from app.db.models import WorkerHeartbeat, utcnow


class HeartbeatRepository:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    def beat(self, worker_id: str, *, host: str, pid: int) -> None:
        with self._sessions() as session:
            row = session.get(WorkerHeartbeat, worker_id) or WorkerHeartbeat(worker_id=worker_id, host=host, pid=pid)
            row.beat_at = utcnow()
            session.add(row)
            session.commit()

    def forget(self, worker_id: str) -> None:
        """A worker that stops cleanly leaves no heartbeat behind."""
        with self._sessions() as session:
            session.execute(delete(WorkerHeartbeat).where(col(WorkerHeartbeat.worker_id) == worker_id))
            session.commit()

    def newest(self) -> datetime | None:
        with self._sessions() as session:
            return session.exec(select(func.max(WorkerHeartbeat.beat_at))).one()

    def prune(self, *, older_than: timedelta) -> int:
        """Rows of workers that died without saying so."""
        with self._sessions() as session:
            stale = col(WorkerHeartbeat.beat_at) < utcnow() - older_than
            result = session.exec(delete(WorkerHeartbeat).where(stale))
            session.commit()
            return result.rowcount
