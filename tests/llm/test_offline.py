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


def test_a_content_type_build_is_a_story_for_the_persona_with_a_criterion_per_note(make_brief: BriefFactory) -> None:
    prose = compose(make_brief(persona="a site administrator"))

    assert prose.user_story == (
        "As a site administrator, I want the Academic Program content type set up on the site, so that Academic "
        "Program content can be published with consistent, structured information."
    )
    assert prose.success_criteria == ("Done as the spec notes: Program pages replace the old catalogue PDFs.",)


def test_without_a_persona_the_kind_decides(make_brief: BriefFactory) -> None:
    stories = {kind: compose(make_brief(kind=kind, subject=f"Example {kind}")).user_story for kind in KINDS}
    assert stories["content type"].startswith("As a content editor,")
    assert stories["media type"].startswith("As a site builder,")
    assert stories["view"].startswith("As a site visitor,")
    assert stories["workflow"].startswith("As a content manager,")
    assert stories["roles"].startswith("As a site administrator,")


def test_each_note_sentence_not_already_in_the_data_criteria_becomes_a_criterion(make_brief: BriefFactory) -> None:
    notes = ("Site admins can add/edit/delete only. Set metatags for no index.", "Options: Urgent, Casual.")
    brief = make_brief(
        notes=notes, criteria=("Field Urgency (field_urgency): List (text); the spec notes: Options: Urgent, Casual.",)
    )
    assert compose(brief).success_criteria == (
        "Done as the spec notes: Site admins can add/edit/delete only.",
        "Done as the spec notes: Set metatags for no index.",
    )
    assert compose(make_brief(notes=())).success_criteria == ()


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_changes_the_story(make_brief: BriefFactory, action: str) -> None:
    stories = {other: compose(make_brief(action=other)).user_story for other in ACTIONS}
    assert len(set(stories.values())) == len(ACTIONS)
    assert {
        "build": "set up on the site",
        "change": "changed to match the revised specification",
        "remove": "removed from the site",
        "hold": "settled and then set up",
    }[action] in stories[action]


def test_each_kind_has_its_own_benefit(make_brief: BriefFactory) -> None:
    proses = [compose(make_brief(kind=kind, subject=f"Example {kind}")) for kind in KINDS]
    benefits = {prose.user_story.split(", so that ")[1].replace("Example ", "") for prose in proses}
    assert len(benefits) >= len(KINDS) - 1  # a menu has no benefit of its own yet: it reads as generic


def test_a_removal_ticket_is_worded_as_removal_work(make_brief: BriefFactory) -> None:
    prose = compose(make_brief(kind="removal", subject="Obsolete fields", notes=()))

    assert prose.user_story.startswith("As a site maintainer, I want the Obsolete fields removed from the site")
    assert prose.success_criteria == (
        "Content stored in the removed items was backed up or confirmed disposable before removal.",
    )


def test_a_change_asks_that_existing_content_keeps_its_values(make_brief: BriefFactory) -> None:
    assert (
        "Content created before the change keeps all its values after the update."
        in compose(make_brief(action="change")).success_criteria
    )


def test_the_offline_text_never_names_a_machine_name(make_brief: BriefFactory) -> None:
    brief = make_brief(facts=("40 fields including Degree level (list)",))
    prose = compose(brief)
    assert not set().union(*(machine_names_in(text) for text in (prose.user_story, *prose.success_criteria)))


def test_many_and_long_notes_stay_within_the_limits(make_brief: BriefFactory) -> None:
    brief = make_brief(
        subject="Very " * 120 + "long content type", notes=tuple(f"Note {n} " + "x" * 400 for n in range(30))
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


@pytest.mark.parametrize(
    ("kind", "description", "story"),
    [
        (
            "content type",
            "Add program pages for majors and minors.",
            "As a content editor, I want the Academic Program content type set up on the site, so that I can add "
            "program pages for majors and minors.",
        ),
        (
            "content type",
            "Use to add college pages.",
            "As a content editor, I want the Academic Program content type set up on the site, so that I can add "
            "college pages.",
        ),
        (
            "paragraph type",
            "Creates a linkable image in various sizes.",
            "As a content editor, I want the Academic Program paragraph type set up on the site, so that I can "
            "create a linkable image in various sizes.",
        ),
        (  # a noun phrase says no purpose: the kind's benefit stays
            "vocabulary",
            "Campuses for programs.",
            "As a content editor, I want the Academic Program vocabulary set up on the site, so that content can be "
            "tagged and filtered consistently with Academic Program terms.",
        ),
        (  # a view's description says what it lists, not what someone does
            "view",
            "Lists of programs.",
            "As a content editor, I want the Academic Program view set up on the site, so that the content it "
            "lists can be found and browsed.",
        ),
    ],
)
def test_a_bundles_story_says_what_it_is_for_in_the_specs_words(kind: str, description: str, story: str) -> None:
    brief = TicketBrief(
        key="K-1",
        area="Content model",
        action="build",
        subject=f"Academic Program {kind}",
        kind=kind,
        facts=(f"Academic Program: {description}",),
        persona="a content editor",
    )
    prose = compose(brief)
    assert prose.user_story == story
    assert check_prose(prose, brief) == []


def test_an_update_says_what_it_adds_and_only_removing_content_asks_for_a_backup() -> None:
    update = TicketBrief(
        key="K-1",
        area="Content model",
        action="change",
        subject="Text paragraph type",
        kind="paragraph type",
        facts=("Fields: Widget Title",),
        persona="a content editor",
    )
    assert compose(update).user_story == (
        "As a content editor, I want the existing Text paragraph type updated with the field Widget Title, so that "
        "pages can be composed from a reusable Text component."
    )
    backup = "Content stored in the removed items was backed up or confirmed disposable before removal."

    def removal(subject: str) -> TicketBrief:
        return TicketBrief(key="K-2", area="Display", action="remove", subject=subject, kind="removal")

    assert backup not in compose(removal("10 view modes")).success_criteria
    assert backup not in compose(removal("19 image styles")).success_criteria
    assert backup in compose(removal("7 paragraph types")).success_criteria
    assert backup in compose(removal("4 fields")).success_criteria


def test_a_note_that_is_a_doubt_becomes_a_question_to_settle_not_a_requirement() -> None:
    brief = TicketBrief(
        key="K-1",
        area="Content model",
        action="build",
        subject="Story Library content type",
        kind="content type",
        notes=("Potentially scheduled (need confirmation). Allows promotion.",),
    )
    assert compose(brief).success_criteria == (
        "Settled with the spec author before work starts: Potentially scheduled (need confirmation).",
        "Done as the spec notes: Allows promotion.",
    )
    assert check_prose(compose(brief), brief) == []
