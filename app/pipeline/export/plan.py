"""The export's order and links, decided before any call to Jira (pure; no I/O).

Issues are created blockers first (topological by `blocked_by`; `relates_to` does not order). A cycle left in
`blocked_by` is broken deterministically: a depth-first walk in review order turns each edge that closes a cycle
into a "Relates" link, and the plan records it, because a ring of "Blocks" links would deadlock the developers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx

BLOCKS = "blocks"
RELATES = "relates"


class Plannable(Protocol):
    key: str
    position: int
    blocked_by: list[str]
    relates_to: list[str]


@dataclass(frozen=True)
class PlannedLink:
    """`blocks`: `from_key` is blocked by `to_key`. `relates`: `from_key` lists `to_key` in `relates_to`."""

    kind: str
    from_key: str
    to_key: str

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.kind, self.from_key, self.to_key)


@dataclass(frozen=True)
class ExportPlan:
    order: list[str]
    links: list[PlannedLink]
    # (blocked, blocker) edges that closed a cycle; exported as Relates links.
    broken_cycle_edges: list[tuple[str, str]] = field(default_factory=list)
    # (ticket, reference) pairs naming a ticket that is not exported (excluded or unknown).
    dangling: list[tuple[str, str]] = field(default_factory=list)


def plan_export(tickets: Sequence[Plannable]) -> ExportPlan:
    ranked = sorted(tickets, key=lambda t: (t.position, t.key))
    rank = {t.key: index for index, t in enumerate(ranked)}
    dangling = [(t.key, ref) for t in ranked for ref in [*t.blocked_by, *t.relates_to] if ref not in rank]
    # Edge blocker -> blocked: the blocker is created first.
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(rank)
    graph.add_edges_from((ref, t.key) for t in ranked for ref in t.blocked_by if ref in rank and ref != t.key)
    closing = _cycle_closing_edges(graph, rank)
    graph.remove_edges_from(closing)
    order = list(nx.lexicographical_topological_sort(graph, key=rank.__getitem__))
    broken = {(blocked, blocker) for blocker, blocked in closing}

    links: list[PlannedLink] = []
    paired: set[frozenset[str]] = set()
    for ticket in ranked:
        for blocker in dict.fromkeys(ticket.blocked_by):
            if blocker in rank and blocker != ticket.key:
                kind = RELATES if (ticket.key, blocker) in broken else BLOCKS
                links.append(PlannedLink(kind, ticket.key, blocker))
                paired.add(frozenset((ticket.key, blocker)))
    for ticket in ranked:
        for other in dict.fromkeys(ticket.relates_to):
            pair = frozenset((ticket.key, other))
            if other in rank and other != ticket.key and pair not in paired:
                links.append(PlannedLink(RELATES, ticket.key, other))
                paired.add(pair)
    return ExportPlan(order, links, sorted(broken, key=lambda e: (rank[e[0]], rank[e[1]])), dangling)


def _cycle_closing_edges(graph: nx.DiGraph[str], rank: dict[str, int]) -> list[tuple[str, str]]:
    """The back edges of a depth-first walk in review order: removing them leaves no cycle."""
    state: dict[str, int] = {}  # 1 on the walk's stack, 2 finished
    closing: list[tuple[str, str]] = []
    for root in sorted(graph, key=rank.__getitem__):
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(sorted(graph.successors(root), key=rank.__getitem__)))]
        while stack:
            node, successors = stack[-1]
            successor = next(successors, None)
            if successor is None:
                state[node] = 2
                stack.pop()
            elif state.get(successor) == 1:
                closing.append((node, successor))
            elif successor not in state:
                state[successor] = 1
                stack.append((successor, iter(sorted(graph.successors(successor), key=rank.__getitem__))))
    return closing


def plan_chunks(order: Sequence[str], links: Sequence[PlannedLink], size: int) -> list[list[str]]:
    """`order` cut into bulk creates of at most `size` so that calls plus the "Blocks" links that cannot ride in a
    create (their blocker is not in an earlier call) are fewest.

    A chunk takes first the tickets whose blockers are all in earlier chunks, those blocking the longest chains
    first. From some chunk on, chunks are topped up with the next tickets in `order` (fewer calls, more separate
    links); every switch-over point is tried and the cheapest kept. A blocker is never in a later chunk than the
    ticket it blocks, and each chunk keeps `order`'s order.
    """
    rank = {key: index for index, key in enumerate(order)}
    blockers: dict[str, set[str]] = {key: set() for key in order}
    for link in links:
        if link.kind == BLOCKS and link.from_key in rank and link.to_key in rank:
            blockers[link.from_key].add(link.to_key)
    height: dict[str, int] = {}
    for key in reversed(order):  # `order` is topological, so everything `key` blocks has its height already
        height[key] = 1 + max((height[k] for k in order[rank[key] + 1 :] if key in blockers[k]), default=0)
    best: list[list[str]] = []
    best_cost = len(order) * 2 + 1
    for top_up_from in range(max(height.values(), default=0) + 1):
        chunks = _pack(order, blockers, height, size, top_up_from)
        call_of = {key: number for number, chunk in enumerate(chunks) for key in chunk}
        separate = sum(1 for key in order for blocker in blockers[key] if call_of[blocker] >= call_of[key])
        if len(chunks) + separate < best_cost:
            best, best_cost = chunks, len(chunks) + separate
    return best


def _pack(
    order: Sequence[str], blockers: dict[str, set[str]], height: dict[str, int], size: int, top_up_from: int
) -> list[list[str]]:
    rank = {key: index for index, key in enumerate(order)}
    chunks: list[list[str]] = []
    placed: set[str] = set()
    remaining = list(order)
    while remaining:
        ready = [key for key in remaining if blockers[key] <= placed]
        chosen = set(sorted(ready, key=lambda key: (-height[key], rank[key]))[:size])
        if len(chunks) >= top_up_from or not chosen:
            chosen.update([key for key in remaining if key not in chosen][: size - len(chosen)])
        chunks.append([key for key in remaining if key in chosen])
        placed |= chosen
        remaining = [key for key in remaining if key not in chosen]
    return chunks
