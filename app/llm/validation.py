"""Checks on what a model wrote: shape, length limits, and no machine names the ticket's data does not contain."""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.llm.base import LLMOutputInvalidError, TicketBrief, TicketProse, Usage

MAX_STORY_CHARS = 400
# The data gives most criteria; the writer adds only what notes say in prose, which may be nothing.
MIN_CRITERIA = 0
MAX_CRITERIA = 12
MAX_CRITERION_CHARS = 300

# Drupal machine names are lower snake_case; one with an underscore (field_degree_level, academic_program) cannot
# be an ordinary English word, so prose containing one is naming configuration.
_SNAKE_CASE = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")
# A lowercase identifier in backticks (`article`) is a machine name too, even without an underscore.
_BACKTICKED = re.compile(r"`([a-z][a-z0-9_.]*)`")


def parse_prose(payload: object, usage: Usage | None = None) -> TicketProse:
    """Turn a decoded structured answer into `TicketProse`.

    Raises:
        LLMOutputInvalidError: the answer lacks a part or has the wrong types.
    """
    if not isinstance(payload, dict):
        raise LLMOutputInvalidError("The answer must be a JSON object.", usage)
    story = payload.get("user_story")
    criteria = payload.get("success_criteria")
    if not isinstance(story, str):
        raise LLMOutputInvalidError("The answer has no user_story string.", usage)
    if not isinstance(criteria, list) or not all(isinstance(item, str) for item in criteria):
        raise LLMOutputInvalidError("The answer has no success_criteria list of strings.", usage)
    return TicketProse(story.strip(), tuple(item.strip() for item in criteria))


def machine_names_in(text: str) -> set[str]:
    """Tokens in `text` that look like Drupal machine names."""
    names = set(_SNAKE_CASE.findall(text))
    for quoted in _BACKTICKED.findall(text):
        names.update(part for part in quoted.split(".") if part)
    return names


def known_machine_names(brief: TicketBrief) -> set[str]:
    """Machine names the prose may use: the brief's own, their dotted parts, and any quoted in its facts, notes,
    criteria and item lists."""
    known = {name.lower() for name in brief.machine_names}
    known.update(part for name in list(known) for part in name.split("."))
    for line in (brief.subject, *brief.facts, *brief.notes, *brief.criteria, *brief.names):
        known.update(machine_names_in(line))
    return known


def check_prose(prose: TicketProse, brief: TicketBrief) -> list[str]:
    """Every reason `prose` is not fit for the ticket, worded so a model can fix it; empty when it passes."""
    problems: list[str] = []
    story, criteria = prose.user_story, prose.success_criteria
    if not story:
        problems.append("The user story is empty.")
    elif len(story) > MAX_STORY_CHARS:
        problems.append(f"The user story is {len(story)} characters; keep it to {MAX_STORY_CHARS}.")
    if not MIN_CRITERIA <= len(criteria) <= MAX_CRITERIA:
        problems.append(f"Write {MIN_CRITERIA} to {MAX_CRITERIA} success criteria, not {len(criteria)}.")
    for number, criterion in enumerate(criteria, start=1):
        if not criterion:
            problems.append(f"Success criterion {number} is empty.")
        elif len(criterion) > MAX_CRITERION_CHARS:
            problems.append(
                f"Success criterion {number} is {len(criterion)} characters; keep each to {MAX_CRITERION_CHARS}."
            )
    if len({criterion.casefold() for criterion in criteria}) < len(criteria):
        problems.append("Two success criteria are the same; make each one distinct.")
    texts = (story, *criteria)
    if any("\n" in text for text in texts):
        problems.append("Write the user story and each criterion on a single line.")
    if any(text.count("|") >= 2 for text in texts):
        problems.append("Do not write tables; the configuration tables are added to the ticket separately.")
    unknown = _unknown_names(texts, known_machine_names(brief))
    if unknown:
        problems.append(
            f"These machine names are not in the ticket's data: {', '.join(unknown)}. Use only the "
            "listed machine names, or refer to things by their labels."
        )
    return problems


def _unknown_names(texts: Iterable[str], known: set[str]) -> list[str]:
    found = set().union(*(machine_names_in(text) for text in texts))
    return sorted(name for name in found if name.lower() not in known)
