"""Issue #7: the product under infrastructure faults, with real processes and real services.

- PostgreSQL restarted while a `dtg worker` exports to the sandbox: the export ends done, each issue and link once.
- Redis (which keeps nothing on disk) restarted while a `dtg worker` generates: the running actor finishes, and a
  run whose queued message the restart dropped is re-enqueued by starting generation again.
- `dtg serve` SIGKILLed in the middle of a multipart upload: nothing half-stored; after a restart the re-upload
  validates to the UWEC counts.

The PostgreSQL and Redis on 127.0.0.1 are shared with other test runs: each outage lasts a second or two and the
service is brought back, and waited for, in a `finally` whatever happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.container import Services, build_services
from app.db.migrate import upgrade
from app.db.models import Task
from app.db.tasks import TaskAlreadyRunningError
from app.jira.client import JiraClient
from app.pipeline.export import PROPERTY_KEY, start_export
from app.pipeline.export.plan import BLOCKS, plan_export
from app.pipeline.generation import start_generation
from app.pipeline.intake import IncomingFile, add_files, open_session
from app.pipeline.issue_requests import EPIC_KEY_PREFIX
from app.pipeline.ports import SYSTEM, Actor, Scope
from app.settings import Settings
from tests.conftest import PG_ADMIN_URL
from tests.export.helpers import generate_uwec_tickets
from tests.pipeline.conftest import make_workspace
from tests.support import DTG, UWEC, free_port, spawn_worker, start_process, start_stack, stop_process, wait_until
from workers.broker import configure_broker
from workers.queue import DramatiqJobQueue

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.workers, pytest.mark.ops]

# A killed or cut-off worker's message is handed on after 2 s instead of 15 s.
HEARTBEAT_MS = "2000"
PG_CLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect", *sorted(os.listdir("/etc/postgresql"))[-1:], "main"]
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
UWEC_FILES = {p.name: p.read_bytes() for p in sorted(UWEC.glob("*.csv"))}
UWEC_RECORDS = 966


# --- the services' outages --------------------------------------------------------------------------------------


def _postgres_answers() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2) as connection:
            return connection.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def _redis_answers() -> bool:
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


@contextmanager
def postgres_down(seconds: float) -> Iterator[None]:
    """Stop the cluster (fast mode: every connection is cut), keep it down `seconds`, then always start it again
    and wait until it answers. The data is on disk, so the test's database comes back with it."""
    try:
        subprocess.run([*PG_CLUSTER, "stop", "-m", "fast"], check=True, capture_output=True, timeout=30)
        time.sleep(seconds)
        yield
    finally:
        _bring_back(_postgres_answers, [*PG_CLUSTER, "start"], "PostgreSQL")


@contextmanager
def redis_down(seconds: float) -> Iterator[None]:
    """Shut Redis down without saving (it keeps nothing on disk: every queued message is lost), keep it down
    `seconds`, then always start it again and wait until it answers."""
    try:
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=15)
        wait_until(lambda: not _redis_answers(), 10, "Redis to stop")
        time.sleep(seconds)
        yield
    finally:
        _bring_back(_redis_answers, REDIS_START, "Redis")


def _bring_back(answers: Callable[[], bool], start: list[str], name: str) -> None:
    """Start the service until it answers (a start can fail while the old process still holds the port)."""
    deadline = time.monotonic() + 30
    while not answers():
        assert time.monotonic() < deadline, f"{name} did not come back: other test runs need it, start it by hand"
        subprocess.run(start, capture_output=True, timeout=30)
        for _ in range(30):
            if answers():
                return
            time.sleep(0.1)


@pytest.fixture
def own_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database of this module alone: a worker another test run left behind must not take our messages."""
    url = redis_url.rsplit("/", 1)[0] + "/13"
    yield url
    # Redis may just have restarted empty; flush what this test left otherwise.
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- shared steps ------------------------------------------------------------------------------------------------


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker whose runs are over: a graceful dramatiq shutdown takes ~15 s here, a quarter of the budget."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DTG_DATA_DIR": str(tmp_path / "data"),
        "DTG_SECRET_KEY": Fernet.generate_key().decode(),
        "DTG_REDIS_HEARTBEAT_TIMEOUT_MS": HEARTBEAT_MS,
        **extra,
    }


def _installed_client_key(sandbox_url: str) -> str | None:
    installations = httpx.get(f"{sandbox_url}/_sandbox/installations", timeout=2).json()
    return next((i["clientKey"] for i in installations if i["installed"]), None)


def _task(services: Services, task_id: int) -> Task:
    task = services.tasks.find(task_id)
    assert task is not None
    return task


async def _jira_view(
    services: Services, tenant_id: int, session_id: int
) -> tuple[Counter[str], dict[str, str], Counter[tuple[str, str, str]]]:
    """What the sandbox holds, read through its REST API as the app: how many issues carry each ticket key in our
    `dtg-ticket` property, ticket key -> issue key, and each link as (type, inward ticket, outward ticket)."""
    installation = services.tenants.get(tenant_id)
    assert installation is not None
    async with httpx.AsyncClient(timeout=30) as http:
        client = JiraClient(http, installation, services.settings.app_key)
        found = await client.search_by_property(PROPERTY_KEY, {"sessionId": str(session_id)})
        details = await asyncio.gather(*(client.get_issue(issue.key, fields=("issuelinks",)) for issue in found))
    ticket_of = {issue.key: issue.properties[PROPERTY_KEY]["ticketKey"] for issue in found}
    # Seen from its outward issue a link names its inward partner: counting from that side counts each once.
    links = Counter(
        (link.type_name, ticket_of[link.inward_issue_key], ticket_of[detail.key])
        for detail in details
        for link in detail.links
        if link.inward_issue_key is not None
    )
    # Epics carry the property too (with `epic:` keys); these checks are about the tickets' issues.
    tickets = {key: ticket for key, ticket in ticket_of.items() if not ticket.startswith(EPIC_KEY_PREFIX)}
    return Counter(tickets.values()), {ticket: key for key, ticket in tickets.items()}, links


# --- 1. PostgreSQL restarted during an export --------------------------------------------------------------------


def test_postgres_restart_mid_export_ends_done_with_each_issue_and_link_once(
    tmp_path: Path, postgres_url: str, own_redis_url: str
) -> None:
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = _env(
        tmp_path,
        DTG_DATABASE_URL=postgres_url,
        DTG_REDIS_URL=own_redis_url,
        DTG_BASE_URL=app_url,
        DTG_CONNECT_INSTALL_KEYS_URL=f"{sandbox_url}/connect-install-keys",
        DTG_JIRA_SITES="127.0.0.1",
        # Paced so the export of the ~110 tickets and their links lasts well over the outage.
        DTG_JIRA_REQUESTS_PER_SECOND="15",
    )
    upgrade(postgres_url)
    processes = start_stack(
        env, tmp_path, app_port=app_port, sandbox_port=sandbox_port, sandbox_options=("--latency-ms", "30")
    )
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    worker: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: _installed_client_key(sandbox_url), 60, "the signed install")
        tenant = services.tenants.find(_installed_client_key(sandbox_url) or "")
        assert tenant is not None and tenant.id is not None, "the app did not record the installation"
        session_id = generate_uwec_tickets(services, tenant.id)
        task_id = start_export(services, tenant.id, session_id)
        worker = spawn_worker(env, tmp_path / "worker.log", threads=2)

        # Mid-export: issues are being created (progress counts issues, attachments and links).
        wait_until(lambda: _task(services, task_id).done >= 30, 40, "the export to create issues")
        before = _task(services, task_id)
        assert before.state == "running", f"the export ended before the outage: {before}"
        started = time.monotonic()
        with postgres_down(seconds=1.5):
            pass
        outage = time.monotonic() - started

        wait_until(lambda: _task(services, task_id).state != "running", 50, "the export to end after the restart")
        task = _task(services, task_id)
        if task.state == "failed":
            # "Finished or cleanly resumable": a failed run must finish when exported again.
            task_id = start_export(services, tenant.id, session_id)
            wait_until(lambda: _task(services, task_id).state != "running", 40, "the resumed export")
            task = _task(services, task_id)
        assert task.state == "done", task.message
        tickets = services.tickets.list(tenant_id=tenant.id, session_id=session_id)
        per_ticket, issue_of, links = asyncio.run(_jira_view(services, tenant.id, session_id))
    finally:
        if worker is not None:
            _kill(worker)
        for process in processes:
            stop_process(process)
        services.engine.dispose()

    assert outage < 10, f"PostgreSQL was down {outage:.1f} s"
    assert len(tickets) > 100 and all(t.jira_key for t in tickets)
    assert [ticket for ticket, count in per_ticket.items() if count > 1] == [], "duplicate issues"
    assert issue_of == {t.key: t.jira_key for t in tickets}, "missing, extra or unrecorded issues"
    expected = Counter(
        ("Blocks", link.to_key, link.from_key) if link.kind == BLOCKS else ("Relates", link.from_key, link.to_key)
        for link in plan_export(tickets).links
    )
    assert sum(expected.values()) > 100
    assert links == expected


# --- 2. Redis restarted during generation ------------------------------------------------------------------------

# Seconds each answer of the slow model takes: with two calls in flight a UWEC run (109 tickets) lasts ~7 s.
MODEL_LATENCY_S = 0.12
# Prose that passes our validation for any ticket (two criteria, no machine names).
SLOW_PROSE = {
    "user_story": "As a site builder, I want this configured as specified, so that editors can rely on it.",
    "success_criteria": ["It is configured as the spec describes.", "A reviewer has checked it on the test site."],
}


async def _chat_completion(request: Request) -> JSONResponse:
    await request.body()
    await asyncio.sleep(MODEL_LATENCY_S)
    return JSONResponse(
        {
            "id": "chatcmpl-fault",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "slow-local",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(SLOW_PROSE)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360},
        }
    )


@pytest.fixture
def slow_model_url() -> Iterator[str]:
    """An OpenAI-compatible endpoint (`DTG_LLM_PROVIDER=openai_compatible`) that answers each call after
    MODEL_LATENCY_S: no provider reachable through the settings is slow, and the offline writer finishes a UWEC
    run in ~6 s even one ticket at a time, too soon to be sure an outage lands in its middle."""
    port = free_port()
    app = Starlette(routes=[Route("/v1/chat/completions", _chat_completion, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "the slow model server")
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def test_redis_restart_mid_generation_finishes_and_a_lost_message_is_requeued(
    tmp_path: Path, postgres_url: str, own_redis_url: str, slow_model_url: str
) -> None:
    workspace_iter = make_workspace(postgres_url)
    workspace = next(workspace_iter)
    workspace.upload_uwec()
    env = _env(
        tmp_path,
        DTG_DATABASE_URL=postgres_url,
        DTG_REDIS_URL=own_redis_url,
        DTG_LLM_PROVIDER="openai_compatible",
        DTG_LLM_BASE_URL=slow_model_url,
        DTG_LLM_MODEL="slow-local",
        DTG_LLM_CONCURRENCY="2",
    )
    settings = Settings.from_env(env)
    services = build_services(settings, DramatiqJobQueue(configure_broker(settings)))
    tenant_id, session_id = workspace.tenant_id, workspace.session_id
    worker: subprocess.Popen[bytes] | None = None
    try:
        # a) Redis goes while the actor runs: the run does not need Redis between its first and last step.
        worker = spawn_worker(env, tmp_path / "worker.log")
        task_id = start_generation(services, tenant_id=tenant_id, session_id=session_id, provider="openai_compatible")
        wait_until(lambda: _task(services, task_id).done >= 5, 30, "the worker to start the run")
        with redis_down(seconds=1.5):
            during = _task(services, task_id)
            assert during.state == "running", f"the run ended before the outage: {during}"
        wait_until(lambda: _task(services, task_id).state != "running", 40, "the run to end")
        task = _task(services, task_id)
        assert task.state == "done", task.message
        assert during.done < task.done == task.total
        first = services.tickets.list(tenant_id=tenant_id, session_id=session_id)
        assert len(first) == task.total and len({t.key for t in first}) == task.total
        assert all(t.prose_written and SLOW_PROSE["user_story"] in json.dumps(t.description) for t in first)

        # b) Redis goes while a run is queued and no worker is up: its message is lost with Redis's memory.
        _kill(worker)
        other = open_session(workspace, tenant_id, Actor("a"), project_key="DTG", project_id="1")
        assert other.id is not None
        add_files(
            workspace,
            Scope(tenant_id, other.id),
            SYSTEM,
            [IncomingFile(name, data) for name, data in UWEC_FILES.items()],
        )
        lost = start_generation(services, tenant_id=tenant_id, session_id=other.id, provider="openai_compatible")
        with redis_down(seconds=0.5):
            pass
        worker = spawn_worker(env, tmp_path / "worker.log")
        time.sleep(3)  # a worker is up and idle: nothing will ever run the lost task
        assert _task(services, lost).state == "queued"
        # Starting again while the run may still be alive is refused, as before ...
        with pytest.raises(TaskAlreadyRunningError):
            start_generation(services, tenant_id=tenant_id, session_id=other.id)
        # ... but a run idle for longer than `stale_after` is queued again (10 minutes by default).
        requeued = start_generation(
            services, tenant_id=tenant_id, session_id=other.id, stale_after=timedelta(seconds=2)
        )
        assert requeued == lost, "the same task is resumed, not a second one started"
        wait_until(lambda: _task(services, lost).state != "queued", 20, "a worker to take the re-queued run")
        wait_until(lambda: _task(services, lost).state != "running", 30, "the re-queued run to end")
        resumed = _task(services, lost)
        assert resumed.state == "done", resumed.message
        second = services.tickets.list(tenant_id=tenant_id, session_id=other.id)
    finally:
        if worker is not None:
            _kill(worker)
        services.engine.dispose()
        workspace_iter.close()

    assert len(second) == resumed.total == len(first)
    assert len({t.key for t in second}) == resumed.total
    assert all(t.prose_written and SLOW_PROSE["user_story"] in json.dumps(t.description) for t in second)


# --- 3. The web process killed during an upload ------------------------------------------------------------------


def _multipart(boundary: str) -> list[tuple[str, bytes]]:
    """Each UWEC file as a `files` part: (file name, the part's bytes)."""
    return [
        (
            name,
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + b"\r\n",
        )
        for name, data in UWEC_FILES.items()
    ]


def _stored_files(database_url: str, session_id: int) -> dict[str, tuple[bytes, str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT name, data, sha256 FROM spec_files WHERE session_id = :id"), {"id": session_id}
            ).all()
    finally:
        engine.dispose()
    return {row[0]: (bytes(row[1]), row[2]) for row in rows}


async def _upload_cut_by_a_kill(
    url: str, token: str, server: subprocess.Popen[bytes], *, cut_in: str
) -> tuple[list[str], BaseException]:
    """Send the files slowly and SIGKILL the server while the part of `cut_in` is half sent.

    Returns the files whose parts were sent whole before the kill, and the error the client got.
    """
    boundary = "dtg-fault-boundary-7"
    parts = _multipart(boundary)
    half_sent, killed = asyncio.Event(), asyncio.Event()
    sent_whole: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        for name, part in parts:
            if name == cut_in:
                yield part[: len(part) // 2]
                half_sent.set()
                await killed.wait()
                yield part[len(part) // 2 :]  # into a dead connection: the client's write fails
                return
            else:
                yield part
                sent_whole.append(name)
            await asyncio.sleep(0.05)
        yield f"--{boundary}--\r\n".encode()

    headers = {"Authorization": f"JWT {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    async with httpx.AsyncClient(timeout=20) as client:
        request = asyncio.create_task(client.post(url, content=body(), headers=headers))
        await asyncio.wait_for(half_sent.wait(), 15)
        await asyncio.sleep(0.3)  # the server has read what was sent
        os.killpg(server.pid, signal.SIGKILL)
        await asyncio.to_thread(server.wait)
        killed.set()
        try:
            response = await request
        except httpx.TransportError as exc:
            return sent_whole, exc
    raise AssertionError(f"the upload got an answer from a killed server: {response.status_code} {response.text}")


def test_web_process_killed_mid_upload_stores_nothing_half_and_a_reupload_validates(tmp_path: Path) -> None:
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    # The embedded deployment (SQLite in the data folder, in-process worker): the server is the whole product.
    env = _env(
        tmp_path,
        DTG_BASE_URL=app_url,
        DTG_CONNECT_INSTALL_KEYS_URL=f"{sandbox_url}/connect-install-keys",
        DTG_JIRA_SITES="127.0.0.1",
    )
    for name in ("DTG_DATABASE_URL", "DTG_REDIS_URL"):
        env.pop(name, None)
    database_url = Settings.from_env(env).database_url
    serve = [*DTG, "serve", "--port", str(app_port)]
    app, sandbox = start_stack(env, tmp_path, app_port=app_port, sandbox_port=sandbox_port)
    names = list(UWEC_FILES)
    cut_in = names[len(names) // 2]
    try:
        wait_until(lambda: _installed_client_key(sandbox_url), 60, "the signed install")
        token = httpx.post(
            f"{sandbox_url}/_sandbox/context-token",
            json={"appKey": "drupal-ticket-generator", "context": {"project": {"key": "DTG"}}},
            timeout=10,
        ).json()["token"]
        auth = {"Authorization": f"JWT {token}"}
        opened = httpx.post(f"{app_url}/api/sessions", headers=auth, timeout=10)
        assert opened.status_code == 201, opened.text
        session_id = opened.json()["id"]
        files_url = f"{app_url}/api/sessions/{session_id}/files"

        sent_whole, error = asyncio.run(_upload_cut_by_a_kill(files_url, token, app, cut_in=cut_in))
        assert app.returncode == -signal.SIGKILL
        assert sent_whole == names[: names.index(cut_in)] and sent_whole

        app = start_process(serve, env, tmp_path / "app.log")
        wait_until(lambda: httpx.get(f"{app_url}/healthz", timeout=2).status_code == 200, 30, "the restarted app")
        stored = _stored_files(database_url, session_id)
        # Nothing half-stored: a file is stored whole (the bytes sent, its checksum matching) or not at all, and the
        # file cut by the kill is not stored. The upload stores its files only once the whole body has arrived, so
        # in fact none is.
        assert cut_in not in stored
        assert set(stored) <= set(sent_whole)
        for name, (data, sha256) in stored.items():
            assert data == UWEC_FILES[name] and sha256 == hashlib.sha256(data).hexdigest(), f"{name} is truncated"
        assert stored == {}, f"stored before the body ended: {sorted(stored)}"

        # The same session takes the whole upload after the restart, and it validates to the UWEC counts.
        reupload = httpx.post(
            files_url,
            headers=auth,
            files=[("files", (name, data, "text/csv")) for name, data in UWEC_FILES.items()],
            timeout=30,
        )
        assert reupload.status_code == 201, reupload.text
        assert reupload.json()["stored"] == sorted(UWEC_FILES)
        report = httpx.get(f"{app_url}/api/sessions/{session_id}/intake", headers=auth, timeout=30).json()
    finally:
        for process in (app, sandbox):
            stop_process(process)

    assert sum(f["record_count"] for f in report["files"]) == UWEC_RECORDS
    assert not report["blocking"]
    assert {name: (data, hashlib.sha256(data).hexdigest()) for name, data in UWEC_FILES.items()} == _stored_files(
        database_url, session_id
    ), "the re-uploaded files differ from the originals"
    assert isinstance(error, httpx.TransportError)
