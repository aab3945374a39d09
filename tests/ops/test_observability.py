"""Logs (JSON lines, request id and tenant, secrets redacted), the request id's way into the worker, and /readyz."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import create_engine

from app.container import build_services
from app.db.heartbeats import HeartbeatRepository
from app.db.migrate import upgrade
from app.logs import REDACTED, ContextFilter, configure_logging, redact, request_id_var, tenant_var
from app.web.ops_api import readiness
from tests.support import make_settings
from tests.web.conftest import AppUnderTest
from tests.web.project import director
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.unit, pytest.mark.ops]

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqaXJhOjEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /jira/project?projectKey=DTG&jwt={JWT} 200",
        "headers: {'authorization': 'JWT abc.def.ghi-not-a-real-token'}",
        "Authorization: Bearer 0123456789abcdef",
        "calling the model with sk-proj-abcdefghijklmnop",
        '{"clientKey": "jira:1", "sharedSecret": "s3cr3t-value-123456"}',
        "api_key=AKIA1234567890 password: hunter2hunter2",
    ],
)
def test_secrets_are_redacted_in_every_shape(line: str) -> None:
    cleaned = redact(line)
    assert REDACTED in cleaned
    for secret in (JWT, "abc.def.ghi-not", "0123456789abcdef", "sk-proj", "s3cr3t", "AKIA1234", "hunter2"):
        assert secret not in cleaned
    assert "jira:1" in redact('{"clientKey": "jira:1"}')  # not a secret


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_writes_one_redacted_json_object_per_line(tmp_path: Path, restored_logging: None) -> None:
    stream = io.StringIO()
    settings = make_settings(tmp_path, DTG_LOG_LEVEL="debug", DTG_LLM_API_KEY="plain-key-without-a-prefix")
    configure_logging(settings, default_format="json", stream=stream)
    token = request_id_var.set("req-12345678")
    try:
        logging.getLogger("app.test").info("install from %s with key %s", "jira:1", "plain-key-without-a-prefix")
        logging.getLogger("app.test").warning("token %s", JWT, extra={"task": 7})
    finally:
        request_id_var.reset(token)
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["level"] for e in entries] == ["INFO", "WARNING"]
    assert {"time", "level", "logger", "message", "request_id", "tenant"} <= set(entries[0])
    assert entries[0]["request_id"] == "req-12345678" and entries[0]["logger"] == "app.test"
    assert entries[1]["task"] == 7
    assert "plain-key-without-a-prefix" not in stream.getvalue() and JWT not in stream.getvalue()


def test_the_text_format_is_chosen_by_setting(tmp_path: Path, restored_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(make_settings(tmp_path, DTG_LOG_FORMAT="text"), default_format="json", stream=stream)
    logging.getLogger("app.test").info("hello")
    assert "INFO" in stream.getvalue() and not stream.getvalue().startswith("{")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@pytest.mark.web
def test_a_request_id_is_taken_or_made_returned_and_logged_with_the_tenant(
    app_under_test: AppUnderTest, records: Records
) -> None:
    client = app_under_test.client
    assert client.get("/healthz", headers={"X-Request-Id": "lb-0123456789"}).headers["x-request-id"] == "lb-0123456789"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["x-request-id"]
    assert len(made) == 32 and made.isalnum()

    site = director(app_under_test)
    response = site.get("/api/sessions/999999", headers={"X-Request-Id": "page-req-42424242"})
    assert response.status_code == 404 and response.headers["x-request-id"] == "page-req-42424242"
    refused = [r for r in records.records if r.name == "app.web.errors"]
    assert refused and refused[-1].request_id == "page-req-42424242"  # type: ignore[attr-defined]
    assert refused[-1].tenant == app_under_test.services.tenants.find(site.jira.client_key).id  # type: ignore[attr-defined,union-attr]


@pytest.mark.workers
def test_the_request_id_travels_with_the_message_and_the_worker_beats(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    broker = configure_broker(settings)
    seen: list[tuple[str | None, int | None]] = []

    async def probe() -> None:
        seen.append((request_id_var.get(), tenant_var.get()))

    dramatiq.actor(probe, broker=broker, actor_name="probe")
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    try:
        request_token, tenant_token = request_id_var.set("req-from-the-page"), tenant_var.set(7)
        broker.get_actor("probe").send()
        request_id_var.reset(request_token)
        tenant_var.reset(tenant_token)
        broker.join("default", timeout=10_000)
        services = build_services(settings, DramatiqJobQueue(broker))
        checks = readiness(services)
    finally:
        worker.stop()
    assert seen == [("req-from-the-page", 7)]
    assert request_id_var.get() is None
    assert all(c.ok for c in checks.values()), checks
    assert checks["broker"].detail == "embedded"
    # A clean stop removes the worker's heartbeat: no worker, not ready.
    assert not readiness(services)["worker"].ok
    services.engine.dispose()


@pytest.mark.web
def test_readyz_names_each_check_and_fails_without_a_worker(app_under_test: AppUnderTest) -> None:
    services = app_under_test.services
    response = app_under_test.client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["broker"]["detail"] == "embedded"
    assert not checks["worker"]["ok"]

    heartbeats = HeartbeatRepository(services.db)
    heartbeats.beat("test-worker", host="here", pid=1)
    assert app_under_test.client.get("/readyz").json()["status"] == "ready"

    with services.db() as session:
        from app.db.models import WorkerHeartbeat, utcnow

        row = session.get(WorkerHeartbeat, "test-worker")
        assert row is not None
        row.beat_at = utcnow() - timedelta(minutes=2)
        session.add(row)
        session.commit()
    assert app_under_test.client.get("/readyz").status_code == 503


@pytest.mark.web
def test_readyz_reports_an_unreachable_database_and_broker(app_under_test: AppUnderTest) -> None:
    services = app_under_test.services
    broken = dataclasses.replace(
        services,
        engine=create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}),
        settings=dataclasses.replace(services.settings, redis_url="redis://127.0.0.1:9/0"),
    )
    checks = readiness(broken)
    assert not checks["database"].ok and not checks["broker"].ok and not checks["worker"].ok
    assert checks["database"].detail.startswith("unreachable (")
    broken.engine.dispose()


@pytest.mark.integration
def test_readyz_pings_redis(app_under_test: AppUnderTest, redis_url: str) -> None:
    services = app_under_test.services
    with_redis = dataclasses.replace(services, settings=dataclasses.replace(services.settings, redis_url=redis_url))
    assert readiness(with_redis)["broker"].detail == "redis reachable"
