"""A description over Jira's limit moves its largest tables into CSV and Markdown attachments."""

from __future__ import annotations

import csv
import io

import pytest

from app.generation import MAX_DESCRIPTION, GenerationResult, draft_tickets, finish_ticket, validate_adf
from app.generation.adf import size
from app.intake import UploadedFile
from app.llm import TicketProse
from tests.generation.helpers import adf_tables, grid, intake

pytestmark = [pytest.mark.unit, pytest.mark.generation]

FIELDS_HEADER = "ID,Bundle,Field label,Machine name,X,Field type,Ref. bundle,Req'd,Vals.,Form widget,Help text\n"


def _giant_spec(count: int) -> list[UploadedFile]:
    bundles = "ID,Name,Machine name,X,Type,Description\n,Giant,giant,a,Content type,A bundle with many fields\n"
    rows = "".join(
        f',Giant (Content type),Field {n},field_f{n},a,Text (plain),,n,1,Textfield,"<em>Help</em> {n}"\n'
        for n in range(count)
    )
    return [UploadedFile("Bundles.csv", bundles.encode()), UploadedFile("Fields.csv", (FIELDS_HEADER + rows).encode())]


def test_a_bundle_with_hundreds_of_fields_attaches_its_field_table() -> None:
    drafts = draft_tickets(intake(_giant_spec(400)))
    (draft,) = drafts.drafts
    assert draft.title == "Content model: Build Giant content type (400 fields)"
    ticket = finish_ticket(draft, TicketProse("As a content editor, I want it, so that it works.", ("a", "b")))
    assert size(ticket.description) <= MAX_DESCRIPTION and validate_adf(ticket.description) == []
    # 400 fields' Behat check and criteria do not fit either: they go into files of their own.
    assert [a.filename for a in ticket.attachments] == [
        "fields.csv",
        "tables.md",
        "acceptance.feature",
        "success-criteria.md",
    ]
    assert ticket.attachments[2].content.count("| Giant (Content type) |") == 400
    checklist = ticket.attachments[3].content.splitlines()
    assert (
        "- [ ] Field Field 399 (field_f399): Text (plain) [string], optional, 1 value, widget Textfield "
        "[string_textfield]" in checklist[-1]
    )
    # The small settings table stays in the description; the field table is named instead.
    assert len(list(adf_tables(ticket.description))) == 1
    assert "fields.csv" in str(ticket.description)
    records = list(csv.reader(io.StringIO(ticket.attachments[0].content)))
    assert records[0][:2] == ["Field label", "Machine name"] and len(records) == 401
    assert records[1][-1] == "<em>Help</em> 0"
    markdown = ticket.attachments[1].content
    assert "&lt;em&gt;Help&lt;/em&gt; 399" in markdown and ticket.attachments[1].media_type == "text/markdown"


def test_a_small_bundle_keeps_its_tables_inline() -> None:
    (draft,) = draft_tickets(intake(_giant_spec(5))).drafts
    ticket = finish_ticket(draft, TicketProse("As a content editor, I want it, so that it works.", ("a", "b")))
    assert ticket.attachments == () and len(list(adf_tables(ticket.description))) == 2


def test_long_spec_notes_move_into_an_attachment_instead_of_blocking_the_export() -> None:
    note = ("The editors asked for this. " * 2000)[:49_720]
    bundles = f'ID,Name,Machine name,X,Type,Description,Settings/notes\n,Article,article,a,Content type,News,"{note}"\n'
    (draft,) = draft_tickets(intake([UploadedFile("Bundles.csv", bundles.encode())])).drafts
    assert draft.notes == (note,)

    ticket = finish_ticket(draft, TicketProse("As an editor, I want it, so that it works.", ("a",)))

    assert size(ticket.description) <= MAX_DESCRIPTION and validate_adf(ticket.description) == []
    [notes] = [a for a in ticket.attachments if a.filename == "notes.md"]
    assert note in notes.content and notes.media_type == "text/markdown"
    assert "see the attached notes.md" in str(ticket.description) and note not in str(ticket.description)


def test_short_notes_stay_in_the_description() -> None:
    bundles = "ID,Name,Machine name,X,Type,Description,Settings/notes\n,Article,article,a,Content type,News,Keep it\n"
    (draft,) = draft_tickets(intake([UploadedFile("Bundles.csv", bundles.encode())])).drafts
    ticket = finish_ticket(draft, TicketProse("As an editor, I want it, so that it works.", ("a",)))
    assert "Keep it" in str(ticket.description) and "notes.md" not in [a.filename for a in ticket.attachments]


def test_a_bundles_settings_stay_inline_when_its_field_table_is_attached(uwec_result: GenerationResult) -> None:
    """The field table's summary shrinks to text before the small settings table would have to go."""
    for key in ("bundle.node.department.build", "bundle.node.academic_program.build", "bundle.node.bio.build"):
        ticket = next(t for t in uwec_result.tickets if t.key == key)
        names = {a.filename for a in ticket.attachments}
        assert "fields.csv" in names and not any("settings" in name for name in names), key
        first_rows = [grid(table)[0] for table in adf_tables(ticket.description)]
        assert [("tableHeader", "Name"), ("tableCell", ticket.title.split("Build ")[1].split(" content type")[0])] in (
            first_rows
        ), key
