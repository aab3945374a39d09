"""The broker from settings: Redis when DTG_REDIS_URL is set, otherwise an in-process stub broker.

`configure_broker` sets the global broker (the `dramatiq` CLI reads it) and declares our actors on it.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from app.settings import Settings
from workers.actors import ACTORS
from workers.queue import DramatiqJobQueue
from workers.runtime import ServicesMiddleware


def configure_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker = RedisBroker(url=settings.redis_url) if settings.redis_url else StubBroker()
    broker.add_middleware(AsyncIO())
    broker.add_middleware(ServicesMiddleware(settings, lambda: DramatiqJobQueue(broker)))
    dramatiq.set_broker(broker)
    for function, options in ACTORS.items():
        dramatiq.actor(function, broker=broker, **options)
    return broker
