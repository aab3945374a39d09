"""The indexes behind the model lookups and the suggestion matcher give exactly what the plain scans gave."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st

from app.intake.names import close_matches


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


def test_close_matches_is_difflib_on_uwec_labels(uwec):
    labels = list(dict.fromkeys(item.label.casefold() for item in (*uwec.model.bundles, *uwec.model.fields)))
    for word in [*labels[::7], "all", "story categories", "image styles", "x"]:
        for n in (1, 3):
            assert close_matches(word, labels, n) == difflib.get_close_matches(word, labels, n, 0.6)


# A small alphabet makes near-ties in score, where the order of candidates matters, common.
_TEXT = st.text(alphabet="abc d", max_size=8)


@given(word=_TEXT, pool=st.lists(_TEXT, max_size=30, unique=True), n=st.integers(1, 4))
def test_close_matches_is_difflib(word, pool, n):
    assert close_matches(word, pool, n) == difflib.get_close_matches(word, pool, n, 0.6)
