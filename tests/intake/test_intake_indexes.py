"""The indexes behind the model lookups and the suggestion matcher give exactly what the plain scans gave."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz

from app.intake.names import closest

pytestmark = [pytest.mark.unit, pytest.mark.intake]


def test_owner_lookups_match_a_scan(uwec):
    model = uwec.model
    for bundle in {*(b.key for b in model.bundles), *(f.bundle for f in model.fields), ("node", "no_such_bundle")}:
        assert model.fields_of(bundle) == tuple(f for f in model.fields if f.bundle == bundle)
    for view in {*(v.key for v in model.views), *(d.view for d in model.displays), "no_such_view"}:
        assert model.displays_of(view) == tuple(d for d in model.displays if d.view == view)
    for workflow in {*(w.key for w in model.workflows), *(t.workflow for t in model.transitions), "no_such_flow"}:
        assert model.states_of(workflow) == tuple(s for s in model.states if s.workflow == workflow)
        groups: dict[str, list] = {}
        for transition in model.transitions:
            if transition.workflow == workflow:
                groups.setdefault(transition.machine_name, []).append(transition)
        assert model.transition_groups(workflow) == {name: tuple(rows) for name, rows in groups.items()}


def test_closest_suggests_near_misses_case_insensitively(uwec):
    labels = list(dict.fromkeys(item.label for item in uwec.model.bundles))
    assert closest("academic programme", labels, 1) == ["Academic Program"]
    assert closest("LANDING PAGE", labels, 1) == ["Landing Page"]
    assert closest("zzzzqqq", labels) == []
    # No close spelling: a label containing the text is the guess.
    assert closest("Program", ["Academic Program", "Events"]) == ["Academic Program"]


# A small alphabet makes near-ties in score common.
_TEXT = st.text(alphabet="abc d", max_size=8)


@given(word=_TEXT, pool=st.lists(_TEXT, max_size=30, unique=True), n=st.integers(1, 4))
def test_closest_gives_the_best_scores_first_from_the_pool(word, pool, n):
    found = closest(word, pool, n)
    assert len(found) <= n and set(found) <= set(pool)
    scores = [fuzz.ratio(word.casefold(), f.casefold()) for f in found]
    if scores and max(scores) >= 60:
        assert scores == sorted(scores, reverse=True) and min(scores) >= 60
        best_possible = sorted((fuzz.ratio(word.casefold(), p.casefold()) for p in pool), reverse=True)
        assert scores == best_possible[: len(scores)]
