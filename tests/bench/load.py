"""Load test: `dtg serve` + `dtg worker` on PostgreSQL and Redis, three sandbox sites hammering it at once.

Run: .venv/bin/python tests/bench/load.py [--seconds 10] [--runs 3] [--concurrency 24] [--processes 2] [--redis URL]
Loopback only, bounded in time and requests; the load generator is this process, the app (`dtg serve --processes 2`,
one web process per core), worker and sandboxes are others. It creates a throw-away PostgreSQL database, a temporary
folder and keys in one Redis db (default db 14, or DTG_TEST_REDIS_URL), and removes all three when it ends. The
generator sends its requests over --concurrency keep-alive HTTP/1.1 connections with a small client of its own
(httpx took half as much CPU per request as the app, on the same two cores); each request is built once per site,
kind and session (the signed page URL and the context tokens stay valid for the whole run) and each response is read
to its end.

Each of the three tenants (three sandboxes, each installed the app by the signed install) first opens 4 upload
sessions and uploads a small spec into two of them; then every tenant sends every kind of request, in turn:
- page: the signed iframe page load (/jira/project?...&jwt=), verified by the request-token verifier (qsh);
- me, sessions, session, tickets, panel: JSON API calls with context tokens (GET /api/me, /api/sessions,
  /api/sessions/{id}, /api/sessions/{id}/tickets, /api/panels/sessions), on the sessions just made.
Prints per run throughput, the CPU ms per request of the app server, this generator and the database's backends,
p50/p99 per kind and errors; over the runs the JSON API's p99 (min/median/max) against
the 100 ms goal; then the cost of verifying a context token with the app's own lookup on this database: a miss
(database query + decryption) and a hit of the tenant cache, and the hit as a share of a JSON request's median.
Target: no errors, JSON API p99 under 100 ms in every run, auth under 5% of a request. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from app.connect.verifiers import ContextTokenVerifier  # noqa: E402  (needs the path above)
from app.container import build_services  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.bench.spread import spread  # noqa: E402
from tests.support import DTG, RecordingQueue, free_port  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = os.environ.get("DTG_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
AUTH_SHARE_TARGET = 0.05
SESSIONS = 4
JSON_KINDS = ("me", "sessions", "session", "tickets", "panel")
SPEC = (
    "ID,Name,Machine name,X,Description,Type\n,Article,article,a,News,Content type\n,Page,page,a,Pages,Content type\n"
)
SITES = 3
P99_TARGET_MS = 100.0


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def _key_router(sandboxes: list[str], port: int) -> uvicorn.Server:
    """One install-key URL for the app: each sandbox signs with its own key, so ask each for the `kid`."""

    async def key(request: Request) -> Response:
        async with httpx.AsyncClient(timeout=5) as client:
            for sandbox in sandboxes:
                found = await client.get(f"{sandbox}/connect-install-keys/{request.path_params['kid']}")
                if found.status_code == 200:
                    return PlainTextResponse(found.text)
        return PlainTextResponse("unknown kid", status_code=404)

    router = Starlette(routes=[Route("/connect-install-keys/{kid}", key)])
    server = uvicorn.Server(uvicorn.Config(router, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    return server


Site = tuple[str, str, list[int]]


def _site(client: httpx.Client, app: str, sandbox: str) -> Site:
    """The signed iframe URL of the project page, a context token (valid 15 minutes) and the sessions it opened."""
    page = client.get(f"{sandbox}/projects/DTG").text
    src = html.unescape(re.search(r'<iframe class="ap-iframe" src="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    token = client.post(
        f"{sandbox}/_sandbox/context-token",
        json={"appKey": "drupal-ticket-generator", "context": {"project": {"key": "DTG", "id": "10000"}}},
    ).json()["token"]
    headers = {"Authorization": f"JWT {token}"}
    sessions = []
    for n in range(SESSIONS):
        opened = client.post(f"{app}/api/sessions", headers=headers)
        assert opened.status_code == 201, opened.text
        sessions.append(opened.json()["id"])
        if n % 2 == 0:
            files = [("files", ("bundles.csv", SPEC, "text/csv"))]
            stored = client.post(f"{app}/api/sessions/{sessions[-1]}/files", headers=headers, files=files)
            assert stored.status_code == 201, stored.text
    return src, token, sessions


def _path(kind: str, sessions: list[int], n: int) -> str:
    session = sessions[n % len(sessions)]
    return {
        "me": "/api/me",
        "sessions": "/api/sessions",
        "session": f"/api/sessions/{session}",
        "tickets": f"/api/sessions/{session}/tickets",
        "panel": "/api/panels/sessions",
    }[kind]


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (`dtg serve --processes N` supervises N children)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def _backends(database: str) -> list[int]:
    """The PostgreSQL backends serving the load test's database (the app's pool)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds spent during a run by the app server, by this load generator and by the database's backends."""

    def __init__(self, server: int, database: str) -> None:
        self.server, self.database = server, database

    def snapshot(self) -> dict[str, float]:
        backends = {pid: _cpu_seconds(pid) for pid in _backends(self.database)}
        return {
            "server": sum(_cpu_seconds(pid) for pid in _tree(self.server)),
            "generator": time.process_time(),
            **{f"pg{pid}": cpu for pid, cpu in backends.items()},
        }

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        database = sum(cpu - before.get(name, 0.0) for name, cpu in after.items() if name.startswith("pg"))
        return {
            "server": after["server"] - before["server"],
            "generator": after["generator"] - before["generator"],
            "database": database,
        }


class _Connection:
    """One keep-alive HTTP/1.1 connection to the app: the load generator's client.

    httpx costs half as much CPU per request as the app itself, on the same two cores; this sends the same requests
    (method, path and query, Host, Authorization) and reads each whole response (status, headers, the body by its
    Content-Length or its chunks) for a fraction of that.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, request: bytes) -> int:
        """Sends one GET (its bytes ready-made); answers the response's status. Raises OSError or
        asyncio.IncompleteReadError when the connection fails (it is opened again for the next request)."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            headers = head.lower()
            if b"\r\ntransfer-encoding: chunked" in headers:
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            else:
                found = re.search(rb"\r\ncontent-length: *(\d+)", headers)
                await reader.readexactly(int(found.group(1)) if found else 0)
            if b"\r\nconnection: close" in headers:
                self.close()
            return status
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _get(url: str, token: str | None) -> bytes:
    """The bytes of a GET of `url`, with the context token when given."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    auth = f"Authorization: JWT {token}\r\n" if token else ""
    return f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: */*\r\n{auth}\r\n".encode()


async def _hammer(app: str, sites: list[Site], seconds: float, concurrency: int, limit: int) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    sent = 0
    deadline = time.monotonic() + seconds
    kinds = ("page", *JSON_KINDS)
    # Every request the run sends, made once: the signed page URL and the context tokens stay valid for the run.
    requests = {
        (site, kind, session): _get(page_url if kind == "page" else app + _path(kind, sessions, session), token_)
        for site, (page_url, token, sessions) in enumerate(sites)
        for kind in kinds
        for session in range(len(sessions))
        for token_ in [None if kind == "page" else token]
    }

    async def one(connection: _Connection, n: int) -> None:
        # Every tenant sends every kind: the kind turns once per round over the tenants.
        site = n % len(sites)
        kind = kinds[(n // len(sites)) % len(kinds)]
        request = requests[(site, kind, n % len(sites[site][2]))]
        started = time.perf_counter()
        try:
            async with asyncio.timeout(10):
                ok = await connection.get(request) == 200
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            ok = False
        latencies[kind].append((time.perf_counter() - started) * 1000)
        if not ok:
            errors[kind] += 1

    async def lane() -> None:
        nonlocal sent
        parts = urlsplit(app)
        connection = _Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            while time.monotonic() < deadline and sent < limit:
                sent += 1
                await one(connection, sent)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else 0.0)  # type: ignore[index]


async def _auth_costs(env: dict[str, str], sites: list[Site], rounds: int = 2000) -> dict[str, float]:
    """µs per context-token verify with the app's own lookup on the load test's database and Redis: a miss (no
    cache: the query and the decryption) and a hit (the tenant cache: one Redis GET, then the HS256 check)."""
    services = build_services(Settings.from_env(env), RecordingQueue())  # type: ignore[arg-type]
    try:
        url = env["DTG_BASE_URL"] + "/api/me"
        tokens = [token for _, token, _ in sites]

        async def miss(client_key: str):  # type: ignore[no-untyped-def]
            return await asyncio.to_thread(services.tenants.find, client_key)

        uncached = ContextTokenVerifier(app_base_url=env["DTG_BASE_URL"], lookup=miss)
        costs = {}
        for name, verifier in (("miss (database + decryption)", uncached), ("hit (tenant cache)", None)):
            verify = (verifier or services.context_verifier).verify
            for token in tokens:  # warm both paths once
                await verify(token, "GET", url)
            started = time.perf_counter()
            for n in range(rounds):
                await verify(tokens[n % len(tokens)], "GET", url)
            costs[name] = (time.perf_counter() - started) / rounds * 1e6
        return costs
    finally:
        await services.aclose()


def _report(result: dict, concurrency: int) -> tuple[float, float, bool]:
    """Prints one run; returns the JSON API's p99 and p50 (ms) and whether any request failed."""
    total = sum(len(v) for v in result["latencies"].values())
    print(
        f"{total} requests in {result['elapsed']:.1f} s from {SITES} tenants, concurrency {concurrency}: "
        f"{total / result['elapsed']:.0f} req/s"
    )
    if "cpu" in result:
        print(
            "CPU ms per request: "
            + ", ".join(f"{name} {seconds * 1000 / total:.2f}" for name, seconds in result["cpu"].items())
        )
    print(f"{'kind':10} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, values in sorted(result["latencies"].items()):
        p50, p99 = _pct(values, 50), _pct(values, 99)
        errors = result["errors"].get(kind, 0)
        print(f"{kind:10} {len(values):7} {len(values) / result['elapsed']:7.0f} {p50:8.1f} {p99:8.1f} {errors:7}")
    api = [v for kind, values in result["latencies"].items() if kind != "page" for v in values]
    return _pct(api, 99), _pct(api, 50), sum(result["errors"].values()) > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis", default=REDIS, help="a Redis db this run may empty (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2, help="web processes of `dtg serve` (one per core)")
    args = parser.parse_args()

    database = f"dtg_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    workdir = Path(tempfile.mkdtemp(prefix="dtg-load-"))
    app_port = free_port()
    app = f"http://127.0.0.1:{app_port}"
    env = {
        **os.environ,
        "DTG_DATA_DIR": str(workdir / "data"),
        "DTG_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{database}",
        "DTG_REDIS_URL": args.redis,
        "DTG_SECRET_KEY": Fernet.generate_key().decode(),
        "DTG_BASE_URL": app,
        "DTG_LOG_LEVEL": "WARNING",
    }
    sandbox_ports = [free_port() for _ in range(SITES)]
    router_port = free_port()
    router = _key_router([f"http://127.0.0.1:{p}" for p in sandbox_ports], router_port)
    env["DTG_CONNECT_INSTALL_KEYS_URL"] = f"http://127.0.0.1:{router_port}/connect-install-keys"
    env["DTG_JIRA_SITES"] = "127.0.0.1"
    processes: list[subprocess.Popen[bytes]] = []

    def start(args_: list[str], name: str) -> None:
        log = (workdir / f"{name}.log").open("wb")
        processes.append(subprocess.Popen(args_, env=env, stdout=log, stderr=subprocess.STDOUT))

    try:
        subprocess.run([*DTG, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
        start([*DTG, "serve", "--port", str(app_port), "--processes", str(args.processes)], "app")
        start([*DTG, "worker", "--processes", "1", "--threads", "2"], "worker")
        for n, port in enumerate(sandbox_ports):
            start(
                [
                    *DTG,
                    "sandbox",
                    "--port",
                    str(port),
                    "--app-url",
                    app,
                    "--install",
                    "--state-dir",
                    str(workdir / f"sandbox{n}"),
                ],
                f"sandbox{n}",
            )
        sites = []
        with httpx.Client(timeout=10) as client:
            _wait(lambda: client.get(f"{app}/readyz").status_code == 200, 90, "the app to be ready")
            for port in sandbox_ports:
                sandbox = f"http://127.0.0.1:{port}"
                _wait(
                    lambda s=sandbox: any(i["installed"] for i in client.get(f"{s}/_sandbox/installations").json()),
                    60,
                    "the signed installs",
                )
                sites.append(_site(client, app, sandbox))
        # A short warm-up, then the measured runs.
        asyncio.run(_hammer(app, sites, 2.0, args.concurrency, 500))
        meter = CpuMeter(processes[0].pid, database)
        runs = []
        for _ in range(args.runs):
            before = meter.snapshot()
            runs.append(asyncio.run(_hammer(app, sites, args.seconds, args.concurrency, args.max_requests)))
            runs[-1]["cpu"] = meter.spent(before, meter.snapshot())
        auth = asyncio.run(_auth_costs(env, sites))
    finally:
        router.should_exit = True
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
        redis.Redis.from_url(args.redis).flushdb()

    p99s, p50s, missed = [], [], False
    for n, result in enumerate(runs, 1):
        print(f"run {n}:")
        p99, p50, failed = _report(result, args.concurrency)
        p99s.append(p99)
        p50s.append(p50)
        missed |= failed or p99 > P99_TARGET_MS
    print(
        f"JSON API p99 over {len(runs)} runs: {spread(p99s)} ms; goal {P99_TARGET_MS:.0f} ms: "
        f"ratio {statistics.median(p99s) / P99_TARGET_MS:.2f} (median)"
    )
    for name, micros in auth.items():
        print(f"verify a context token, {name}: {micros:.0f} µs")
    share = auth["hit (tenant cache)"] / 1000 / statistics.median(p50s)
    print(f"auth share of a JSON request (hit / median p50): {share:.1%}; goal {AUTH_SHARE_TARGET:.0%}")
    missed |= share > AUTH_SHARE_TARGET
    print("target (no errors, JSON API p99 < 100 ms, auth < 5%):", "MISSED" if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
