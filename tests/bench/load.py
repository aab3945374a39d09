"""Load test: `dtg serve` + `dtg worker` on PostgreSQL and Redis, three sandbox sites hammering it at once.

Run: .venv/bin/python tests/bench/load.py [--seconds 20] [--concurrency 24] [--max-requests 20000]
Loopback only, bounded in time and requests. It creates a throw-away PostgreSQL database and uses Redis db 14.

Kinds of request, from three tenants (three sandboxes, each installed the app by the signed install):
- page: the signed iframe page load (/jira/project?...&jwt=), verified by the request-token verifier (qsh);
- me, sessions: JSON API calls with context tokens (GET /api/me, GET /api/sessions).
Prints throughput, p50/p99 per kind and errors, then the in-process cost of each JWT verifier (µs per verify).
Target: no errors, p99 of the JSON API under 100 ms. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import jwt
import psycopg
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.connect.qsh import CONTEXT_QSH  # noqa: E402  (needs the path above)
from app.connect.tokens import sign_request_token  # noqa: E402
from app.connect.verifiers import ContextTokenVerifier, RequestTokenVerifier  # noqa: E402
from app.domain.installation import Installation  # noqa: E402
from tests.support import DTG, free_port  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/14"
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


def _site_credentials(client: httpx.Client, sandbox: str) -> tuple[str, str]:
    """The signed iframe URL of the project page, and a context token (valid 15 minutes)."""
    page = client.get(f"{sandbox}/projects/DTG").text
    src = html.unescape(re.search(r'<iframe class="ap-iframe" src="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    token = client.post(
        f"{sandbox}/_sandbox/context-token",
        json={"appKey": "drupal-ticket-generator", "context": {"project": {"key": "DTG"}}},
    ).json()["token"]
    return src, token


async def _hammer(app: str, sites: list[tuple[str, str]], seconds: float, concurrency: int, limit: int) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    sent = 0
    deadline = time.monotonic() + seconds

    async def one(client: httpx.AsyncClient, n: int) -> None:
        page_url, token = sites[n % len(sites)]
        kind = ("page", "me", "sessions")[n % 3]
        if kind == "page":
            request = client.build_request("GET", page_url)
        else:
            path = "/api/me" if kind == "me" else "/api/sessions"
            request = client.build_request("GET", app + path, headers={"Authorization": f"JWT {token}"})
        started = time.perf_counter()
        try:
            response = await client.send(request)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        latencies[kind].append((time.perf_counter() - started) * 1000)
        if not ok:
            errors[kind] += 1

    async def lane(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.monotonic() < deadline and sent < limit:
            sent += 1
            await one(client, sent)

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await asyncio.gather(*(lane(client) for _ in range(concurrency)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else 0.0)  # type: ignore[index]


async def _verifier_costs(rounds: int = 2000) -> dict[str, float]:
    """µs per verify of each shared-secret token kind, lookup from memory (the database is measured above)."""
    secret = uuid.uuid4().hex * 2
    base = "https://dtg.test"
    installation = Installation(
        id=1,
        client_key="jira:1",
        base_url="https://site.test",
        display_url="https://site.test",
        shared_secret=secret,
        enabled=True,
        active=True,
    )

    async def lookup(client_key: str) -> Installation | None:
        return installation

    url = f"{base}/jira/project?projectKey=DTG&projectId=10000"
    now = int(time.time())
    request_token = sign_request_token(issuer="jira:1", secret=secret, method="GET", url=url, base_url=base, sub="a")
    context = jwt.encode({"iss": "jira:1", "iat": now, "exp": now + 900, "qsh": CONTEXT_QSH, "sub": "a"}, secret)
    cases = {
        "iframe (HS256 + qsh)": (RequestTokenVerifier(app_base_url=base, lookup=lookup), request_token, url),
        "context (HS256, context-qsh)": (
            ContextTokenVerifier(app_base_url=base, lookup=lookup),
            context,
            f"{base}/api/me",
        ),
    }
    costs = {}
    for name, (verifier, token, target) in cases.items():
        started = time.perf_counter()
        for _ in range(rounds):
            await verifier.verify(token, "GET", target)
        costs[name] = (time.perf_counter() - started) / rounds * 1e6
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--max-requests", type=int, default=20_000)
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
        "DTG_REDIS_URL": REDIS,
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
        start([*DTG, "serve", "--port", str(app_port)], "app")
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
                sites.append(_site_credentials(client, sandbox))
        # A short warm-up, then the measured run.
        asyncio.run(_hammer(app, sites, 2.0, args.concurrency, 500))
        result = asyncio.run(_hammer(app, sites, args.seconds, args.concurrency, args.max_requests))
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

    total = sum(len(v) for v in result["latencies"].values())
    print(
        f"{total} requests in {result['elapsed']:.1f} s from {SITES} tenants, concurrency {args.concurrency}: "
        f"{total / result['elapsed']:.0f} req/s"
    )
    print(f"{'kind':10} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    missed = False
    for kind, values in sorted(result["latencies"].items()):
        p50, p99 = _pct(values, 50), _pct(values, 99)
        errors = result["errors"].get(kind, 0)
        print(f"{kind:10} {len(values):7} {len(values) / result['elapsed']:7.0f} {p50:8.1f} {p99:8.1f} {errors:7}")
        missed |= errors > 0 or (kind != "page" and p99 > P99_TARGET_MS)
    for name, micros in asyncio.run(_verifier_costs()).items():
        print(f"verify {name}: {micros:.0f} µs")
    print("target (no errors, JSON API p99 < 100 ms):", "MISSED" if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
