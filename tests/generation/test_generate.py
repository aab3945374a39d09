"""The asynchronous run: prose from the writer into the ADF, flags, usage, callbacks, cancellation."""

from __future__ import annotations

import pytest

from app.generation import (
    DraftSet,
    GenerationBlockedError,
    GenerationResult,
    TicketDraft,
    draft_tickets,
    finish_ticket,
    generate_tickets,
)
from app.generation.briefs import brief_for
from app.intake import IntakeResult, UploadedFile
from app.llm import LLMUnavailableError, ResilientWriter, RetryPolicy, SimulatedProvider, TicketBrief, compose
from tests.generation.helpers import intake

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_the_prose_goes_into_the_description(uwec_drafts: DraftSet, uwec_result: GenerationResult) -> None:
    # Announcement: a ticket whose tables and criteria all fit inline.
    index = next(i for i, d in enumerate(uwec_drafts.drafts) if d.key == "bundle.node.announcement.build")
    ticket, draft = uwec_result.tickets[index], uwec_drafts.drafts[index]
    prose = compose(brief_for(draft))
    story = ticket.description["content"][1]
    assert story["content"][0]["text"] == prose.user_story
    tasks = next(n for n in ticket.description["content"] if n["type"] == "taskList")
    # The data's criteria first, then the writer's (for what the notes say in prose).
    expected = [*draft.criteria, *prose.success_criteria]
    assert (
        len(draft.criteria) == 13
        and prose.success_criteria[-1] == "Done as the spec notes: Set metatags for no index/nofollow, etc."
    )
    assert [item["content"][0]["text"] for item in tasks["content"]] == expected
    assert ticket.prose_flag is None and ticket.usage["provider"] == "offline"
    assert uwec_result.usage["tickets"] == 109 and uwec_result.usage["cost_usd"] == 0


def test_a_stored_draft_finishes_into_the_same_ticket(uwec_drafts: DraftSet, uwec_result: GenerationResult) -> None:
    for draft, ticket in list(zip(uwec_drafts.drafts, uwec_result.tickets, strict=True))[:20]:
        stored = TicketDraft.from_dict(draft.to_dict())
        assert stored == draft
        again = finish_ticket(stored, compose(brief_for(stored)))
        assert again.description == ticket.description and again.attachments == ticket.attachments


def test_briefs_carry_the_tickets_machine_names_and_notes(uwec_drafts: DraftSet) -> None:
    draft = next(d for d in uwec_drafts.drafts if d.key == "bundle.node.academic_program.build")
    brief = brief_for(draft, site_name="UWEC")
    assert {"academic_program", "field_degree_level", "node", "college"} <= brief.machine_names
    assert brief.kind == "content type" and brief.subject == "Academic Program content type"
    assert brief.notes and brief.notes[0].startswith("Need teaser") and brief.site_name == "UWEC"
    held = next(d for d in uwec_drafts.drafts if d.on_hold)
    assert brief_for(held).action == "hold"


class _Down:
    """A provider that is always unavailable: every ticket keeps the offline text and is flagged."""

    name = "down"
    model = "down-1"

    async def complete(self, brief: TicketBrief, feedback: str | None) -> None:
        raise LLMUnavailableError("503 from the provider")

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def _small_spec() -> IntakeResult:
    bundles = "ID,Name,Machine name,X,Type\n,Alpha,alpha,a,Content type\n,Beta,beta,a,Paragraph type\n"
    return intake([UploadedFile("Bundles.csv", bundles.encode())])


@pytest.mark.anyio
async def test_a_failed_call_is_flagged_and_keeps_the_offline_text(anyio_backend: str) -> None:
    writer = ResilientWriter(_Down(), policy=RetryPolicy(attempts=1))
    result = await generate_tickets(_small_spec(), writer=writer)
    assert [t.prose_flag is not None for t in result.tickets] == [True, True]
    assert result.usage["flagged"] == 2


@pytest.mark.anyio
async def test_usage_is_recorded_per_ticket_and_per_run(anyio_backend: str) -> None:
    seen: list[str] = []

    async def on_ticket(ticket: object) -> None:
        seen.append(ticket.key)  # type: ignore[attr-defined]

    writer = ResilientWriter(SimulatedProvider(latency_s=0, model="gpt-4o-mini"))
    result = await generate_tickets(_small_spec(), writer=writer, site_name="Demo", on_ticket=on_ticket)
    assert sorted(seen) == ["bundle.node.alpha.build", "bundle.paragraph.beta.build"]
    per_ticket = [t.usage["input_tokens"] for t in result.tickets]
    assert all(tokens > 0 for tokens in per_ticket) and result.usage["input_tokens"] == sum(per_ticket)
    assert result.usage["cost_usd"] > 0


@pytest.mark.anyio
async def test_a_cancelled_run_lists_what_it_did_not_write(anyio_backend: str) -> None:
    result = await generate_tickets(_small_spec(), concurrency=1, is_cancelled=lambda: True)
    assert result.tickets == () and result.not_written == ("bundle.node.alpha.build", "bundle.paragraph.beta.build")


def test_a_blocking_intake_is_refused() -> None:
    blocked = intake([UploadedFile("Mystery.csv", b"foo,bar\n1,2\n")])
    assert blocked.blocking
    with pytest.raises(GenerationBlockedError, match="cannot be turned into tickets"):
        draft_tickets(blocked)
