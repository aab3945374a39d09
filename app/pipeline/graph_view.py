"""A picture of the ticket graph a person can read at 100 tickets: an SVG laid out by topological generation.

Columns are generations (a ticket sits right of everything that blocks it), areas are coloured horizontal lanes,
"relates to" links are dashed, and tickets that block each other in a circle share a column and are drawn red.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import networkx as nx
from markupsafe import Markup, escape

NODE_W, NODE_H = 210, 30
COL_GAP, ROW_GAP = 70, 8
LANE_PAD, LABEL_W = 10, 130
# Atlassian design colours, one per area in order of first appearance.
PALETTE = ("#0052CC", "#00875A", "#5243AA", "#00A3BF", "#FF991F", "#6554C0", "#36B37E", "#FF5630", "#172B4D")
CYCLE_COLOUR = "#DE350B"


class GraphTicket(Protocol):
    key: str
    title: str
    area: str
    blocked_by: list[str]
    relates_to: list[str]
    excluded: bool


@dataclass(frozen=True)
class Placed:
    key: str
    title: str
    area: str
    x: int
    y: int
    colour: str
    in_cycle: bool
    excluded: bool


@dataclass(frozen=True)
class GraphLayout:
    nodes: dict[str, Placed]
    lanes: list[tuple[str, int, int, str]]  # area, top, height, colour
    blocks: list[tuple[str, str]]  # (blocker, blocked)
    relates: list[tuple[str, str]]
    cycles: list[list[str]]
    width: int
    height: int


def layout(tickets: Sequence[GraphTicket]) -> GraphLayout:
    keys = {t.key for t in tickets}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(keys)
    graph.add_edges_from((b, t.key) for t in tickets for b in t.blocked_by if b in keys and b != t.key)
    # Condensing strongly connected components keeps the layout defined even if the links form a cycle.
    condensed = nx.condensation(graph)
    column: dict[str, int] = {}
    for number, generation in enumerate(nx.topological_generations(condensed)):
        for component in generation:
            for key in condensed.nodes[component]["members"]:
                column[key] = number
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    in_cycle = {key for cycle in cycles for key in cycle}

    areas = list(dict.fromkeys(t.area or "Other" for t in tickets))
    colours = {area: PALETTE[i % len(PALETTE)] for i, area in enumerate(areas)}
    nodes: dict[str, Placed] = {}
    lanes: list[tuple[str, int, int, str]] = []
    top = 0
    for area in areas:
        members = [t for t in tickets if (t.area or "Other") == area]
        stacks: dict[int, int] = {}
        for ticket in members:
            col = column[ticket.key]
            row = stacks.get(col, 0)
            stacks[col] = row + 1
            nodes[ticket.key] = Placed(
                ticket.key,
                ticket.title,
                area,
                LABEL_W + col * (NODE_W + COL_GAP),
                top + LANE_PAD + row * (NODE_H + ROW_GAP),
                colours[area],
                ticket.key in in_cycle,
                ticket.excluded,
            )
        height = 2 * LANE_PAD + max(stacks.values(), default=1) * (NODE_H + ROW_GAP) - ROW_GAP
        lanes.append((area, top, height, colours[area]))
        top += height
    columns = max(column.values(), default=0) + 1
    blocks = [(b, t.key) for t in tickets for b in t.blocked_by if b in keys and b != t.key]
    relates = [(t.key, r) for t in tickets for r in t.relates_to if r in keys and r != t.key]
    return GraphLayout(nodes, lanes, blocks, relates, cycles, LABEL_W + columns * (NODE_W + COL_GAP), max(top, 40))


def _edge(a: Placed, b: Placed) -> str:
    x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H // 2, b.x, b.y + NODE_H // 2
    if x2 <= x1:  # same column (a cycle or a "relates to" link): bow out to the right
        x2 = b.x + NODE_W
        bend = x1 + COL_GAP // 2 + abs(y2 - y1) // 8
        return f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
    middle = (x1 + x2) // 2
    return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"


def _ends(source: Placed, target: Placed) -> str:
    """Which tickets an edge joins, so the page can light up a ticket's blockers and dependants."""
    return f"data-from='{escape(source.key)}' data-to='{escape(target.key)}'"


def render_svg(graph: GraphLayout) -> Markup:
    """The SVG, every text escaped; each ticket is a `g.dtg-node` with `data-key` so the page can open it."""
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='dtg-graph' width='{graph.width}' height='{graph.height}' "
        f"viewBox='0 0 {graph.width} {graph.height}' role='group' aria-label='Ticket dependencies' "
        f"data-width='{graph.width}' data-height='{graph.height}'>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' "
        "orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#6B778C'/></marker></defs>",
    ]
    for area, top, height, colour in graph.lanes:
        parts.append(
            f"<g class='dtg-lane'><rect x='0' y='{top}' width='{graph.width}' height='{height}' fill='{colour}' "
            f"fill-opacity='0.06' stroke='{colour}' stroke-opacity='0.25'/>"
            f"<text x='8' y='{top + 20}' fill='{colour}' font-weight='600'>{escape(area[:18])}</text></g>"
        )
    for blocker, blocked in graph.blocks:
        a, b = graph.nodes[blocker], graph.nodes[blocked]
        cyclic = a.in_cycle and b.in_cycle
        colour = CYCLE_COLOUR if cyclic else "#6B778C"
        parts.append(
            f"<path class='dtg-edge{' dtg-edge-cycle' if cyclic else ''}' d='{_edge(a, b)}' fill='none' "
            f"stroke='{colour}' stroke-opacity='0.7' marker-end='url(#arrow)' {_ends(a, b)}>"
            f"<title>{escape(b.title)} is blocked by {escape(a.title)}</title></path>"
        )
    for key, other in graph.relates:
        a, b = graph.nodes[key], graph.nodes[other]
        parts.append(
            f"<path class='dtg-edge dtg-edge-relates' d='{_edge(a, b)}' fill='none' stroke='#FF991F' "
            f"stroke-dasharray='5 4' {_ends(b, a)}><title>{escape(a.title)} relates to {escape(b.title)} "
            "(a link that would have closed a cycle)</title></path>"
        )
    for node in graph.nodes.values():
        stroke = CYCLE_COLOUR if node.in_cycle else node.colour
        # The lane already names the area: drop the title's "Area: " prefix so the verb and subject fit.
        short = node.title.removeprefix(f"{node.area}: ")
        label = short if len(short) <= 30 else short[:29] + "…"
        faded = " stroke-dasharray='3 3' opacity='0.5'" if node.excluded else ""
        parts.append(
            f"<g class='dtg-node{' dtg-node-excluded' if node.excluded else ''}' data-key='{escape(node.key)}' "
            f"data-area='{escape(node.area)}' data-title='{escape(node.title.lower())}' tabindex='0' role='button' "
            f"aria-label='{escape(node.title)}'><title>{escape(node.title)}</title>"
            f"<rect x='{node.x}' y='{node.y}' width='{NODE_W}' height='{NODE_H}' rx='3' fill='#fff' "
            f"stroke='{stroke}' stroke-width='{2 if node.in_cycle else 1}'"
            f"{faded}/>"
            f"<rect x='{node.x}' y='{node.y}' width='4' height='{NODE_H}' fill='{node.colour}'/>"
            f"<text x='{node.x + 10}' y='{node.y + 19}' font-size='12' fill='#172B4D'>{escape(label)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
