"""The output checks: shape, limits, tables, and machine names the ticket's data does not contain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.llm import LLMOutputInvalidError, TicketProse, check_prose
from app.llm.validation import machine_names_in, parse_prose

if TYPE_CHECKING:
    from conftest import BriefFactory


pytestmark = [pytest.mark.unit, pytest.mark.generation]

STORY = "As a content editor, I want the Academic Program content type, so that I can publish programs."
CRITERIA = ("Every field exists.", "Items can be saved.")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([], "JSON object"),
        ({"success_criteria": []}, "no user_story"),
        ({"user_story": "x", "success_criteria": "a, b"}, "no success_criteria"),
        ({"user_story": "x", "success_criteria": ["a", 3]}, "no success_criteria"),
    ],
)
def test_a_malformed_answer_is_rejected(payload: object, reason: str) -> None:
    with pytest.raises(LLMOutputInvalidError, match=reason):
        parse_prose(payload)


def test_an_answer_is_trimmed() -> None:
    assert parse_prose({"user_story": f" {STORY} ", "success_criteria": [" a ", "b\n"]}) == TicketProse(
        STORY, ("a", "b")
    )


def test_a_sound_answer_passes(make_brief: BriefFactory) -> None:
    assert check_prose(TicketProse(STORY, CRITERIA), make_brief()) == []
    # The data gives the checkable criteria; a ticket whose notes say nothing more needs none from the writer.
    assert check_prose(TicketProse(STORY, ()), make_brief()) == []


@pytest.mark.parametrize(
    ("prose", "problem"),
    [
        (TicketProse("", CRITERIA), "user story is empty"),
        (TicketProse("x" * 401, CRITERIA), "401 characters"),
        (TicketProse(STORY, tuple(f"c{n}" for n in range(13))), "0 to 12 success criteria, not 13"),
        (TicketProse(STORY, ("ok", "y" * 301)), "criterion 2 is 301 characters"),
        (TicketProse(STORY, ("Same thing.", "same thing.")), "the same"),
        (TicketProse(STORY + "\nSecond line.", CRITERIA), "single line"),
        (TicketProse(STORY, ("| Field | Type |", "ok")), "Do not write tables"),
    ],
)
def test_each_limit_is_enforced(make_brief: BriefFactory, prose: TicketProse, problem: str) -> None:
    assert any(problem in message for message in check_prose(prose, make_brief()))


def test_machine_names_not_in_the_data_are_named(make_brief: BriefFactory) -> None:
    prose = TicketProse(STORY, ("The field_degree_level field is a list.", "The field_program_code and `hero` exist."))
    [problem] = check_prose(prose, make_brief())
    assert "field_program_code, hero" in problem


def test_machine_names_from_the_data_facts_and_dotted_ids_are_allowed(make_brief: BriefFactory) -> None:
    brief = make_brief(machine_names=frozenset({"node.academic_program.default"}), facts=("uses field_tags",))
    prose = TicketProse(STORY, ("The `academic_program` display is `default`.", "It keeps field_tags."))
    assert check_prose(prose, brief) == []


def test_ordinary_words_are_not_machine_names() -> None:
    assert machine_names_in("A well-known E_MAIL address, and 3_000 items, in the academic program.") == set()
    assert machine_names_in("see node.field_hero_image, `page`") == {"field_hero_image", "page"}
