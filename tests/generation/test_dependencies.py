"""Ticket links: folded from the spec graph, acyclic once cycles are broken, and an export order always exists."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import pytest

from app.generation import DraftSet, topological_order

pytestmark = [pytest.mark.unit, pytest.mark.generation]

CYCLE = [
    "bundle.node.academic_program.build",
    "bundle.node.college.build",
    "bundle.node.department.build",
    "bundle.node.fact.build",
    "bundle.paragraph.facts_list.build",
]


def test_links_name_existing_tickets_and_never_the_ticket_itself(uwec_drafts: DraftSet) -> None:
    keys = {d.key for d in uwec_drafts.drafts}
    for draft in uwec_drafts.drafts:
        assert set(draft.blocked_by) <= keys and set(draft.relates_to) <= keys
        assert draft.key not in draft.blocked_by and draft.key not in draft.relates_to
        assert not set(draft.blocked_by) & set(draft.relates_to)
    by_key = {d.key: d for d in uwec_drafts.drafts}
    # field -> bundle, reference -> target, responsive style -> mapped style, view mode -> bundle
    assert "bundle.paragraph.accordion_item.build" in by_key["bundle.paragraph.accordions.build"].blocked_by
    assert "responsive_image_style.393x221.build" in by_key["responsive_image_style.492x492.build"].blocked_by
    assert "bundle.media.icon.build" in by_key["view_modes.build"].blocked_by


def test_the_blocked_by_graph_is_acyclic_and_the_order_respects_it(uwec_drafts: DraftSet) -> None:
    graph = nx.DiGraph((d.key, b) for d in uwec_drafts.drafts for b in d.blocked_by)
    assert nx.is_directed_acyclic_graph(graph)
    order = topological_order(uwec_drafts.drafts)
    assert sorted(order) == sorted(d.key for d in uwec_drafts.drafts)
    position = {key: index for index, key in enumerate(order)}
    assert all(position[b] < position[d.key] for d in uwec_drafts.drafts for b in d.blocked_by)


def test_the_five_bundle_reference_cycle_is_broken_and_reported(uwec_drafts: DraftSet) -> None:
    (cycle,) = uwec_drafts.cycles
    assert list(cycle.tickets) == CYCLE
    # The fewest links: facts_list is built after the four content types, whose fields to it close the cycle.
    assert list(cycle.relates_to) == [(key, "bundle.paragraph.facts_list.build") for key in CYCLE[:3]]
    by_key = {d.key: d for d in uwec_drafts.drafts}
    assert by_key["bundle.node.college.build"].relates_to == ("bundle.paragraph.facts_list.build",)
    assert "bundle.node.college.build" in by_key["bundle.paragraph.facts_list.build"].blocked_by
    reports = [f for f in uwec_drafts.findings if f.code == "reference_cycle" and f.value == ", ".join(CYCLE)]
    assert len(reports) == 1 and "relates to" in reports[0].message
    # People read titles, not the app's keys; without their counts, which a revision adding a field would change.
    assert (
        "'Content model: Build College content type' relates to 'Content model: Build Facts List paragraph type'"
        in (reports[0].message)
    )
    assert not any(key in reports[0].message for key in CYCLE)
    for key in CYCLE:  # the report travels into every ticket of the cycle, once (not again as intake's)
        assert any(f["value"] == ", ".join(CYCLE) for f in by_key[key].findings)
        assert sum(f["code"] == "reference_cycle" for f in by_key[key].findings) == 1


@dataclass
class _Linked:
    key: str
    blocked_by: tuple[str, ...] = ()


def test_topological_order_keeps_the_given_order_and_refuses_a_cycle() -> None:
    tickets = [_Linked("c", ("b",)), _Linked("a"), _Linked("b")]
    assert topological_order(tickets) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cycle"):
        topological_order([_Linked("a", ("b",)), _Linked("b", ("a",))])
