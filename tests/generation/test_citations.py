"""Tickets cite their spec rows by what they are, not by position: a row added near the top of a file changes no
other ticket, so a revision plan lists the tickets whose content changed."""

from __future__ import annotations

import asyncio

import pytest

from app.adf.markdown import to_markdown
from app.db.models import TicketRecord
from app.generation import GenerationResult, generate_tickets
from app.generation.citations import RowRef, source_lines
from app.pipeline.issue_requests import content_hash
from app.pipeline.revision_plan import CHANGED, JiraState, plan_revision
from tests.generation.helpers import intake, rewrite, uwec_uploads

pytestmark = [pytest.mark.unit, pytest.mark.generation]

ACADEMIC_PROGRAM, JOB = "bundle.node.academic_program.build", "bundle.node.job.build"


def planned(result: GenerationResult) -> list[TicketRecord]:
    """The tickets as a session stores them, which is what a revision plan compares."""
    return [
        TicketRecord(
            tenant_id=1, session_id=1, key=t.key, title=t.title, area=t.area, action=t.action, description=t.description
        )
        for t in result.tickets
    ]


def revised_uwec() -> GenerationResult:
    """UWEC with a field added as the third row of the fields file and one field retyped further down."""

    def fields(records: list[list[str]]) -> list[list[str]]:
        added = [*records[1]]
        added[2:5] = ["Program code", "field_program_code", "n"]
        for record in records:
            if record[1] == "Job (Content type)" and record[3] == "field_job_id":
                record[9] = "Number (integer)"
        return [*records[:2], added, *records[2:]]

    uploads = [rewrite(u, fields) if u.name == "UWEC_Fields.csv" else u for u in uwec_uploads()]
    return asyncio.run(generate_tickets(intake(uploads)))


def test_a_row_added_near_the_top_changes_only_the_ticket_it_is_in(
    uwec_result: GenerationResult,
) -> None:
    previous, revised = planned(uwec_result), planned(revised_uwec())
    sent = {t.key: content_hash(t.title, t.description) for t in previous}
    in_jira = {key: JiraState(f"DTG-{n}", value, value) for n, (key, value) in enumerate(sent.items())}
    plan = plan_revision(previous, revised, in_jira)
    # Before, every ticket citing a row below the added one changed too: 65 of UWEC's 109 tickets.
    # The four other tickets of Academic Program's reference cycle name it in their cycle finding, by its title
    # without the count that the added field changes.
    changed = {c.ticket_key for c in plan.of_kind(CHANGED)}
    assert changed == {ACADEMIC_PROGRAM, JOB}, sorted(changed)
    assert len(plan.changes) == len(previous)
    job = next(c for c in plan.changes if c.ticket_key == JOB)
    assert [line[0] for line in job.diff if line[0] in "+-" and line[:3] not in ("+++", "---")] == ["-", "+"] * 2


def test_the_source_names_each_row_by_its_file_parent_and_machine_name(uwec_result: GenerationResult) -> None:
    described = {t.key: to_markdown(t.description) for t in uwec_result.tickets}
    source = described[JOB].split("Source")[-1]
    assert "- UWEC_Bundles.csv: job" in source and "- UWEC_Fields.csv: 17 rows of Job (Content type)" in source
    # No ticket names a row by its position, in its Source, its findings or its rows on hold.
    assert not [key for key, text in described.items() if " record " in text or "(line " in text]


def test_a_parent_with_few_rows_lists_them_and_a_transition_is_named_once() -> None:
    rows = [
        RowRef("Bundles.csv", "", "image"),
        RowRef("Fields.csv", "Image (Media type)", "field_caption"),
        RowRef("Fields.csv", "Hero (Paragraph type)", "field_a"),
        *(RowRef("Fields.csv", "Job (Content type)", f"field_{n}") for n in range(4)),
        RowRef("Transitions.csv", "Marketing", "publish"),
        RowRef("Transitions.csv", "Marketing", "publish"),
    ]
    assert source_lines(rows) == [
        "Bundles.csv: image",
        "Fields.csv: field_caption of Image (Media type); field_a of Hero (Paragraph type); "
        "4 rows of Job (Content type)",
        "Transitions.csv: publish of Marketing",
    ]
