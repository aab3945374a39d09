"""Without DTG_REDIS_URL the same actors run on an in-process broker and worker (the embedded default)."""

from __future__ import annotations

from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from app.container import build_services
from app.db.migrate import upgrade
from app.pipeline.workers_check import request_ping, wait_for_ping
from tests.support import make_settings
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.unit, pytest.mark.workers]


def test_embedded_broker_runs_the_ping_actor_in_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    broker = configure_broker(settings)
    assert isinstance(broker, StubBroker)
    assert dramatiq.get_broker() is broker

    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    services = build_services(settings, DramatiqJobQueue(broker))
    try:
        task_id = request_ping(services.tasks, services.jobs, tenant_id=None)
        assert wait_for_ping(services.tasks, task_id, timeout=10)
        # A redelivered message is harmless: the task stays done once.
        broker.get_actor("ping").send(task_id)
        broker.join(broker.get_actor("ping").queue_name)
        task = services.tasks.get(task_id, tenant_id=None)
        assert task is not None and (task.state, task.message) == ("done", "pong")
    finally:
        worker.stop()
        services.engine.dispose()
