"""Which tickets go in which bulk create: fewest calls plus separate "Blocks" links, blockers never later."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.pipeline.export.plan import BLOCKS, PlannedLink, plan_chunks, plan_export
from tests.export.helpers import synthetic_tickets

pytestmark = [pytest.mark.unit, pytest.mark.export]


@dataclass
class Draft:
    key: str
    position: int
    blocked_by: list[str] = field(default_factory=list)
    relates_to: list[str] = field(default_factory=list)


def _cost(chunks: list[list[str]], links: list[PlannedLink]) -> int:
    call_of = {key: number for number, chunk in enumerate(chunks) for key in chunk}
    separate = sum(1 for link in links if link.kind == BLOCKS and call_of[link.to_key] >= call_of[link.from_key])
    return len(chunks) + separate


def test_independent_tickets_fill_calls_of_fifty_in_order() -> None:
    order = [f"t-{i:03d}" for i in range(120)]
    assert plan_chunks(order, [], 50) == [order[:50], order[50:100], order[100:]]


def test_a_chain_costs_its_length_plus_one_requests_not_a_separate_link_each() -> None:
    # 60 independent tickets and a chain of 5: cut by fifty, the chain would sit in the second call with its 4 links
    # separate (2 + 4); a chain of 4 links cannot cost less than 5 calls and links together.
    drafts = [Draft(f"a-{i:02d}", i) for i in range(60)]
    drafts += [Draft(f"c-{i}", 100 + i, [f"c-{i - 1}"] if i else []) for i in range(5)]
    plan = plan_export(drafts)
    chunks = plan_chunks(plan.order, plan.links, 50)
    by_fifty = [plan.order[:50], plan.order[50:]]
    assert _cost(by_fifty, plan.links) == 6 and _cost(chunks, plan.links) == 5


@pytest.mark.parametrize("count", [7, 120, 400])
def test_every_ticket_once_blockers_never_later_and_no_worse_than_calls_of_fifty(count: int) -> None:
    plan = plan_export(
        [Draft(d["key"], d["position"], d["blocked_by"], d["relates_to"]) for d in synthetic_tickets(count)]
    )
    chunks = plan_chunks(plan.order, plan.links, 50)
    assert sorted(key for chunk in chunks for key in chunk) == sorted(plan.order)
    assert all(len(chunk) <= 50 for chunk in chunks)
    call_of = {key: number for number, chunk in enumerate(chunks) for key in chunk}
    rank = {key: index for index, key in enumerate(plan.order)}
    for link in plan.links:
        if link.kind == BLOCKS:
            assert call_of[link.to_key] <= call_of[link.from_key]
            if call_of[link.to_key] == call_of[link.from_key]:
                assert rank[link.to_key] < rank[link.from_key]  # created before it in the same call
    by_fifty = [plan.order[start : start + 50] for start in range(0, len(plan.order), 50)]
    assert _cost(chunks, plan.links) <= _cost(by_fifty, plan.links)
