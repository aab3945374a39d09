"""Benchmark: planning and applying a revision that changes 10% of 1,000 exported tickets (not collected).

    DTG_TEST_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python tests/bench/bench_revision.py [--runs 3]

1,000 synthetic tickets (dependencies, a cycle, relates links) are exported into an in-process sandbox at full
speed (setup, not timed); a revised session then changes the description of every tenth ticket, and the plan and
its apply are timed at the app's default pace (10 requests/s, `DTG_JIRA_REQUESTS_PER_SECOND`). Per run:

- request floor of the apply: the export's setup reads (project, issue types, the two create screens, link
  types: 5), the lineage search (ceil(issues / 100) pages, epics included), the search for issues of an earlier run
  of this session (1), and one PUT per changed ticket; nothing else is needed (links and epics exist);
- time floor: (floor - 1) / pace, the pace being the only limit.
The plan alone is a search (pages) and the comparison; it is timed too.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.jira.client import JiraClient
from app.pipeline.export import run_export, start_export
from app.pipeline.ports import SYSTEM, Scope
from app.pipeline.revision_plan import CHANGED
from app.pipeline.revisions import revision_plan, start_revision
from tests.bench.spread import spread
from tests.export.helpers import World, adf, jira_issues_by_ticket, synthetic_tickets

TICKETS = 1000
SETUP_READS = 5
SEARCH_PAGE = 100
TARGET = 1.3


async def one_run(pace: float) -> tuple[int, int, float, float, float]:
    """(requests, request floor, plan seconds, apply seconds, apply time floor)."""
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        await world.install()
        try:
            drafts = synthetic_tickets(TICKETS, attachments_every=0)
            world.add_tickets(drafts)
            await run_export(world.services, world.start(), http=world.http)
            revision = start_revision(world.services, Scope(world.tenant_id, world.session_id), SYSTEM)
            assert revision.id is not None
            for number, draft in enumerate(drafts):
                if number % 10 == 0:
                    draft["description"] = adf(f"As an editor I can manage bundle {number}, revised.")
            world.services.tickets.save_drafts(tenant_id=world.tenant_id, session_id=revision.id, drafts=drafts)
            object.__setattr__(world.settings, "jira_requests_per_second", pace)
            installation = world.services.tenants.get(world.tenant_id)
            assert installation is not None
            jira = JiraClient(world.http, installation, world.settings.app_key)
            started = time.monotonic()
            plan = await revision_plan(world.services, jira, tenant_id=world.tenant_id, session_id=revision.id)
            plan_seconds = time.monotonic() - started
            changed = plan.counts()[CHANGED]
            assert changed == TICKETS // 10, plan.counts()
            before = sum(world.runtime.stats.requests.values())
            task_id = start_export(world.services, world.tenant_id, revision.id)
            started = time.monotonic()
            await run_export(world.services, task_id, http=world.http)
            apply_seconds = time.monotonic() - started
            requests = sum(world.runtime.stats.requests.values()) - before
            assert max(jira_issues_by_ticket(world.runtime.store).values()) == 1
            issues = len(world.runtime.store.issues)
            floor = SETUP_READS + math.ceil(issues / SEARCH_PAGE) + 1 + changed
            return requests, floor, plan_seconds, apply_seconds, (floor - 1) / pace
        finally:
            await world.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pace", type=float, default=10.0, help="DTG_JIRA_REQUESTS_PER_SECOND (the default: 10)")
    args = parser.parse_args()
    runs = [asyncio.run(one_run(args.pace)) for _ in range(args.runs)]
    requests, floors, plans, applies, time_floors = (list(column) for column in zip(*runs, strict=True))
    time_ratios = [a / f for a, f in zip(applies, time_floors, strict=True)]
    print(f"Revision of {TICKETS} tickets, 10% changed, {args.runs} runs at {args.pace:g} requests/s")
    print(f"requests       {spread([float(r) for r in requests])}   floor {floors[0]}")
    print(f"requests/floor {spread([r / f for r, f in zip(requests, floors, strict=True)])}")
    print(f"plan s         {spread(plans)}")
    print(f"apply s        {spread(applies)}   floor {time_floors[0]:.2f} s at the pace")
    print(f"apply/floor    {spread(time_ratios)}   target <= {TARGET}")
    return 0 if statistics.median(time_ratios) <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
