"""Benchmark: export N tickets into the sandbox with per-request latency and a rate limit (not collected).

    .venv/bin/python tests/bench/bench_export.py --tickets 100 1000 --rate 20 --latency-ms 30

Prints wall time, Jira requests (from the sandbox's stats), 429s, and the floor: the requests the export needs
at the allowed rate; beside it, the one-issue-every-1.5-seconds approach; then PASS when the wall time is within
TARGET times the floor. Exits 1 if any size fails.
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

# The export should keep Jira's allowance busy: at most this much slower than the requests at the allowed rate.
TARGET = 1.3


async def bench(count: int, rate: float, latency_ms: int) -> bool:
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
        passed = wall <= TARGET * floor
        print(
            f"{count:>5} tickets: {wall:7.1f} s wall, {requests} Jira requests, {limited} x 429, "
            f"floor {floor:.1f} s at {rate:g}/s -> {wall / floor:.2f}x floor; "
            f"one issue per 1.5 s would take {count * 1.5:.0f} s; "
            f"{'PASS' if passed else 'FAIL'} (target {TARGET}x)"
        )
        await world.aclose()
        return passed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--latency-ms", type=int, default=30)
    options = parser.parse_args()
    results = [asyncio.run(bench(count, options.rate, options.latency_ms)) for count in options.tickets]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
