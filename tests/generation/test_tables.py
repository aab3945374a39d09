"""Every value in every configuration table is its source cell, and markup in the spec stays text."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult
from app.generation.adf import plain_text
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
        shown = [spec_grid(t) for t in draft.tables] + [spec_grid(s) for t in draft.tables if (s := t.summary())]
        for table in adf_tables(ticket.description):
            assert grid(table) in shown  # every ADF table is one of the draft's tables (or its summary), cell for cell
        for table in draft.tables:  # attached tables too: the CSV is written from the same cells
            for row in table.rows:
                for cell in row:
                    if not cell.is_heading:
                        assert cell.text == cells[(cell.file, cell.record)][cell.header].strip()
                        checked += 1
    assert checked > 5000


def test_tables_in_the_description_are_the_drafts_tables(uwec_drafts: DraftSet, uwec_result: GenerationResult) -> None:
    """A table is shown whole, or, when attached, by its summary columns (as a table or as plain text)."""
    summaries_as_text = set()
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        attached = {a.filename.removesuffix(".csv") for a in ticket.attachments}
        shown = [grid(t) for t in adf_tables(ticket.description)]
        blocks = [plain_text(n) for n in ticket.description["content"] if n["type"] == "codeBlock"]
        expected = []
        for table in draft.tables:
            summary = table.summary()
            if table.title.lower().replace(" ", "-") not in attached:
                expected.append(spec_grid(table))
            elif summary is not None and summary.to_text() in blocks:
                summaries_as_text.add(draft.key)
            elif summary is not None and spec_grid(summary) in shown:
                expected.append(spec_grid(summary))
        assert shown == expected, draft.key
    # The largest content types keep every field's summary inline, as text (and their settings table whole); so do
    # the two largest removal groups, whose summary names each field's bundle.
    assert summaries_as_text == {
        "bundle.node.academic_program.build",
        "bundle.node.bio.build",
        "bundle.node.department.build",
        "remove.bundle.node",
        "remove.bundle.paragraph",
    }


def test_every_field_row_keeps_label_machine_name_and_type_inline(uwec_result: GenerationResult) -> None:
    program = next(t for t in uwec_result.tickets if t.key == "bundle.node.academic_program.build")
    assert "fields.csv" in {a.filename for a in program.attachments}
    (block,) = [plain_text(n) for n in program.description["content"] if n["type"] == "codeBlock"]
    heading, rule, *rows = block.splitlines()
    assert [h.strip() for h in heading.split("|")] == [
        "Field label",
        "Machine name",
        "Field type",
        "Reference target",
        "Required",
        "Cardinality",
        "Form widget",
    ]
    assert len(rows) == 41 and set(rule) <= {"-", "+"}
    degree = next(r for r in rows if "field_degree_level" in r)
    assert [c.strip() for c in degree.split("|")] == [
        "Degree Level",
        "field_degree_level",
        "List (text)",
        "",
        "y",
        "1",
        "Select list",
    ]


def test_abbreviated_headings_are_spelled_out_and_values_kept(uwec_drafts: DraftSet) -> None:
    announcement = next(d for d in uwec_drafts.drafts if d.key == "bundle.node.announcement.build")
    settings = {row[0].text: (row[1].text, row[1].header) for row in announcement.tables[0].rows}
    assert settings["Spec status"] == ("a", "X") and settings["Moderated"] == ("y", "Mod.")
    assert settings["Searchable"] == ("n", "Srch.") and "Translatable" not in settings  # empty: left out
    headings = [c.text for c in announcement.tables[1].rows[0]]
    assert {"Required", "Cardinality", "Spec status"} <= set(headings) and not {"Req'd", "Vals.", "X"} & set(headings)
    view = next(d for d in uwec_drafts.drafts if d.key == "view.departments.build")
    view_settings = {row[0].text: row[1].text for row in view.tables[0].rows}
    assert view_settings["Spec status"] == "a" and view_settings["Status"] == "Enabled"


def test_bookkeeping_columns_and_lookups_are_left_out(uwec_drafts: DraftSet) -> None:
    program = next(d for d in uwec_drafts.drafts if d.key == "bundle.node.academic_program.build")
    headings = [c.text for c in program.tables[1].rows[0]]
    assert headings[:2] == ["Field label", "Machine name"] and "Help text" in headings
    assert not {"ID", "Dev", "QA", "Bundle", "Bundle machine name"} & set(headings)


def test_html_in_a_cell_is_shown_as_code(uwec_result: GenerationResult) -> None:
    ticket = next(t for t in uwec_result.tickets if t.key == "bundle.node.announcement.build")
    cells = [t for table in adf_tables(ticket.description) for t in texts(table)]
    nodes = [n for n in cells if "<strong>" in n["text"]]
    assert nodes and nodes[0]["text"].startswith("Enter the URL section path(s)")
    assert all(node["marks"] == [{"type": "code"}] for node in nodes)
    plain = [n for n in cells if n["text"] == "Smart date range"]
    assert plain and all("marks" not in n for n in plain)


def test_no_field_row_is_only_in_an_attachment(uwec_drafts: DraftSet, uwec_result: GenerationResult) -> None:
    rows_checked = 0
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        shown = [{c for _, c in row} for table in adf_tables(ticket.description) for row in grid(table)]
        shown += [
            {cell.strip() for cell in line.split("|")}
            for node in ticket.description["content"]
            if node["type"] == "codeBlock"
            for line in plain_text(node).splitlines()
        ]
        for table in (t for t in draft.tables if t.title == "Fields"):
            header = [c.text for c in table.rows[0]]
            columns = [header.index(h) for h in ("Field label", "Machine name", "Field type")]
            for row in table.rows[1:]:
                assert any({row[i].text for i in columns} <= cells for cells in shown), (draft.key, row[0].text)
                rows_checked += 1
    assert rows_checked == 484


def test_a_removal_of_several_bundles_names_each_fields_bundle_in_its_summary(uwec_result: GenerationResult) -> None:
    removal = next(t for t in uwec_result.tickets if t.key == "remove.bundle.node")
    (block,) = [plain_text(n) for n in removal.description["content"] if n["type"] == "codeBlock"]
    heading, _, *rows = block.splitlines()
    assert [h.strip() for h in heading.split("|")][:3] == ["Bundle", "Field label", "Machine name"]
    bundles = {row.split("|")[0].strip() for row in rows}  # as each row writes it (UWEC has both cases)
    assert bundles == {"Event (Content type)", "Landing page (Content type)", "Landing Page (Content type)"}
