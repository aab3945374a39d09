"""The dependency graph: its networkx view matches its own nodes and edges, and the cycle search on hand-made specs."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from app.intake import Action, Cycle, DependencyGraph, SourceRef
from app.intake.findings import Findings
from app.intake.graph import report_cycles

pytestmark = [pytest.mark.unit, pytest.mark.intake]


def test_the_lazily_built_digraph_is_the_graph_s_nodes_and_edges(uwec):
    graph = uwec.graph
    digraph = graph.digraph
    assert list(digraph.nodes(data=True)) == list(graph.nodes.items())
    assert list(digraph.edges(data=True)) == list(graph.edges())
    assert digraph.number_of_edges() == sum(1 for _ in graph.edges()) > 500
    assert graph.digraph is digraph  # built once


def _spec(edges: list[tuple[str, str, str]], actions: dict[str, Action] | None = None) -> DependencyGraph:
    """A graph from (dependent, dependency, relation) triples; nodes "bN" are bundles, "fN" fields."""
    digraph: nx.DiGraph[str] = nx.DiGraph()
    for line, (a, b, relation) in enumerate(edges, start=2):
        for node in (a, b):
            if node not in digraph:
                action = (actions or {}).get(node, Action.BUILD)
                digraph.add_node(
                    node,
                    kind="bundles" if node[0] == "b" else "fields",
                    label=node.upper(),
                    noun="",
                    action=action.value,
                    source=SourceRef("spec.csv", 1, 2),
                )
        sources = [SourceRef("spec.csv", line - 1, line)]
        if digraph.has_edge(a, b):
            digraph.edges[a, b]["sources"].extend(sources)
        else:
            digraph.add_edge(a, b, relation=relation, sources=sources)
    return DependencyGraph(digraph)


# b1 -> b2 -> b3 -> b1 through one field of each, the references on records 2, 4 and 6
_THREE_BUNDLE_CYCLE = [
    ("f1", "b1", "field_of"),
    ("f1", "b2", "references"),
    ("f2", "b2", "field_of"),
    ("f2", "b3", "references"),
    ("f3", "b3", "field_of"),
    ("f3", "b1", "references"),
]


def test_a_hand_made_reference_cycle_through_fields_is_found_with_its_rows():
    graph = _spec(
        [
            *_THREE_BUNDLE_CYCLE,
            ("f4", "b3", "field_of"),
            ("f4", "b3", "references"),  # a self-reference: never a cycle
            ("f5", "b4", "field_of"),
            ("f5", "b1", "references"),  # into the cycle, not on it
        ]
    )
    assert graph.strongly_connected_components() == [("b1", "b2", "b3")]
    (cycle,) = graph.cycles()
    assert cycle.nodes == ("b1", "b2", "b3")
    assert [(a, b, [s.record for s in refs]) for a, b, refs in cycle.edges] == [
        ("b1", "b2", [2]),
        ("b2", "b3", [4]),
        ("b3", "b1", [6]),
    ]
    findings = Findings()
    report_cycles(graph, findings)
    (finding,) = list(findings)
    assert finding.code == "reference_cycle" and finding.record == 6
    assert "3 bundles reference each other: B1, B2, B3; for example B1 -> B2 -> B3 -> B1." in finding.message


def test_two_components_largest_first_and_a_removed_bundle_s_cycle_is_info():
    graph = _spec(
        [
            ("b5", "b6", "moderates"),
            ("b6", "b5", "moderates"),
            *_THREE_BUNDLE_CYCLE,
            ("f6", "b2", "field_of"),
            ("f6", "b1", "references"),  # a second cycle b1 -> b2 -> b1 in the same component
        ],
        actions={"b5": Action.REMOVE, "b6": Action.NONE},
    )
    assert [c.nodes for c in graph.cycles()] == [("b1", "b2", "b3"), ("b5", "b6")]
    assert graph.cycles() == graph.cycles(graph.bundle_graph()) == _networkx_cycles(graph.bundle_graph())
    findings = Findings()
    report_cycles(graph, findings)
    assert [f.severity.value for f in findings] == ["warning", "info"]


def _networkx_cycles(graph: nx.DiGraph[str]) -> list[Cycle]:
    """The search as networkx does it, the reference the graph's own search must match exactly."""
    components = sorted(
        (tuple(sorted(c)) for c in nx.strongly_connected_components(graph) if len(c) > 1), key=lambda c: (-len(c), c)
    )
    found = []
    for component in components:
        sub = graph.subgraph(component)
        loop = nx.find_cycle(nx.DiGraph((a, b) for a, b in sub.edges if a != b), source=component[0])
        found.append(Cycle(component, tuple((a, b, tuple(sub.edges[a, b]["sources"])) for a, b, *_ in loop)))
    return found


@pytest.mark.parametrize("seed", range(60))
def test_the_cycle_search_agrees_with_networkx_on_random_specs(seed):
    rnd = random.Random(seed)
    bundles = [f"b{i}" for i in range(rnd.randint(2, 12))]
    edges = []
    for i in range(rnd.randint(0, 40)):
        field = f"f{i}"
        edges.append((field, rnd.choice(bundles), "field_of"))
        edges.extend((field, rnd.choice(bundles), "references") for _ in range(rnd.randint(0, 3)))
    edges.extend((rnd.choice(bundles), rnd.choice(bundles), "moderates") for _ in range(rnd.randint(0, 8)))
    edges.extend((f"x{i}", rnd.choice(bundles), "used_on") for i in range(rnd.randint(0, 5)))
    rnd.shuffle(edges)
    graph = _spec(edges)
    bundle_graph = graph.bundle_graph()
    expected = _networkx_cycles(bundle_graph)
    assert graph.strongly_connected_components() == [c.nodes for c in expected]
    assert graph.strongly_connected_components(bundle_graph) == [c.nodes for c in expected]
    assert graph.cycles() == graph.cycles(bundle_graph) == expected
    for cycle in graph.cycles():
        assert [a for a, _, _ in cycle.edges] == [b for _, b, _ in cycle.edges[-1:] + cycle.edges[:-1]]
        assert all(bundle_graph.has_edge(a, b) and refs for a, b, refs in cycle.edges)
