"""Behat acceptance tests in the Drupal Spec Tool's step and table format, per ticket and for the whole spec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.generation import DraftSet, GenerationResult
from app.generation.adf import plain_text
from app.generation.behat import STEPS, spec_feature
from app.generation.description import WHOLE_SITE_NOTE
from app.intake import IntakeResult, UploadedFile
from tests.generation.helpers import intake

pytestmark = [pytest.mark.unit, pytest.mark.generation]

REVIEW_TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "_review.html"

# The contract, as the Spec Tool's contexts state it (acquia/drupal-spec-tool src/Context/ContentModelContext.php,
# ViewsContext.php, MediaContext.php, AccessControlContext.php, MenuContext.php, WorkflowContext.php):
# each step's phrase and the header its TableEqualityAssertion expects.
SPEC_TOOL_CONTRACT = {
    phrase: header.split(", ")
    for phrase, header in (
        ("exactly the following content entity type bundles should exist", "Name, Machine name, Type, Description"),
        (
            "exactly the following fields should exist",
            "Bundle, Field label, Machine name, Field type, Required, Cardinality, Form widget, Translatable, "
            "Help text",
        ),
        ("exactly the following views should exist", "Name, Machine name, Base table, Status, Description"),
        ("exactly the following views displays should exist", "View, Title, Machine name, Display plugin"),
        ("exactly the following image styles should exist", "Style name, Machine name"),
        ("exactly the following image effects should exist", "Image style, Effect, Summary"),
        ("exactly the following roles should exist", "Name, Machine name"),
        ("exactly the following menus should exist", "Name, Machine name, Description"),
        ("exactly the following workflows should exist", "Label, Machine name, Type"),
        ("exactly the following workflow states should exist", "Workflow, Label, Machine name"),
        (
            "exactly the following workflow transitions should exist",
            "Workflow, Label, Machine name, From state, To state",
        ),
    )
}


def parse(feature: str) -> dict[str, list[list[str]]]:
    """Step phrase (without "Then ") -> its table, header first; cells unescaped as Gherkin reads them."""
    tables: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in feature.splitlines():
        stripped = line.strip()
        if stripped.startswith("Then "):
            current = tables.setdefault(stripped.removeprefix("Then "), [])
        elif stripped.startswith("|"):
            cells = re.split(r"(?<!\\)\|", stripped)[1:-1]
            current.append([c.strip().replace("\\|", "|").replace("\\n", "\n").replace("\\\\", "\\") for c in cells])
    return tables


def test_every_step_and_header_is_the_spec_tools_own() -> None:
    assert {s.phrase.removeprefix("Then "): list(s.header) for s in STEPS} == SPEC_TOOL_CONTRACT


def test_a_bundle_tickets_fields_scenario_has_a_row_per_field_of_its_table(
    uwec_drafts: DraftSet, uwec_result: GenerationResult
) -> None:
    checked = 0
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        if not draft.behat:
            continue
        tables = parse(draft.behat)
        for phrase, table in tables.items():
            assert table[0] == SPEC_TOOL_CONTRACT[phrase], draft.key
        inline = [plain_text(n) for n in ticket.description["content"] if n["type"] == "codeBlock"]
        assert draft.behat.rstrip("\n") in inline or "acceptance.feature" in {a.filename for a in ticket.attachments}
        fields_table = next((t for t in draft.tables if t.title == "Fields"), None)
        if fields_table is None:
            continue
        header = [c.text for c in fields_table.rows[0]]
        spec_rows = [{h: c.text for h, c in zip(header, row, strict=True)} for row in fields_table.rows[1:]]
        expected = list(  # a row repeated in the spec is one row for the Spec Tool
            dict.fromkeys(
                (r["Field label"], r["Machine name"], r["Field type"])
                for r in spec_rows
                if r["Machine name"] not in ("-", "")
            )
        )
        behat = tables.get("exactly the following fields should exist", [])[1:]  # none when only base fields
        assert [(row[1], row[2], row[3]) for row in behat] == expected, draft.key
        bundle = (
            next(d for d in draft.tables[0].rows if d[0].text == "Name")[1].text if draft.key.endswith(".build") else ""
        )
        assert not bundle or all(row[0].startswith(f"{bundle} (") for row in behat)
        checked += 1
    assert checked >= 50


def test_each_tickets_scenario_says_it_passes_only_within_the_whole_sites_feature(
    uwec_drafts: DraftSet, uwec_result: GenerationResult
) -> None:
    # The Spec Tool's steps compare the whole site (ContentModelContext::assertFields reads every bundle's fields), so
    # a ticket's rows alone fail on a site with anything else: each ticket says where they pass, before its scenario.
    with_behat = 0
    for draft, ticket in zip(uwec_drafts.drafts, uwec_result.tickets, strict=True):
        blocks = ticket.description["content"]
        texts = [plain_text(n) for n in blocks]
        if not draft.behat:
            assert WHOLE_SITE_NOTE not in texts, draft.key
            continue
        with_behat += 1
        heading = texts.index("Acceptance tests (Drupal Spec Tool, Behat)")
        assert texts[heading + 1] == WHOLE_SITE_NOTE, draft.key
    assert with_behat >= 50
    # The note names the review's button by its text.
    button = re.search(r'data-action="acceptance"[^>]*>([^<]+)</button>', REVIEW_TEMPLATE.read_text())
    assert button and f"Review: {button[1]}" in WHOLE_SITE_NOTE


def test_required_cardinality_and_translatable_are_written_as_the_context_reads_them(uwec_drafts: DraftSet) -> None:
    draft = next(d for d in uwec_drafts.drafts if d.key == "bundle.node.academic_program.build")
    rows = {row[2]: row for row in parse(draft.behat)["exactly the following fields should exist"][1:]}
    assert rows["field_degree_level"] == [
        "Academic Program (Content type)",
        "Degree Level",
        "field_degree_level",
        "List (text)",
        "Required",
        "1",
        "Select list",
        "",
        "",
    ]
    assert rows["field_program_type"][5] == "Unlimited" and rows["field_college"][4] == ""
    workflow = next(d for d in uwec_drafts.drafts if d.key == "workflow.marketing.build")
    transitions = parse(workflow.behat)["exactly the following workflow transitions should exist"]
    assert len(transitions) == 17 and transitions[1] == [
        "Marketing",
        "Create New Draft",
        "create_new_draft",
        "Draft",
        "Draft",
    ]


def test_removal_tickets_carry_no_behat_check(uwec_drafts: DraftSet) -> None:
    assert all(not d.behat for d in uwec_drafts.drafts if d.action == "remove")


def test_the_whole_spec_is_one_feature_of_what_exists_when_done(uwec_intake: IntakeResult) -> None:
    tables = parse(spec_feature(uwec_intake.model))
    bundles = {row[1] for row in tables["exactly the following content entity type bundles should exist"][1:]}
    assert "academic_program" in bundles and "social_media_links" in bundles  # to build, and there already (x)
    removed = {b.machine_name for b in uwec_intake.model.bundles if b.status.strip() == "d"}
    assert removed and not removed & bundles
    fields = tables["exactly the following fields should exist"][1:]
    assert all(row[2] != "field_sitewide" for row in fields if row[0].startswith("Announcement"))
    roles = [row[1] for row in tables["exactly the following roles should exist"][1:]]
    assert {"administrator", "site_admin", "marketing_editor"} <= set(roles)


def test_pipes_and_newlines_in_a_cell_are_escaped() -> None:
    bundles = 'ID,Name,Machine name,X,Type,Description\n,Page,page,a,Content type,"A | B\nsecond line"\n'
    feature = spec_feature(intake([UploadedFile("Bundles.csv", bundles.encode())]).model)
    assert "| A \\| B\\nsecond line |" in feature
    assert (
        parse(feature)["exactly the following content entity type bundles should exist"][1][3] == "A | B\nsecond line"
    )
