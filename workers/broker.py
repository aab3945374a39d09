"""The broker from settings: Redis when DTG_REDIS_URL is set, otherwise an in-process stub broker.

`configure_broker` sets the global broker (the `dramatiq` CLI reads it) and declares our actors on it.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware, Prometheus, default_middleware

from app.settings import Settings
from workers.actors import ACTORS
from workers.context import LogContextMiddleware
from workers.heartbeat import HeartbeatMiddleware
from workers.queue import DramatiqJobQueue
from workers.runtime import ServicesMiddleware

# A worker that dies (OOM, SIGKILL, lost machine) holds its unacknowledged messages until another worker's
# maintenance pass sees its heartbeat is stale; dramatiq's defaults (60 s, 0.1% of commands) would leave a
# generation or export stuck for many minutes, so both are tightened. The heartbeat timeout is a setting
# (DTG_REDIS_HEARTBEAT_TIMEOUT_MS, 15 s by default); the maintenance chance grows as it shrinks, so a stale
# worker is noticed within about one timeout whatever it is.
MAINTENANCE_CHANCE_PER_MILLION = 50_000
MAINTENANCE_REFERENCE_TIMEOUT_MS = 15_000


def maintenance_chance(heartbeat_timeout_ms: int) -> int:
    """Commands per million that run queue maintenance, for a given heartbeat timeout."""
    scaled = MAINTENANCE_CHANCE_PER_MILLION * MAINTENANCE_REFERENCE_TIMEOUT_MS // max(1, heartbeat_timeout_ms)
    return max(MAINTENANCE_CHANCE_PER_MILLION, min(1_000_000, scaled))


def _middleware() -> list[Middleware]:
    # Dramatiq's default set, less Prometheus: its exposition server forks a process per worker host and
    # binds a fixed port, which clashes when two workers share a machine; we expose health our own way.
    return [m() for m in default_middleware if m is not Prometheus]


def _new_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        return RedisBroker(
            url=settings.redis_url,
            middleware=_middleware(),
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            maintenance_chance=maintenance_chance(settings.redis_heartbeat_timeout_ms),
        )
    return StubBroker(middleware=_middleware())


def configure_broker(settings: Settings) -> dramatiq.Broker:
    broker = _new_broker(settings)
    broker.add_middleware(AsyncIO())
    # Dramatiq runs `after_*` hooks in reverse order: listed first, the heartbeat boots after the Services it uses.
    broker.add_middleware(HeartbeatMiddleware())
    broker.add_middleware(ServicesMiddleware(settings, lambda: DramatiqJobQueue(broker)))
    broker.add_middleware(LogContextMiddleware())
    dramatiq.set_broker(broker)
    for function, options in ACTORS.items():
        dramatiq.actor(function, broker=broker, **options)
    return broker
