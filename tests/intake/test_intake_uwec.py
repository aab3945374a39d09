"""The UWEC reference export: counts, and the real defects it contains."""

from __future__ import annotations

import json

import pytest

from app.intake import Action, Severity, SpecKind

pytestmark = [pytest.mark.unit, pytest.mark.intake]

F = "UWEC_Fields.csv"


def test_every_file_is_recognised_with_its_counts(uwec, kit):
    kinds = {f.name: f.kind for f in uwec.files}
    assert kinds == {
        "UWEC_Bundles.csv": SpecKind.BUNDLES,
        "UWEC_CustomViewModes.csv": SpecKind.VIEW_MODES,
        "UWEC_CustomViews.csv": SpecKind.VIEWS,
        "UWEC_CustomViewsDisplays.csv": SpecKind.VIEW_DISPLAYS,
        F: SpecKind.FIELDS,
        "UWEC_Imagestyles.csv": SpecKind.IMAGE_STYLES,
        "UWEC_ResponsiveImageStyles.csv": SpecKind.RESPONSIVE_IMAGE_STYLES,
        "UWEC_Userroles.csv": SpecKind.ROLES,
        "UWEC_Workflows.csv": SpecKind.WORKFLOWS,
        "UWEC_Workflowstates.csv": SpecKind.WORKFLOW_STATES,
        "UWEC_Workflowtransitions.csv": SpecKind.WORKFLOW_TRANSITIONS,
    }
    assert sum(f.record_count for f in uwec.files) == 966
    fields = next(f for f in uwec.files if f.name == F)
    assert (fields.record_count, fields.physical_line_count, fields.encoding, fields.delimiter) == (
        609,
        617,
        "utf-8",
        ",",
    )
    assert all(f.used and f.confidence >= 0.9 for f in uwec.files)


def test_nothing_blocks_and_model_counts(uwec, kit):
    assert not uwec.blocking
    counts = uwec.model.counts()
    # 99 bundle records minus 4 separator rows; 609 field records minus 61 separators and 2 status-only rows.
    assert counts["bundles"] == 95
    assert counts["fields"] == 546
    assert (counts["views"], counts["displays"], counts["view_modes"]) == (16, 42, 31)
    assert (counts["image_styles"], counts["responsive_image_styles"], counts["roles"]) == (103, 24, 8)
    assert (counts["workflows"], counts["states"], counts["transitions"]) == (2, 7, 25)
    assert len(kit.only(uwec, "status_on_empty_row", F)) == 2


def test_scoped_bundle_keys(uwec, kit):
    by_key = uwec.model.bundle_by_key
    assert by_key[("media", "image")].label == "Image"
    assert by_key[("paragraph", "image")].label == "Image"
    assert by_key[("node", "academic_program")].action is Action.BUILD
    assert by_key[("node", "event")].action is Action.REMOVE
    assert by_key[("taxonomy_term", "author")].action is Action.HOLD
    program = uwec.model.fields_of(("node", "academic_program"))
    assert program[0].label == "Title" and program[0].is_base_field
    image = next(f for f in program if f.machine_name == "field_image")
    assert image.reference_targets == (("media", "image"),)
    assert image.cells["Ref. bundle"] == "Image (Media type)"
    assert image.source.file == F and image.source.record == 3 and image.source.line == 4


def test_storage_conflicts_five_of_each_kind(uwec, kit):
    types = kit.only(uwec, "storage_type_conflict")
    cards = kit.only(uwec, "storage_cardinality_conflict")
    assert len(types) == 5 and len(cards) == 5
    assert {f.message.split()[2] for f in types} == {
        "node.field_meta_description",
        "node.field_hero",
        "paragraph.field_headline",
        "paragraph.field_limit_list",
        "paragraph.field_hours",
    }
    hallmarks = next(f for f in cards if "node.field_hallmarks" in f.message)
    assert (hallmarks.column, hallmarks.value, hallmarks.suggestion) == ("Vals.", "*", "5")
    storage = uwec.model.storage_by_key[("node", "field_meta_description")]
    assert set(storage.field_types) == {"Text (plain, long)", "Text (formatted, long)"}


def test_invalid_machine_names(uwec, kit):
    bad = {(f.file, f.value): f for f in kit.only(uwec, "invalid_machine_name")}
    assert bad[("UWEC_Bundles.csv", "Editorial Access")].suggestion == "editorial_access"
    assert bad[(F, "Formatted Title")].severity is Severity.WARNING
    assert bad[(F, "Formatted Headline")].line == 358
    assert bad[("UWEC_CustomViews.csv", "contact/hours")].severity is Severity.INFO  # marked for deletion
    assert bad[("UWEC_CustomViewsDisplays.csv", "by department")].suggestion == "by_department"
    assert bad[("UWEC_CustomViewsDisplays.csv", "Sitewide")].record == 1
    # Image styles may use hyphens, as Drupal allows there.
    assert not [f for f in bad if f[0] == "UWEC_Imagestyles.csv" and "-" in f[1]]
    assert bad[(F, "-")].record == 373  # "Widgets" has no machine name and is not a base field


def test_references_to_things_that_do_not_exist(uwec, kit):
    unknown = {(f.file, f.column, f.value): f for f in kit.only(uwec, "unknown_reference")}
    contact = unknown[("UWEC_CustomViewsDisplays.csv", "View", "Contact")]
    assert contact.suggestion == "Contact/Hours"
    assert unknown[("UWEC_CustomViewModes.csv", "Entities Used On", "Program")].suggestion == "Academic Program"
    story = unknown[(F, "Ref. bundle", "Story Categories (Vocabulary)")]
    assert story.suggestion.startswith("News Categories")
    group = unknown[("UWEC_ResponsiveImageStyles.csv", "Image Style Group(s)", "200x200 Non Crop")]
    assert group.suggestion.startswith("200x200 (Non Crop)")
    assert all(f.who_can_fix == "spec_author" for f in unknown.values())


def test_label_case_differences_are_resolved_and_reported(uwec, kit):
    mismatches = {f.value for f in kit.only(uwec, "label_case_mismatch", F)}
    assert mismatches == {"Landing page (Content type)", "Remote video (Media type)"}
    landing = [f for f in uwec.model.fields if f.cells["Bundle"] == "Landing page (Content type)"]
    assert landing and all(f.bundle == ("node", "landing_page") for f in landing)


def test_lookup_columns_leaking_errors(uwec, kit):
    errors = {(f.file, f.record) for f in kit.only(uwec, "lookup_error")}
    assert errors == {
        ("UWEC_CustomViewsDisplays.csv", 5),
        ("UWEC_CustomViewsDisplays.csv", 6),
        ("UWEC_ResponsiveImageStyles.csv", 17),
        ("UWEC_ResponsiveImageStyles.csv", 23),
    }
    assert not kit.only(uwec, "lookup_mismatch")


def test_number_in_widget_column(uwec, kit):
    (finding,) = kit.only(uwec, "value_in_wrong_column")
    assert (finding.file, finding.record, finding.line, finding.column, finding.value) == (
        F,
        258,
        266,
        "Form widget",
        "1",
    )


def test_duplicate_field_on_one_bundle(uwec, kit):
    (dup,) = kit.only(uwec, "duplicate_key", F)
    assert (dup.value, dup.record) == ("field_platforms", 555)
    # The earlier row by what it is, not its position (a ticket shows the message; positions move on revision).
    assert dup.message == "fields 'field_platforms' is already defined on an earlier row of UWEC_Fields.csv."


def test_five_bundle_reference_cycle(uwec, kit):
    (cycle,) = uwec.graph.strongly_connected_components()
    assert cycle == (
        "bundle:node:academic_program",
        "bundle:node:college",
        "bundle:node:department",
        "bundle:node:fact",
        "bundle:paragraph:facts_list",
    )
    (finding,) = kit.only(uwec, "reference_cycle")
    assert finding.severity is Severity.WARNING and "5 bundles" in finding.message
    # Named as the spec names them, not by the graph's node ids.
    assert "Fact Library (Content type)" in finding.message and "bundle:" not in finding.message
    (found,) = uwec.graph.cycles()
    assert all(sources for _, _, sources in found.edges)


def test_graph_edges_cite_rows(uwec, kit):
    g = uwec.graph.digraph
    edge = g.edges["field:node:academic_program:field_image", "bundle:media:image"]
    assert edge["relation"] == "references" and edge["sources"][0].record == 3
    assert g.has_edge("display:facts:review", "view:facts")
    assert g.has_edge("state:marketing:review", "workflow:marketing")
    assert g.has_edge("transition:marketing:publish", "state:marketing:published")
    assert len(g.edges["transition:marketing:publish", "state:marketing:published"]["sources"]) == 4
    assert g.has_edge("responsive_image_style:42x42", "image_style:42x42_non-webp")
    assert g.has_edge("view_mode:media:42x42", "bundle:media:image")


def test_result_is_json_serialisable(uwec, kit):
    data = json.loads(json.dumps(uwec.to_dict()))
    assert data["blocking"] is False
    assert len(data["model"]["fields"]) == 546
    assert data["findings"][0]["severity"] in {"blocking", "warning", "info"}
