"""A pause too long to sleep through comes back as a delayed redelivery, not a sleeping worker."""

from __future__ import annotations

import time

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from app.retries import RetryLater
from workers.actors import requeued_when_asked

pytestmark = [pytest.mark.unit, pytest.mark.workers]


def test_retry_later_redelivers_the_message_after_the_asked_delay() -> None:
    broker = StubBroker()
    deliveries: list[float] = []

    def asks_for_a_pause() -> None:
        deliveries.append(time.monotonic())
        with requeued_when_asked():
            if len(deliveries) == 1:
                raise RetryLater(0.8)

    actor = dramatiq.actor(asks_for_a_pause, broker=broker, max_retries=3, min_backoff=10, max_backoff=20)
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    try:
        actor.send()
        broker.join(actor.queue_name, timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    # Redelivered once, after the server's delay and not the actor's 10-20 ms backoff; nothing went dead.
    assert len(deliveries) == 2 and deliveries[1] - deliveries[0] >= 0.8
    assert broker.dead_letters == []
