"""Benchmark: `run_generation` on UWEC with a simulated provider, against the concurrency floor (not collected).

    DTG_TEST_REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python tests/bench/bench_generation.py [--runs 3]

The product's path: UWEC's files are uploaded into a session, the generation task started and run by
`run_generation` (placeholders stored first, each answer checked and stored compare-and-set, progress written), the
model replaced by `SimulatedProvider`, which answers after a fixed latency L. With C calls in flight no schedule
beats ceil(N / C) x L for N tickets; each run's wall time is printed against that floor, then min/median/max of
three runs, and the exit status is 1 when the median misses TARGET.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.llm import ResilientWriter, SimulatedProvider
from app.pipeline.generation import run_generation
from tests.bench.spread import spread
from tests.export.helpers import World, start_uwec_generation
from tests.support import RecordingQueue

TARGET = 1.25


def one_run(latency: float, concurrency: int) -> tuple[int, float]:
    """(tickets written, wall seconds) of one generation run over UWEC."""
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        services = dataclasses.replace(world.services, jobs=RecordingQueue())
        task_id = start_uwec_generation(services, world.tenant_id)
        provider = SimulatedProvider(latency_s=latency, model="gpt-4o-mini")
        writer = ResilientWriter(provider, concurrency=concurrency)

        async def generate() -> float:
            started = time.monotonic()
            await run_generation(services, task_id, writer=writer, concurrency=concurrency)
            return time.monotonic() - started

        wall = asyncio.run(generate())
        task = services.tasks.find(task_id)
        assert task is not None and task.state == "done", task
        assert provider.max_in_flight <= concurrency, "the concurrency bound was broken"
        written = provider.calls
        asyncio.run(world.aclose())
        return written, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=1.5, help="seconds per simulated call (L)")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight (C, DTG_LLM_CONCURRENCY)")
    args = parser.parse_args()
    runs = [one_run(args.latency, args.concurrency) for _ in range(args.runs)]
    tickets = runs[0][0]
    floor = math.ceil(tickets / args.concurrency) * args.latency
    walls = [wall for _, wall in runs]
    print(f"UWEC generation: {tickets} tickets, C={args.concurrency}, L={args.latency:g} s, {args.runs} runs")
    print(f"wall s       {spread(walls)}   floor {floor:.2f} s (ceil(N / C) x L)")
    ratios = [wall / floor for wall in walls]
    print(f"wall/floor   {spread(ratios)}   target <= {TARGET}")
    return 0 if statistics.median(ratios) <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
