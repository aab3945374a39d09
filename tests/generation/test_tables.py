"""Every value in every configuration table is its source cell, and markup in the spec stays text."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult
from app.intake import IntakeResult
from tests.generation.helpers import adf_tables, grid, spec_grid, texts

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_every_table_value_equals_its_source_cell(
    uwec_intake: IntakeResult, uwec_drafts: DraftSet, uwec_result: GenerationResult
) -> None:
    model = uwec_intake.model
    cells = {
        (i.source.file, i.source.record): i.cells
        for name in model.counts()
        if name != "storages"
        for i in getattr(model, name)
    }
    checked = 0
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        shown = [spec_grid(t) for t in draft.tables]
        for table in adf_tables(ticket.description):
            assert grid(table) in shown  # every ADF table is one of the draft's tables, cell for cell
        for table in draft.tables:  # attached tables too: the CSV is written from the same cells
            for row in table.rows:
                for cell in row:
                    if not cell.is_heading:
                        assert cell.text == cells[(cell.file, cell.record)][cell.header].strip()
                        checked += 1
    assert checked > 5000


def test_tables_in_the_description_are_the_drafts_tables(uwec_drafts: DraftSet, uwec_result: GenerationResult) -> None:
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        attached = {a.filename.removesuffix(".csv") for a in ticket.attachments}
        expected = [spec_grid(t) for t in draft.tables if t.title.lower().replace(" ", "-") not in attached]
        assert [grid(t) for t in adf_tables(ticket.description)] == expected, draft.key


def test_bookkeeping_columns_and_lookups_are_left_out(uwec_drafts: DraftSet) -> None:
    program = next(d for d in uwec_drafts.drafts if d.key == "bundle.node.academic_program.build")
    headings = [c.text for c in program.tables[1].rows[0]]
    assert headings[:2] == ["Field label", "Machine name"] and "Help text" in headings
    assert not {"ID", "Dev", "QA", "Bundle", "Bundle machine name"} & set(headings)


def test_html_in_help_text_is_shown_as_text(uwec_tickets: dict[str, object]) -> None:
    ticket = uwec_tickets["bundle.node.college.build"]
    nodes = [n for n in texts(ticket.description) if "<strong>" in n["text"]]  # type: ignore[attr-defined]
    assert nodes and nodes[0]["text"].startswith("<strong>Optimal image size:</strong>")
    assert all("marks" not in node for node in nodes)
