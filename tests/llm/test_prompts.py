"""What the model is told: everything the ticket knows, through the real OpenAI and Anthropic SDKs (MockTransport)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from app.generation import draft_tickets
from app.generation.briefs import brief_for
from app.llm import LLMConfig, TicketBrief, build_writer
from app.llm.prompts import SYSTEM_PROMPT
from tests.generation.helpers import intake, uwec_uploads

if TYPE_CHECKING:
    from conftest import RecordedSleep, Replies, ScriptedServer

pytestmark = [pytest.mark.unit, pytest.mark.generation]

OPENAI = LLMConfig(provider="openai", model="gpt-4o-mini", api_key="sk-test", max_retries=0)
ANTHROPIC = LLMConfig(provider="anthropic", model="claude-sonnet-4-5-20250929", api_key="sk-ant-test", max_retries=0)


@pytest.fixture(scope="module")
def uwec_briefs() -> dict[str, TicketBrief]:
    return {d.key: brief_for(d, site_name="UWEC") for d in draft_tickets(intake(uwec_uploads())).drafts}


def _prompt(config: LLMConfig, body: dict[str, Any]) -> tuple[str, str]:
    if config.provider == "anthropic":
        return str(body["system"]), str(body["messages"][0]["content"])
    system, user = body["messages"]
    return str(system["content"]), str(user["content"])


@pytest.mark.anyio
@pytest.mark.parametrize("config", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
async def test_the_model_sees_criteria_notes_names_findings_held_rows_and_blockers(
    config: LLMConfig,
    server: type[ScriptedServer],
    replies: type[Replies],
    sleep: RecordedSleep,
    uwec_briefs: dict[str, TicketBrief],
) -> None:
    reply = replies.anthropic() if config.provider == "anthropic" else replies.openai()
    fake = server(reply)
    brief = uwec_briefs["bundle.paragraph.events_list.build"]
    await build_writer(config, fake.client(), sleep=sleep).write(brief)

    system, user = _prompt(config, fake.bodies()[0])
    assert system == SYSTEM_PROMPT
    assert "Persona for the user story: a content editor." in user
    assert "The checklist the ticket already has (do not repeat it):\n- The paragraph type Events List" in user
    assert brief.criteria and all(f"- {c}" in user for c in brief.criteria)
    assert "Items by label = machine name:\n- Fields: " in user and "= field_" in user
    assert "Rows on hold in this ticket:" in user and all(row in user for row in brief.held) and brief.held
    assert "Blocked by (built first, in other tickets):" in user
    assert "- Content model: Build Academic Program content type (41 fields)" in user


@pytest.mark.anyio
async def test_invalid_machine_names_are_marked_and_notes_and_findings_are_given(
    server: type[ScriptedServer], replies: type[Replies], sleep: RecordedSleep, uwec_briefs: dict[str, TicketBrief]
) -> None:
    fake = server(replies.openai())
    brief = uwec_briefs["vocabularies.build"]
    await build_writer(OPENAI, fake.client(), sleep=sleep).write(brief)

    _, user = _prompt(OPENAI, fake.bodies()[0])
    assert "Editorial Access = Editorial Access (invalid machine name)" in user
    assert brief.notes and all(f"- {note}" in user for note in brief.notes)
    assert "Notes from the specification (write criteria only for what these require):" in user
    assert "Spec findings on this ticket:\n- warning, UWEC_Bundles.csv, row Editorial Access, Machine name: " in user


def test_the_system_prompt_asks_for_json_and_gives_two_short_examples() -> None:
    examples = [line for line in SYSTEM_PROMPT.split("\n") if line.startswith('{"user_story"')]
    assert len(examples) == 2
    for example in examples:
        answer = json.loads(example)
        assert answer["user_story"].startswith("As a ") and ", so that " in answer["user_story"]
        assert all(len(c) <= 300 for c in answer["success_criteria"])
    assert "as JSON" in SYSTEM_PROMPT and "never repeat or restate it" in SYSTEM_PROMPT
    assert "marked invalid" in SYSTEM_PROMPT and "Never invent or guess a machine name" in SYSTEM_PROMPT
