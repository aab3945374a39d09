"""Ticket links: the spec graph's row-level edges folded into "is blocked by" between the tickets owning the rows.

Cycles (bundles referencing each other) are broken so that an export order always exists: in each cyclic
component, the fewest links that close its cycles become "relates to" links instead of "is blocked by", preferring
entity-reference edges (a reference field can be added once both bundles exist). Each broken component is
reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Protocol

import networkx as nx

from app.generation.grouping import Unit
from app.intake import DependencyGraph, SourceRef

# Up to 7 tickets in one cycle, every build order is tried (5,040); beyond that a greedy rule decides.
_EXACT_LIMIT = 7


class Linked(Protocol):
    key: str
    blocked_by: tuple[str, ...]


@dataclass(frozen=True)
class TicketCycle:
    """Tickets that block each other in a cycle, and the links we turned into "relates to" to break it."""

    tickets: tuple[str, ...]
    relates_to: tuple[tuple[str, str], ...]
    sources: tuple[SourceRef, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "tickets": list(self.tickets),
            "relates_to": [{"from": a, "to": b} for a, b in self.relates_to],
            "sources": [{"file": s.file, "record": s.record} for s in self.sources],
        }


@dataclass(frozen=True)
class Links:
    blocked_by: dict[str, tuple[str, ...]]
    relates_to: dict[str, tuple[str, ...]]
    cycles: tuple[TicketCycle, ...]


def ticket_graph(units: Sequence[Unit], graph: DependencyGraph) -> nx.DiGraph[str]:
    """Ticket -> ticket it is blocked by, each edge with the relations and rows behind it; no self links."""
    owner: dict[str, str] = {}
    for unit in units:
        for item in unit.items:
            owner.setdefault(item.node_id, unit.key)
    edges: dict[tuple[str, str], tuple[set[str], list[SourceRef]]] = {}
    for a, b, data in graph.edges():
        dependent, dependency = owner.get(a), owner.get(b)
        if dependent and dependency and dependent != dependency:
            relations, sources = edges.setdefault((dependent, dependency), (set(), []))
            relations.add(data["relation"])
            sources.extend(s for s in data["sources"] if s not in sources)
    # Uses the spec's references do not spell out (an image style group read by its label) block as well.
    for unit in units:
        for item in unit.uses:
            if (used_by := owner.get(getattr(item, "node_id", ""))) and used_by != unit.key:
                relations, sources = edges.setdefault((unit.key, used_by), (set(), []))
                relations.add("uses")
                if item.source not in sources:
                    sources.append(item.source)
    folded: nx.DiGraph[str] = nx.DiGraph()
    # Sorted insertion makes every traversal below independent of row order, so re-runs break the same links.
    folded.add_nodes_from(sorted(unit.key for unit in units))
    for (a, b), (relations, sources) in sorted(edges.items()):
        folded.add_edge(a, b, relations=frozenset(relations), sources=tuple(sources))
    return folded


def link(units: Sequence[Unit], graph: DependencyGraph) -> Links:
    """Blocked-by and relates-to keys per ticket, and the cycles that were broken."""
    folded = ticket_graph(units, graph)
    cycles = []
    for component in sorted(sorted(c) for c in nx.strongly_connected_components(folded) if len(c) > 1):
        demoted = _links_to_demote(nx.DiGraph(folded.subgraph(component)))
        sources = tuple(dict.fromkeys(s for edge in demoted for s in folded.edges[edge]["sources"]))
        folded.remove_edges_from(demoted)
        cycles.append(TicketCycle(tuple(component), tuple(demoted), sources))
    relates: dict[str, list[str]] = {}
    for cycle in cycles:
        for a, b in cycle.relates_to:
            relates.setdefault(a, []).append(b)
    return Links(
        blocked_by={unit.key: tuple(sorted(folded.successors(unit.key))) for unit in units},
        relates_to={key: tuple(sorted(targets)) for key, targets in relates.items()},
        cycles=tuple(cycles),
    )


def _cost(graph: nx.DiGraph[str], edges: Iterable[tuple[str, str]]) -> tuple[int, int]:
    """Demoting a structural edge (a field to its bundle) costs more than any number of reference edges."""
    edges = list(edges)
    return sum("references" not in graph.edges[e]["relations"] for e in edges), len(edges)


def _links_to_demote(component: nx.DiGraph[str]) -> list[tuple[str, str]]:
    """Edges whose removal makes the component acyclic: the fewest, for components small enough to search.

    Every build order of the component's tickets demotes the edges that point forward in it; trying every order of
    up to `_EXACT_LIMIT` tickets finds the cheapest. Larger components demote, cycle after cycle, the last
    reference edge of the cycle found (the edge that closes it).
    """
    nodes = sorted(component)
    if len(nodes) <= _EXACT_LIMIT:

        def forward(order: tuple[str, ...]) -> list[tuple[str, str]]:
            position = {node: index for index, node in enumerate(order)}
            return [(a, b) for a, b in component.edges if position[a] < position[b]]

        return sorted(min((forward(order) for order in permutations(nodes)), key=lambda e: _cost(component, e)))
    demoted: list[tuple[str, str]] = []
    while not nx.is_directed_acyclic_graph(component):
        loop = [(a, b) for a, b, *_ in nx.find_cycle(component)]
        references = [edge for edge in loop if "references" in component.edges[edge]["relations"]]
        closing = (references or loop)[-1]
        component.remove_edge(*closing)
        demoted.append(closing)
    return demoted


def topological_order(tickets: Iterable[Linked]) -> list[str]:
    """Ticket keys, every ticket after the tickets it is blocked by; ties keep the given order.

    Raises ValueError naming the cycle when the blocked-by links form one (only possible after manual edits).
    """
    tickets = list(tickets)
    position = {ticket.key: index for index, ticket in enumerate(tickets)}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(position)
    graph.add_edges_from(
        (dependency, ticket.key) for ticket in tickets for dependency in ticket.blocked_by if dependency in position
    )
    try:
        return list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        loop = " -> ".join(b for _, b, *_ in nx.find_cycle(graph))
        raise ValueError(f"The blocked-by links form a cycle: {loop}.") from None
