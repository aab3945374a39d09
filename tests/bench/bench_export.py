"""Benchmark: export N tickets into the sandbox with per-request latency and a rate limit (not collected).

    .venv/bin/python tests/bench/bench_export.py --tickets 100 1000 --rate 10 --latency-ms 50

Prints wall time, Jira requests (from the sandbox's stats), 429s, and the floor: the requests the export needs
at the allowed rate; beside it, the one-issue-every-1.5-seconds approach.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.pipeline.export import run_export
from app.sandbox.config import FaultConfig
from tests.export.helpers import World, assert_exported_exactly, synthetic_tickets


async def bench(count: int, rate: float, latency_ms: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = World(
            Path(folder),
            rate_limit_per_second=rate,
            rate_limit_burst=max(1, int(rate)),
            faults=FaultConfig(latency_ms=latency_ms),
        )
        object.__setattr__(world.settings, "jira_requests_per_second", rate)
        await world.install()
        world.add_tickets(synthetic_tickets(count))
        task_id = world.start()
        started = time.monotonic()
        await run_export(world.services, task_id, http=world.http)
        wall = time.monotonic() - started
        assert_exported_exactly(world.runtime.store, world.tickets())
        stats = world.runtime.stats.snapshot()
        requests, limited = stats["requests"], stats["rateLimited"]
        floor = (requests - limited) / rate
        print(
            f"{count:>5} tickets: {wall:7.1f} s wall, {requests} Jira requests, {limited} x 429, "
            f"floor {floor:.1f} s at {rate:g}/s -> {wall / floor:.2f}x floor; "
            f"one issue per 1.5 s would take {count * 1.5:.0f} s"
        )
        await world.aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=int, default=50)
    options = parser.parse_args()
    for count in options.tickets:
        asyncio.run(bench(count, options.rate, options.latency_ms))


if __name__ == "__main__":
    main()
