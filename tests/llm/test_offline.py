"""The offline writer: deterministic, varied by kind and action, grounded in the facts, always passing the checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.llm import TicketBrief, check_prose, compose
from app.llm.validation import MAX_CRITERIA, MAX_CRITERION_CHARS, MAX_STORY_CHARS, machine_names_in

if TYPE_CHECKING:
    from conftest import BriefFactory


pytestmark = [pytest.mark.unit, pytest.mark.generation]

KINDS = [
    "content type",
    "paragraph type",
    "media type",
    "vocabulary",
    "view",
    "workflow",
    "responsive image style",
    "image styles",
    "view modes",
    "roles",
    "removal",
    "menu",
]
ACTIONS = ["build", "change", "remove", "hold"]


def test_the_same_brief_gives_the_same_text(make_brief: BriefFactory) -> None:
    assert compose(make_brief()) == compose(make_brief())


def test_a_content_type_build_reads_as_a_user_story_grounded_in_the_facts(make_brief: BriefFactory) -> None:
    prose = compose(make_brief())

    assert prose.user_story == (
        "As a content editor, I want the Academic Program content type built as specified, so that I can publish "
        "Academic Program content with consistent, structured information."
    )
    criteria = " ".join(prose.success_criteria)
    assert "40 fields including Degree level (list)" in criteria
    assert "moderated by the Marketing workflow" in criteria
    assert "note from the spec" in criteria  # the brief has notes


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_changes_the_story(make_brief: BriefFactory, action: str) -> None:
    stories = {other: compose(make_brief(action=other)).user_story for other in ACTIONS}
    assert len(set(stories.values())) == len(ACTIONS)
    assert {
        "build": "built as specified",
        "change": "updated to match",
        "remove": "removed from the site",
        "hold": "once its open questions are settled",
    }[action] in stories[action]


def test_each_kind_has_its_own_story_and_checks(make_brief: BriefFactory) -> None:
    proses = [compose(make_brief(kind=kind, subject=f"Example {kind}")) for kind in KINDS]
    stories = {prose.user_story.replace(f"Example {kind}", "X") for prose, kind in zip(proses, KINDS, strict=True)}
    assert len(stories) >= len(KINDS) - 1  # "removal" of a build is worded like any removal
    workflow = compose(make_brief(kind="workflow", subject="Marketing workflow"))
    assert any("transition" in item for item in workflow.success_criteria)
    assert workflow.user_story.startswith("As a content manager")


def test_a_removal_ticket_is_worded_as_removal_work(make_brief: BriefFactory) -> None:
    prose = compose(make_brief(kind="removal", subject="Obsolete fields", facts=("12 fields on Event",)))

    assert prose.user_story.startswith("As a site maintainer, I want the Obsolete fields removed from the site")
    assert "Removed: 12 fields on Event." in prose.success_criteria


def test_a_change_asks_that_existing_content_keeps_its_values(make_brief: BriefFactory) -> None:
    assert (
        "Existing content keeps all its values after the update."
        in compose(make_brief(action="change")).success_criteria
    )


def test_the_offline_text_never_names_a_machine_name(make_brief: BriefFactory) -> None:
    brief = make_brief(facts=("40 fields including Degree level (list)",))
    prose = compose(brief)
    assert not set().union(*(machine_names_in(text) for text in (prose.user_story, *prose.success_criteria)))


def test_many_and_long_facts_stay_within_the_limits(make_brief: BriefFactory) -> None:
    brief = make_brief(
        subject="Very " * 120 + "long content type", facts=tuple(f"fact {n} " + "x" * 400 for n in range(30))
    )
    prose = compose(brief)

    assert len(prose.user_story) <= MAX_STORY_CHARS
    assert len(prose.success_criteria) == MAX_CRITERIA
    assert all(len(item) <= MAX_CRITERION_CHARS for item in prose.success_criteria)
    assert check_prose(prose, brief) == []


_lines = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)


@given(
    kind=st.sampled_from([*KINDS, "something new"]),
    action=st.sampled_from(ACTIONS),
    subject=_lines,
    facts=st.lists(_lines, max_size=20),
    notes=st.lists(_lines, max_size=3),
)
def test_the_offline_text_always_passes_the_checks(
    kind: str, action: str, subject: str, facts: list[str], notes: list[str]
) -> None:
    brief = TicketBrief(
        key="K-1",
        area="Area",
        action=action,
        subject=subject or "Thing",
        kind=kind,
        facts=tuple(facts),
        notes=tuple(notes),
    )
    assert check_prose(compose(brief), brief) == []
