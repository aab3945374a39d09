"""Operations endpoints: readiness for the load balancer, and the export summaries that outlive their sessions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.container import Services
from app.db.models import utcnow
from app.offload import offload
from app.pipeline.retention import export_summaries as export_summaries_of
from app.pipeline.workers_check import newest_beat
from app.web.routing import Auth, SecuredRoute
from app.web.scope import project_key, services, tenant_id

# Workers beat every 15 s (workers/heartbeat.py): four missed beats in a row means none is alive.
WORKER_FRESH = timedelta(minutes=1)
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    ms: float


def _timed(probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # a probe reports any failure as "not ready"; the type is enough, never internals
        detail, ok = f"unreachable ({type(exc).__name__})", False
    return Check(ok, detail, round((time.perf_counter() - started) * 1000, 1))


def _database(current: Services) -> str:
    with current.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "reachable"


def _broker(current: Services) -> str:
    if not current.settings.redis_url:
        return "embedded"
    client = redis.Redis.from_url(
        current.settings.redis_url, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "redis reachable"


def _worker(current: Services) -> str:
    newest = newest_beat(current)
    if newest is None:
        raise LookupError("no worker has ever beaten")
    # SQLite hands back naive datetimes; everything we store is UTC.
    age = utcnow() - (newest if newest.tzinfo else newest.replace(tzinfo=UTC))
    if age > WORKER_FRESH:
        raise TimeoutError(f"newest heartbeat is {int(age.total_seconds())} s old")
    return f"heartbeat {age.total_seconds():.0f} s ago"


def readiness(current: Services) -> dict[str, Check]:
    """Each check named, so an operator sees which dependency is missing."""
    checks = {"database": _timed(lambda: _database(current)), "broker": _timed(lambda: _broker(current))}
    # Without a database there is no heartbeat to read: report the worker as unknown rather than probe again.
    checks["worker"] = _timed(lambda: _worker(current)) if checks["database"].ok else Check(False, "unknown", 0.0)
    return checks


async def readyz(request: Request) -> Response:
    checks = await offload(readiness, services(request))
    ready = all(c.ok for c in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: {"ok": c.ok, "detail": c.detail, "ms": c.ms} for name, c in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})


async def export_summaries(request: Request) -> Response:
    """Exports of this project whose upload sessions have been deleted (7 days after their last activity)."""
    found = await offload(export_summaries_of, services(request), tenant_id(request), project_key(request))
    return JSONResponse(
        {"exports": [{"sessionId": s.session_id, "exportedAt": _iso(s.exported_at), **s.summary} for s in found]}
    )


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def routes() -> list[SecuredRoute]:
    return [SecuredRoute("/api/export-summaries", export_summaries, auth=Auth.CONTEXT)]
