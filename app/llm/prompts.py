"""What we tell the model, and the structured answer we ask it for."""

from __future__ import annotations

import json
from typing import Any

from app.llm.base import TicketBrief
from app.llm.pricing import approx_tokens
from app.llm.validation import MAX_CRITERIA, MAX_CRITERION_CHARS, MAX_STORY_CHARS

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
You write two parts of a Jira ticket for a Drupal site build: a user story and the success criteria that the \
spec's notes call for.
The ticket already carries the configuration tables, copied from the specification, and a checklist of \
criteria derived from every row (each field's type, required flag, values, widget and targets; each display; \
each state and transition). You are shown that checklist: never repeat or restate it, and never write tables.

Rules:
- user_story: exactly one sentence, at most {MAX_STORY_CHARS} characters: "As <persona>, I want <capability>, \
so that <benefit>." Use the persona given for the ticket; it was chosen from the spec's access notes and the \
kind of work. Name the capability concretely, not "built as specified".
- success_criteria: 0 to {MAX_CRITERIA} items, each one line of at most {MAX_CRITERION_CHARS} characters. Write \
one only for something the notes (or the findings) require that the existing checklist does not already say, \
phrased so a tester can check it on the site. No notes beyond the checklist means an empty list.
- Machine names: use only those listed for the ticket, exactly as written; one marked invalid is the spec's \
mistake, so refer to that item by its label. Never invent or guess a machine name.
- No tables, no Markdown headings, no line breaks inside an item.
Answer only through the {OUTPUT_NAME} structure, as JSON.

Example of a good answer, for a content type whose note says "Site admins can add/edit/delete only. Set \
metatags for noindex":
{{"user_story": "As a site administrator, I want an Announcement content type, so that I can post sitewide or \
section notices that only administrators manage.", "success_criteria": ["A content editor without the site \
admin role cannot create, edit or delete an announcement.", "An announcement page carries a robots metatag of \
noindex, nofollow."]}}
Example of a good answer, for a view whose displays are blocks with no notes beyond the checklist:
{{"user_story": "As a site visitor, I want lists of recent stories beside the pages I read, so that I can find \
related news without searching.", "success_criteria": []}}"""

_ACTIONS = {
    "build": "build it new",
    "change": "change what already exists to match the updated specification",
    "remove": "remove it from the site",
    "hold": "build it, but the specification marks it on hold until open questions are settled",
}
# A 40-field ticket's checklist is long; the model needs its gist, not every line, to avoid repeating it.
_MAX_LISTED_CRITERIA = 60


def user_prompt(brief: TicketBrief, feedback: str | None = None) -> str:
    """The per-ticket prompt: everything the ticket knows, each part under its own heading."""
    criteria = list(brief.criteria[:_MAX_LISTED_CRITERIA])
    if len(brief.criteria) > _MAX_LISTED_CRITERIA:
        criteria.append(f"... and {len(brief.criteria) - _MAX_LISTED_CRITERIA} more of the same kind")
    lines = [
        f"Site: {brief.site_name or 'unnamed'}" + (f" ({brief.site_description})" if brief.site_description else ""),
        f"Ticket {brief.key}, area {brief.area}: {brief.subject} ({brief.kind}).",
        f"Work: {_ACTIONS[brief.action]}.",
        *([f"Persona for the user story: {brief.persona}."] if brief.persona else []),
        *_section("Facts from the specification", brief.facts),
        *_section("Notes from the specification (write criteria only for what these require)", brief.notes),
        *_section("The checklist the ticket already has (do not repeat it)", criteria),
        *_section("Items by label = machine name", brief.names),
        *_section("Rows on hold in this ticket", brief.held),
        *_section("Spec findings on this ticket", brief.findings),
        *_section("Blocked by (built first, in other tickets)", brief.blockers),
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
