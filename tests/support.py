"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import http.server
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from app.logs import ContextFilter, JsonFormatter, RedactingFilter
from app.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
UWEC = SHARED / "sample_data" / "uwec"


def make_settings(tmp_path: Path, **overrides: str) -> Settings:
    settings = Settings.from_env({"DTG_DATA_DIR": str(tmp_path / "data"), **overrides})
    remember_secret(settings.secret_key)
    if settings.llm_api_key:
        remember_secret(settings.llm_api_key)
    return settings


# Every secret a fixture generates (shared secrets, API keys, encryption keys). tests/conftest.py captures the log
# records of the whole run and fails it if any of these appears in one.
KNOWN_SECRETS: set[str] = set()


def remember_secret(value: str) -> str:
    KNOWN_SECRETS.add(value)
    return value


class LogCapture(logging.Handler):
    """Every record of the run, as our JSON handler would write it (context stamped, secrets redacted).

    Distinct lines only, without timestamps: the suite logs the same lines many times, and the final scan then
    searches a few megabytes instead of every record.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(ContextFilter())
        self.addFilter(RedactingFilter())
        self.setFormatter(JsonFormatter(with_time=False))
        self.lines: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.add(self.format(record))
        except Exception:  # a record that cannot be formatted is logging's problem, reported by handleError
            self.handleError(record)

    def leaks(self, secrets: set[str]) -> list[str]:
        """The secrets (at least 8 characters long, so they cannot match by chance) found in a captured line."""
        text = "\n".join(self.lines)
        return sorted(s for s in secrets if len(s) >= 8 and s in text)


LOG_CAPTURE = LogCapture()


DTG = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_environment(data_dir: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `dtg worker` on a test's own database and Redis, with a fresh secret key."""
    return {
        **os.environ,
        "DTG_DATA_DIR": str(data_dir),
        "DTG_DATABASE_URL": database_url,
        "DTG_REDIS_URL": redis_url,
        "DTG_SECRET_KEY": Fernet.generate_key().decode(),
        **extra,
    }


def spawn_worker(env: dict[str, str], log: Path, *, threads: int = 1) -> subprocess.Popen[bytes]:
    """A `dtg worker` with one process, in its own process group so SIGKILL reaches all of it, like a lost machine."""
    return subprocess.Popen(
        [*DTG, "worker", "--processes", "1", "--threads", str(threads)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A server or worker process (`[*DTG, "serve", ...]`) in its own process group, its output appended to `log`.

    Its own group, so `stop_process` or a SIGKILL of the group reaches the children too (uvicorn, dramatiq's
    worker processes), as when a machine is lost.
    """
    return subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 15.0) -> None:
    """SIGTERM the leader of `start_process`'s group, and SIGKILL the group if it has not stopped within `timeout`.

    Only the leader gets SIGTERM: dramatiq's main process forwards it to its worker processes, and a worker
    that receives a second SIGTERM takes it as "kill now" and hangs up mid-shutdown.
    """
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:  # it ended between poll() and killpg()
        process.wait()


def wait_until(predicate: Callable[[], object], timeout: float, what: str, *, every: float = 0.05) -> None:
    """Poll `predicate` until it is truthy; an exception counts as not yet (a server still starting, a database
    restarting). Fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # not ready yet; kept for the failure message
            last = exc
        time.sleep(every)
    raise AssertionError(
        f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last!r})" if last else "")
    )


@dataclass
class RecordingQueue:
    """A `JobQueue` that records what would have been sent to the workers."""

    pings: list[int] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)
    exports: list[int] = field(default_factory=list)

    def enqueue_ping(self, task_id: int) -> None:
        self.pings.append(task_id)

    def enqueue_generation(self, task_id: int) -> None:
        self.generations.append(task_id)

    def enqueue_export(self, task_id: int) -> None:
        self.exports.append(task_id)


def stack_environment(tmp_path: Path, *, app_url: str, sandbox_url: str) -> dict[str, str]:
    """The environment of a `dtg serve` that a `dtg sandbox` on `sandbox_url` installs and frames."""
    return {
        **os.environ,
        "DTG_DATA_DIR": str(tmp_path / "data"),
        "DTG_BASE_URL": app_url,
        "DTG_SECRET_KEY": remember_secret(Fernet.generate_key().decode()),
        "DTG_CONNECT_INSTALL_KEYS_URL": f"{sandbox_url}/connect-install-keys",
        "DTG_JIRA_SITES": "127.0.0.1",
        "DTG_ALL_JS_URL": f"{sandbox_url}/atlassian-connect/all.js",
        "DTG_FRAME_ANCESTORS": sandbox_url,
    }


def wait_for_install(sandbox_url: str, timeout: float = 60.0) -> None:
    """Until the sandbox has installed our app (it retries until the app's descriptor answers)."""

    def installed() -> bool:
        answer = httpx.get(f"{sandbox_url}/_sandbox/installations", timeout=5).json()
        return any(i["appKey"] == "drupal-ticket-generator" and i.get("installed", True) for i in answer)

    wait_until(installed, timeout, "the sandbox to install the app", every=0.2)


def start_stack(
    env: dict[str, str],
    log_dir: Path,
    *,
    app_port: int,
    sandbox_port: int,
    sandbox_options: tuple[str, ...] = (),
    connect_install: bool = True,
) -> list[subprocess.Popen[bytes]]:
    """`dtg serve` (at `env`'s DTG_BASE_URL) and a `dtg sandbox` that installs it (unless `connect_install` is off:
    the caller installs the Forge app with POST /_sandbox/forge/install), logging into `log_dir`."""
    app = start_process([*DTG, "serve", "--port", str(app_port)], env, log_dir / "app.log")
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--app-url", env["DTG_BASE_URL"]]
    sandbox_args += ["--install"] if connect_install else ["--no-install"]  # the default installs Connect
    sandbox = start_process([*DTG, *sandbox_args, *sandbox_options], env, log_dir / "sandbox.log")
    return [app, sandbox]


@dataclass
class LoopbackServer:
    """A real HTTP server on 127.0.0.1 that records each request and gives one fixed answer: the stand-in for an
    endpoint a tenant types, so a test proves what reached the network (and what did not)."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)  # method, path, headers, body
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    _server: http.server.ThreadingHTTPServer | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> LoopbackServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append((self.command, self.path, dict(self.headers.items()), body))
                self.send_response(server.status)
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
