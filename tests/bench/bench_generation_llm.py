"""Benchmark: how close a batch run gets to the concurrency floor with a provider of fixed latency.

Run: python tests/bench/bench_generation_llm.py [--tickets 100] [--latency 1.5] [--concurrency 8]

The floor is ceil(tickets / concurrency) x latency: no schedule with that many calls in flight can beat it. The
target is a wall time within 1.25x the floor; the exit status is 1 when it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import time

from app.llm import ResilientWriter, SimulatedProvider, TicketBrief, write_all

TARGET_RATIO = 1.25

_KINDS = [
    ("Content model", "content type", "Academic Program content type"),
    ("Content model", "paragraph type", "Hero banner paragraph type"),
    ("Content model", "media type", "Remote video media type"),
    ("Content model", "vocabulary", "Departments vocabulary"),
    ("Views", "view", "Program listing view"),
    ("Workflows", "workflow", "Marketing workflow"),
    ("Images", "responsive image style", "Hero responsive image style"),
    ("People", "roles", "New roles"),
    ("Clean-up", "removal", "Obsolete fields"),
]
_ACTIONS = ["build", "build", "change", "hold"]


def make_briefs(count: int) -> list[TicketBrief]:
    """A mix of kinds and actions shaped like a real site spec (about 100 tickets for a university site)."""
    mix = itertools.islice(itertools.cycle(itertools.product(_KINDS, _ACTIONS)), count)
    return [
        TicketBrief(
            key=f"DTG-{number}",
            area=area,
            action=action,  # type: ignore[arg-type]
            subject=f"{subject} {number}",
            kind=kind,
            facts=(f"{number % 40 + 1} fields including Degree level (list)", "moderated by the Marketing workflow"),
            machine_names=frozenset({f"bundle_{number}", "field_degree_level"}),
            notes=("Check the URL pattern with the web team.",) if number % 3 == 0 else (),
            site_name="UWEC",
        )
        for number, ((area, kind, subject), action) in enumerate(mix, start=1)
    ]


async def run(tickets: int, latency: float, concurrency: int) -> float:
    """Write `tickets` briefs and return the wall time in seconds."""
    provider = SimulatedProvider(latency_s=latency, model="gpt-4o-mini")
    writer = ResilientWriter(provider, concurrency=concurrency)
    started = time.perf_counter()
    report = await write_all(make_briefs(tickets), writer, concurrency=concurrency)
    wall = time.perf_counter() - started
    assert len(report.results) == tickets and report.flagged == 0, "every ticket should be written unflagged"
    assert provider.max_in_flight <= concurrency, "the concurrency bound was broken"
    usage = report.usage
    print(f"tokens: {usage.input_tokens} in / {usage.output_tokens} out, cost ${usage.cost_usd:.4f} (gpt-4o-mini)")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.5, help="seconds per simulated call")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    wall = asyncio.run(run(args.tickets, args.latency, args.concurrency))
    floor = math.ceil(args.tickets / args.concurrency) * args.latency
    serial = args.tickets * args.latency
    ratio = wall / floor
    print(f"tickets {args.tickets}, concurrency {args.concurrency}, latency {args.latency:g} s")
    print(f"wall time        {wall:8.2f} s")
    print(f"floor            {floor:8.2f} s   (ceil(tickets / concurrency) x latency)")
    print(f"one at a time    {serial:8.2f} s   (computed, not run)")
    print(f"wall / floor     {ratio:8.3f}     target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'MISSED'}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
