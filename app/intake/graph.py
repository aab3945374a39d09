"""The dependency graph between spec items; edges point from dependent to dependency and cite their rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from app.intake.findings import Code, Findings, Severity
from app.intake.model import Action, Bundle, SourceRef, SpecItem, SpecModel

# Edges that say what an item belongs to; every other relation is a use of another item.
_STRUCTURAL = frozenset({"field_of", "display_of", "state_of", "effect_of"})


@dataclass(frozen=True)
class Cycle:
    """A strongly connected component and one cycle through it, each edge with the rows it came from."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, tuple[SourceRef, ...]], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "nodes": list(self.nodes),
            "edges": [{"from": a, "to": b, "sources": [asdict(s) for s in refs]} for a, b, refs in self.edges],
        }


class DependencyGraph:
    """The spec items (node ids such as "bundle:node:academic_program") and the edges between them.

    Node attributes: kind, label, action, source. Edge attributes: relation (why the edge exists) and sources (the
    rows that state it). Intake keeps them in plain dicts (tens of thousands of items at 100x; networkx costs a Python
    call or two per node and edge); `.digraph` is the same graph as a networkx DiGraph, built on first use.
    """

    def __init__(self, digraph: nx.DiGraph[str] | None = None) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}  # node -> attributes, in insertion order
        self._succ: dict[str, dict[str, dict[str, Any]]] = {}  # node -> successor -> edge data, as networkx's adj
        self._derived: _Derived | None = None  # the digraph, bundle graph and cycles, each worked out once
        if digraph is not None:
            for node, attrs in digraph.nodes(data=True):
                self._nodes[node] = attrs
                self._succ[node] = {}
            for a, b, data in digraph.edges(data=True):
                self._succ[a][b] = data
            self._cache().digraph = digraph

    @property
    def nodes(self) -> Mapping[str, dict[str, Any]]:
        """Node id -> its attributes, in the order the items were added; do not modify."""
        return self._nodes

    def edges(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(dependent, dependency, data) for every edge, in the digraph's edge order; do not modify the data."""
        for a, successors in self._succ.items():
            for b, data in successors.items():
                yield a, b, data

    @property
    def digraph(self) -> nx.DiGraph[str]:
        """The graph as a networkx DiGraph (same nodes, edges, attributes and order); built once, do not modify."""
        cache = self._cache()
        if cache.digraph is None:
            graph: nx.DiGraph[str] = nx.DiGraph()
            graph.add_nodes_from(self._nodes.items())
            graph.add_edges_from(self.edges())
            cache.digraph = graph
        return cache.digraph

    def _cache(self) -> _Derived:
        if self._derived is None:
            self._derived = _Derived()
        return self._derived

    def add_items(self, items: Iterable[SpecItem], kind: str) -> list[str]:
        """Add each item as a node of this kind; their node ids, in order."""
        self._derived = None
        nodes, succ = self._nodes, self._succ
        added = []
        for item in items:
            attrs = {
                "kind": kind,
                "label": item.label,
                "noun": item.entity_type_label.strip() if isinstance(item, Bundle) else "",
                "action": item.action._value_,  # the enum's own string (as .value, without its descriptor call)
                "source": item.source,
            }
            node = item.node_id
            known = nodes.get(node)
            if known is None:
                nodes[node] = attrs
                succ[node] = {}
            else:  # as networkx does: the attributes updated, the node keeps its place
                known.update(attrs)
            added.append(node)
        return added

    def add_edges(self, dependent: str, dependencies: Iterable[str | None], relation: str, source: SourceRef) -> None:
        """An edge from dependent to each dependency (None and "" skipped), all stated by the same row."""
        self._derived = None
        # Edges only join items the spec defines; a reference to nothing is a finding, not a node.
        attrs = self._nodes.get(dependent)
        if attrs is None:
            return
        # Removing an item needs its owner (field -> bundle), not what it pointed at: no ordering edge from it.
        if relation not in _STRUCTURAL and attrs["action"] == Action.REMOVE:
            return
        nodes, successors = self._nodes, self._succ[dependent]
        for dependency in dependencies:
            if not dependency or dependency not in nodes:
                continue
            edge = successors.get(dependency)
            if edge is None:
                successors[dependency] = {"relation": relation, "sources": [source]}
            else:
                sources = edge["sources"]
                if source not in sources:
                    sources.append(source)

    def bundle_graph(self) -> nx.DiGraph[str]:
        """The graph with every field instance folded into its bundle, so entity references become bundle edges.

        Folded once per graph, when asked for (the cycle search folds only the edges that can close a cycle); do not
        modify it.
        """
        cache = self._cache()
        if cache.folded is None:
            owner = self._owners()
            graph: nx.DiGraph[str] = nx.DiGraph()
            graph.add_nodes_from((n, d) for n, d in self._nodes.items() if n not in owner)
            graph.add_edges_from((a, b, data) for (a, b), data in _merged(self._folded_pairs(owner)).items())
            cache.folded = graph
        return cache.folded

    def _owners(self) -> dict[str, str]:
        """Field instance node -> its bundle's node."""
        return {
            node: dependency
            for node, successors in self._succ.items()
            for dependency, data in successors.items()
            if data["relation"] == "field_of"
        }

    def _folded_pairs(self, owner: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
        """Each edge with its ends folded into their owners (a field's own edge to its bundle dropped), in the
        digraph's edge order."""
        fold = owner.get
        return [
            (a_owner, b_owner, data)
            for a, successors in self._succ.items()
            for b, data in successors.items()
            if (a_owner := fold(a, a)) != (b_owner := fold(b, b)) or data["relation"] != "field_of"
        ]

    def _cyclic_part(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The bundle graph's edges that can lie on a cycle: from a node with an edge in to a node with an edge out,
        as successor dicts in the bundle graph's order. Every edge of a cycle is one, so its cyclic components are the
        bundle graph's, without the tens of thousands of leaves (displays, effects, states) a big spec has."""
        pairs = self._folded_pairs(self._owners())
        sources = {a for a, _, _ in pairs}
        targets = {b for _, b, _ in pairs}
        successors: dict[str, dict[str, dict[str, Any]]] = {}
        for (a, b), data in _merged(e for e in pairs if e[0] in targets and e[1] in sources).items():
            successors.setdefault(a, {})[b] = data
        return successors

    def strongly_connected_components(self, graph: nx.DiGraph[str] | None = None) -> list[tuple[str, ...]]:
        """Components of more than one node, largest first; default: the bundle graph.

        Self-references (a bundle referencing its own type) are left out: one ticket builds the bundle and then the
        field, so they never block an order.
        """
        if graph is None:
            return _components(self._cyclic_part())
        return _components(graph.succ)

    def cycles(self, graph: nx.DiGraph[str] | None = None) -> list[Cycle]:
        """One cycle per cyclic component, with the rows behind each edge; the bundle graph's are found once."""
        if graph is not None:
            return _cycles(graph.succ)
        cache = self._cache()
        if cache.cycles is None:
            cache.cycles = _cycles(self._cyclic_part())
        return list(cache.cycles)

    def to_dict(self) -> dict[str, object]:
        return {
            "nodes": [{"id": n, **{k: str(v) for k, v in d.items()}} for n, d in self._nodes.items()],
            "edges": [
                {"from": a, "to": b, "relation": d["relation"], "sources": [asdict(s) for s in d["sources"]]}
                for a, b, d in self.edges()
            ],
            "cycles": [c.to_dict() for c in self.cycles()],
        }


class _Derived:
    """What a DependencyGraph works out from its nodes and edges; dropped whenever an item or edge is added."""

    __slots__ = ("cycles", "digraph", "folded")

    def __init__(self) -> None:
        self.digraph: nx.DiGraph[str] | None = None
        self.folded: nx.DiGraph[str] | None = None
        self.cycles: list[Cycle] | None = None


def _components(successors: Mapping[str, Mapping[str, object]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one node, each sorted, largest first (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    for root in successors:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, pending = work[-1]
            for nxt in pending:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(successors.get(nxt, ()))))
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            else:
                work.pop()
                if work and low[node] < low[work[-1][0]]:
                    low[work[-1][0]] = low[node]
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(tuple(sorted(component)))
    return sorted(found, key=lambda c: (-len(c), c))


def _cycles(successors: Mapping[str, Mapping[str, dict[str, Any]]]) -> list[Cycle]:
    """One cycle per component, as networkx's find_cycle walks it from the component's first node."""
    found = []
    for component in _components(successors):
        members = set(component)
        within = {a: [b for b in successors.get(a, ()) if b in members and b != a] for a in component}
        loop = nx.find_cycle(nx.DiGraph((a, b) for a in component for b in within[a]), source=component[0])
        edges = tuple((a, b, tuple(successors[a][b]["sources"])) for a, b, *_ in loop)
        found.append(Cycle(component, edges))
    return found


def _merged(edges: Iterable[tuple[str, str, dict[str, Any]]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Edges folded onto the same pair become one: the first one's relation, every distinct source in order."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for a, b, data in edges:
        edge = merged.get((a, b))
        if edge is None:
            merged[a, b] = {"relation": data["relation"], "sources": list(data["sources"])}
        else:
            edge["sources"].extend(s for s in data["sources"] if s not in edge["sources"])
    return merged


def build_graph(model: SpecModel) -> DependencyGraph:
    """Derive the edges exactly where the columns allow it."""
    graph = DependencyGraph()
    ids = {
        kind: graph.add_items(getattr(model, kind), kind)
        for kind in (
            "bundles",
            "fields",
            "views",
            "displays",
            "view_modes",
            "image_styles",
            "image_effects",
            "responsive_image_styles",
            "roles",
            "workflows",
            "states",
            "transitions",
            "menus",
        )
    }
    add = graph.add_edges
    bundle_id: dict[tuple[str, str] | None, str] = {
        b.key: node for b, node in zip(model.bundles, ids["bundles"], strict=True)
    }
    for f, node in zip(model.fields, ids["fields"], strict=True):
        add(node, (bundle_id.get(f.bundle),), "field_of", f.source)
        add(node, (bundle_id.get(t) for t in f.reference_targets), "references", f.source)
    for d, node in zip(model.displays, ids["displays"], strict=True):
        add(node, (f"view:{d.view}",), "display_of", d.source)
    for m, node in zip(model.view_modes, ids["view_modes"], strict=True):
        add(node, (bundle_id.get(b) for b in m.used_on), "used_on", m.source)
    for r, node in zip(model.responsive_image_styles, ids["responsive_image_styles"], strict=True):
        add(node, (f"image_style:{r.fallback_style}",), "fallback", r.source)
        add(node, (f"image_style:{s}" for s in r.image_styles), "maps", r.source)
    for e, node in zip(model.image_effects, ids["image_effects"], strict=True):
        add(node, (f"image_style:{e.image_style}",), "effect_of", e.source)
    for w, node in zip(model.workflows, ids["workflows"], strict=True):
        add(node, (bundle_id.get(b) for b in w.bundles), "moderates", w.source)
    for s, node in zip(model.states, ids["states"], strict=True):
        add(node, (f"workflow:{s.workflow}",), "state_of", s.source)
    for t, node in zip(model.transitions, ids["transitions"], strict=True):
        states = [*t.from_states, t.to_state] if t.to_state else list(t.from_states)
        add(node, (f"state:{t.workflow}:{s}" for s in states), "moves_between", t.source)
    return graph


def report_cycles(graph: DependencyGraph, findings: Findings) -> None:
    """A warning per reference cycle between bundles, located at the first row that closes it."""
    nodes = graph.nodes

    def name(node: str) -> str:
        """ "College (Content type)": the bundle as the spec's Bundle column names it, not its node id."""
        label, noun = nodes[node].get("label") or node, nodes[node].get("noun")
        return f"{label} ({noun})" if noun else label

    for cycle in graph.cycles():
        path = " -> ".join(name(a) for a, _, _ in cycle.edges) + f" -> {name(cycle.edges[0][0])}"
        actions = {nodes[n].get("action") for n in cycle.nodes}
        severity = Severity.INFO if actions <= {str(Action.REMOVE), str(Action.NONE)} else Severity.WARNING
        first = cycle.edges[-1][2][0]
        findings.add(
            Code.REFERENCE_CYCLE,
            severity,
            f"{len(cycle.nodes)} bundles reference each other: {', '.join(name(n) for n in cycle.nodes)}; for "
            f"example {path}. The export builds the bundles first and adds the closing reference fields after.",
            file=first.file,
            record=first.record,
            line=first.line,
            value=", ".join(cycle.nodes),
        )
