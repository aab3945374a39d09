"""Engine and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

SessionFactory = Callable[[], Session]


def create_db_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        # The in-process worker threads share the file with the web threads.
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Every connection stays in the pool: an overflow connection is closed when it is returned and opened again for
    # the next burst (a PostgreSQL backend forked per burst). The cap on connections per process is the same 20.
    return create_engine(database_url, pool_pre_ping=True, pool_size=20, max_overflow=0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL stays consistent after a crash and skips an fsync per commit (progress is saved often).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> SessionFactory:
    def open_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return open_session
