"""What we tell the model, and the structured answer we ask it for."""

from __future__ import annotations

import json
from typing import Any

from app.llm.base import TicketBrief
from app.llm.pricing import approx_tokens
from app.llm.validation import MAX_CRITERIA, MAX_CRITERION_CHARS, MAX_STORY_CHARS, MIN_CRITERIA

OUTPUT_NAME = "ticket_prose"
# A ceiling on one answer (12 criteria of 300 characters are about 1,000 tokens); reasoning models count their
# hidden reasoning against it too, hence the headroom.
MAX_OUTPUT_TOKENS = 4096

# The JSON schema of the answer: `response_format` for OpenAI, the tool's input schema for Anthropic. Length and
# count limits live in the prompt and in validation.py, because strict structured output rejects maxLength.
PROSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "user_story": {
            "type": "string",
            "description": "One sentence: As a <role>, I want <capability>, so that <benefit>.",
        },
        "success_criteria": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Checklist items a developer or tester can verify, one statement each.",
        },
    },
    "required": ["user_story", "success_criteria"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = f"""\
You write two parts of a Jira ticket for a Drupal site build: a user story and its success criteria.
The ticket's configuration tables (fields, displays, states, mappings) are copied from the specification and \
added separately; you never write tables and never restate them row by row.

Rules:
- user_story: exactly one sentence, at most {MAX_STORY_CHARS} characters, in the form \
"As a <role>, I want <capability>, so that <benefit>." Pick the role who benefits (editor, visitor, \
administrator, site builder).
- success_criteria: {MIN_CRITERIA} to {MAX_CRITERIA} items, each one line of at most {MAX_CRITERION_CHARS} \
characters, each checkable by a developer or tester. Ground them in the facts given; do not add requirements \
the facts do not support.
- Machine names: use only those listed for the ticket, exactly as written. Never invent or guess one; refer to \
anything else by its label.
- No tables, no Markdown headings, no line breaks inside an item.
Answer only through the {OUTPUT_NAME} structure."""

_ACTIONS = {
    "build": "build it new",
    "change": "change what already exists to match the updated specification",
    "remove": "remove it from the site",
    "hold": "build it, but the specification marks it on hold until open questions are settled",
}


def user_prompt(brief: TicketBrief, feedback: str | None = None) -> str:
    """The per-ticket prompt: the site, the ticket, its facts, notes and the machine names it may use."""
    lines = [
        f"Site: {brief.site_name or 'unnamed'}" + (f" ({brief.site_description})" if brief.site_description else ""),
        f"Ticket {brief.key}, area {brief.area}: {brief.subject} ({brief.kind}).",
        f"Work: {_ACTIONS[brief.action]}.",
        *_section("Facts from the specification", brief.facts),
        *_section("Notes from the specification", brief.notes),
        *_section("Machine names you may use", sorted(brief.machine_names)),
    ]
    if not brief.machine_names:
        lines.append("This ticket has no machine names: do not write any.")
    if feedback:
        lines.append(f"Your previous answer was rejected: {feedback} Write the whole answer again, fixed.")
    return "\n".join(lines)


def approx_prompt_tokens(brief: TicketBrief, feedback: str | None = None) -> int:
    """Roughly what one call's input costs: the system prompt, the answer's schema and the ticket's prompt."""
    return approx_tokens(SYSTEM_PROMPT + json.dumps(PROSE_SCHEMA) + user_prompt(brief, feedback))


def _section(title: str, items: tuple[str, ...] | list[str]) -> list[str]:
    return [f"{title}:", *(f"- {item}" for item in items)] if items else []
