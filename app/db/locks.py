"""A named lock that keeps two workers from running the same export at once, and dies with its holder.

PostgreSQL: a session advisory lock on a connection held for the duration, released by the server the moment
the process dies (so a SIGKILLed worker never leaves it stuck). SQLite is the embedded, single-process setup:
a lock inside the process is enough there.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

_local_locks: dict[str, threading.Lock] = {}
_registry = threading.Lock()


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yield True while holding the lock `name`, or False at once when someone else holds it."""
    if engine.dialect.name != "postgresql":
        with _registry:
            lock = _local_locks.setdefault(name, threading.Lock())
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    with engine.connect() as connection:
        acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
