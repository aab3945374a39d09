"""The spec dialects: the Drupal Spec Tool's Behat tables, the Drupal Entity Generator template and UWEC's export.

Each fixture is built here from the dialect's headers and value words (our own rows, not copied from any project),
so a test states exactly which spelling it proves is understood.
"""

from __future__ import annotations

import pytest

from app.intake import SpecKind, UploadedFile, intake_files
from app.intake.model import UNLIMITED, Action
from app.intake.names import machine_name_problem
from app.intake.status import SPEC_TOOL_LEGEND, StatusMapping

pytestmark = [pytest.mark.unit, pytest.mark.intake]

DST_BUNDLES = [
    ["Name", "Machine name", "Type", "Description"],
    ["Article", "article", "Content type", "Time-sensitive posts."],
    ["Hero", "hero", "Paragraph type", "A large banner."],
    ["Photo", "photo", "Media type", "An uploaded image."],
    ["Topics", "topics", "Vocabulary", "Subjects to file articles under."],
]
DST_FIELDS = [
    [
        "Bundle",
        "Field label",
        "Machine name",
        "Field type",
        "Required",
        "Cardinality",
        "Form widget",
        "Translatable",
        "Help text",
    ],
    ["Article (Content type)", "Body", "body", "Text (formatted, long, with summary)", "", "1",
     "Text area with a summary", "Translatable", ""],
    ["Article (Content type)", "Topics", "field_topics", "Entity reference", "Required", "Unlimited",
     "Autocomplete", "", "Pick one or more."],
    ["Article (Content type)", "Teaser", "field_teaser", "Text (plain, long)", "", "1",
     "Text area (multiple rows)", "Translatable", ""],
    ["Hero (Paragraph type)", "Heading", "field_heading", "Text (formatted)", "Required", "1", "Textfield", "", ""],
    ["Hero (Paragraph type)", "Link", "field_link", "Link", "", "1", "Link", "", ""],
    ["Photo (Media type)", "Image", "field_media_image", "Image", "Required", "1", "ImageWidget crop", "", ""],
]  # fmt: skip
DST_VIEWS = [
    ["Name", "Machine name", "Base table", "Status", "Description"],
    ["Latest articles", "latest_articles", "Content", "Enabled", "Newest first."],
    ["Old people", "old_people", "Users", "Disabled", "Unused."],
    ["Site search", "site_search", "Index Content", "Enabled", ""],
]
DST_DISPLAYS = [
    ["View", "Title", "Machine name", "Display plugin"],
    ["Latest articles", "Master", "default", "Default"],
    ["Latest articles", "Sidebar", "block_1", "Block"],
    ["Latest articles", "Feed", "feed_1", "Feed"],
    ["Site search", "Page", "page_1", "Page"],
]


def _files(kit, **tables: list[list[str]]) -> list[UploadedFile]:
    return [UploadedFile(f"{name}.csv", kit.csv_bytes(rows)) for name, rows in tables.items()]


def test_behat_value_words_are_understood(kit):
    result = intake_files(_files(kit, bundles=DST_BUNDLES, fields=DST_FIELDS, views=DST_VIEWS, displays=DST_DISPLAYS))
    assert not kit.only(result, "invalid_value") and not kit.only(result, "missing_value")
    assert not kit.only(result, "unmapped_value")
    fields = {f.machine_name: f for f in result.model.fields}
    body, topics = fields["body"], fields["field_topics"]
    assert (body.required, body.translatable, body.cardinality) == (False, True, 1)
    assert (topics.required, topics.translatable, topics.cardinality) == (True, False, UNLIMITED)
    assert topics.reference_targets == ()  # the Behat table names no target bundle
    views = {v.machine_name: v for v in result.model.views}
    assert (views["latest_articles"].is_enabled, views["old_people"].is_enabled) == (True, False)
    assert views["old_people"].enabled == "Disabled"  # the text as written stays beside the flag


def test_labels_are_mapped_to_drupal_ids_and_both_kept(kit):
    result = intake_files(_files(kit, bundles=DST_BUNDLES, fields=DST_FIELDS, views=DST_VIEWS, displays=DST_DISPLAYS))
    by_name = {f.machine_name: (f.field_type, f.field_type_id, f.widget, f.widget_id) for f in result.model.fields}
    assert by_name["body"] == (
        "Text (formatted, long, with summary)",
        "text_with_summary",
        "Text area with a summary",
        "text_textarea_with_summary",
    )
    assert by_name["field_topics"][1:] == ("entity_reference", "Autocomplete", "entity_reference_autocomplete")
    # The same widget label is a different plugin for plain and for formatted text.
    assert by_name["field_teaser"][3] == "string_textarea"
    assert by_name["field_heading"][1::2] == ("text", "text_textfield")
    assert by_name["field_link"][1::2] == ("link", "link_default")
    assert by_name["field_media_image"][1::2] == ("image", "image_widget_crop")
    views = {v.machine_name: v.base_table_id for v in result.model.views}
    assert views == {
        "latest_articles": "node_field_data",
        "old_people": "users_field_data",
        "site_search": "search_api_index_content",
    }
    assert [d.display_plugin_id for d in result.model.displays] == ["default", "block", "feed", "page"]


def test_plugin_ids_written_directly_are_accepted(kit):
    rows = [row[:] for row in DST_FIELDS]
    rows[1][3], rows[1][6] = "text_with_summary", "text_textarea_with_summary"
    result = intake_files(_files(kit, bundles=DST_BUNDLES, fields=rows))
    body = next(f for f in result.model.fields if f.machine_name == "body")
    assert (body.field_type_id, body.widget_id) == ("text_with_summary", "text_textarea_with_summary")


def test_unknown_labels_are_kept_and_quoted_exactly(kit):
    rows = [row[:] for row in DST_FIELDS]
    rows[2][3] = "Quantum Entangler"
    rows[2][5] = " Lots "
    rows[3][4] = "Maybe"
    result = intake_files(_files(kit, bundles=DST_BUNDLES, fields=rows))
    (unmapped,) = kit.only(result, "unmapped_value")
    assert unmapped.value == "Quantum Entangler" and "'Quantum Entangler'" in unmapped.message
    topics = next(f for f in result.model.fields if f.machine_name == "field_topics")
    assert (topics.field_type, topics.field_type_id, topics.cardinality) == ("Quantum Entangler", "", None)
    invalid = {f.column: f for f in kit.only(result, "invalid_value")}
    # The finding quotes the cell as it is, not a lowercased or trimmed copy.
    assert invalid["Cardinality"].value == " Lots " and "' Lots '" in invalid["Cardinality"].message
    assert invalid["Required"].value == "Maybe" and "'Maybe'" in invalid["Required"].message


def test_a_blank_in_a_y_n_column_is_not_a_no(kit, uwec):
    # UWEC writes y / n: a blank there is unknown, so the field's `required` stays None and the row is flagged.
    rows = kit.uwec_rows("UWEC_Fields.csv")
    rows[2][11] = ""  # Academic Program's Meta Description, Req'd
    result = intake_files(kit.uwec_with("UWEC_Fields.csv", kit.csv_bytes(rows)))
    (missing,) = kit.only(result, "missing_value", "UWEC_Fields.csv")
    assert (missing.record, missing.column) == (2, "Req'd")
    assert next(f for f in result.model.fields if f.source.record == 2).required is None


def test_uwec_values_map_without_notes(uwec, kit):
    fields = uwec.model.fields
    assert {f.field_type_id for f in fields if f.field_type == "Entity Reference Revisions (paragraphs)"} == {
        "entity_reference_revisions"
    }
    assert {f.widget_id for f in fields if f.widget == "Media library"} == {"media_library_widget"}
    assert all(f.translatable is False for f in fields if f.cells["Trns."] == "n")
    # Every label UWEC writes is known; the one misplaced number is reported as such, not as an unknown widget.
    assert not kit.only(uwec, "unmapped_value")
    assert len(kit.only(uwec, "value_in_wrong_column")) == 1
    assert {v.base_table_id for v in uwec.model.views} == {
        "node_field_data",
        "users_field_data",
        "search_api_index_content",
    }
    assert SpecKind.VIEWS in {f.kind for f in uwec.files}


DST_WORKFLOWS = [["Label", "Machine name", "Type"], ["Review", "review_flow", "Content moderation"]]
DST_STATES = [
    ["Workflow", "Label", "Machine name"],
    ["Review", "Draft", "draft"],
    ["Review", "Live", "live"],
]
DST_TRANSITIONS = [
    ["Workflow", "Label", "Machine name", "From state", "To state"],
    ["Review", "Go live", "go_live", "Draft", "Live"],
    ["Review", "Back to draft", "back_to_draft", "Live", "Draft"],
]
DST_MENUS = [
    ["Name", "Machine name", "Description"],
    ["Sidebar", "sidebar-menu", "Links beside the content."],
    ["Primary", "main", "Top level sections."],
]
DST_IMAGE_STYLES = [
    ["Style name", "Machine name"],
    ["Card (640×360)", "card_640x360"],
    ["Square (300×300)", "square_300"],
]
DST_IMAGE_EFFECTS = [
    ["Image style", "Effect", "Summary"],
    ["Card (640×360)", "Scale and crop", "640×360"],
    ["Square (300×300)", "Scale", "300×300 (upscaling allowed)"],
]
DST_ROLES = [["Name", "Machine name"], ["Site editor", "site_editor"], ["Reviewer", "reviewer"]]
DST_SET = {
    SpecKind.BUNDLES: DST_BUNDLES,
    SpecKind.FIELDS: DST_FIELDS,
    SpecKind.VIEWS: DST_VIEWS,
    SpecKind.VIEW_DISPLAYS: DST_DISPLAYS,
    SpecKind.WORKFLOWS: DST_WORKFLOWS,
    SpecKind.WORKFLOW_STATES: DST_STATES,
    SpecKind.WORKFLOW_TRANSITIONS: DST_TRANSITIONS,
    SpecKind.MENUS: DST_MENUS,
    SpecKind.IMAGE_STYLES: DST_IMAGE_STYLES,
    SpecKind.IMAGE_EFFECTS: DST_IMAGE_EFFECTS,
    SpecKind.ROLES: DST_ROLES,
}

# The Drupal Entity Generator template: Spec Tool columns with ID / X / Dev / QA, y / n flags, 1 / * values.
DEG_BUNDLES = [
    ["ID", "Name", "Machine name", "X", "Dev", "QA", "Description", "Example(s)", "Mod.", "Layout", "Trns.", "Migr.",
     "Cmnt.", "Meta.", "Sched.", "Type", "URL alias pattern", "Settings/notes"],
    ["", "Story", "story", "a", "", "", "A news story.", "", "y", "n", "n", "n", "n", "y", "n", "Content type",
     "news/[node:title]", ""],
    ["", "Tags", "tags", "a", "", "", "Free tagging.", "", "n", "n", "n", "n", "n", "n", "n", "Vocabulary", "", ""],
]  # fmt: skip
DEG_FIELDS = [
    ["Bundle", "Field label", "Machine name", "X", "Dev", "QA", "Field group", "Field type", "Ref. bundle", "Req",
     "Vals.", "Form widget", "Trns.", "Settings/notes", "Help text"],
    ["Story (Content type)", "Tags", "field_tags", "a", "", "", "", "Entity reference", "Tags (Vocabulary)", "n", "*",
     "Autocomplete (Tags style)", "n", "", ""],
    ["Story (Content type)", "Lead", "field_lead", "a", "", "", "", "Text (plain, long)", "", "y", "1",
     "Text area (multiple rows)", "y", "", "One paragraph."],
]  # fmt: skip
DEG_MENUS = [
    ["Label", "Machine name", "X", "Description", "Dev", "QA", "Notes"],
    ["Footer links", "footer-links", "a", "Links in the footer.", "", "", ""],
]


def _neutral(kit, tables: dict[SpecKind, list[list[str]]]) -> tuple[list[UploadedFile], dict[str, SpecKind]]:
    # Reverse order, numbered names: neither the order nor the name says what a file is.
    files, expected = [], {}
    for i, (kind, rows) in enumerate(reversed(tables.items())):
        files.append(UploadedFile(f"export{i}.csv", kit.csv_bytes(rows)))
        expected[f"export{i}.csv"] = kind
    return files, expected


def test_the_whole_spec_tool_set_is_recognised_with_neutral_names(kit):
    files, expected = _neutral(kit, DST_SET)
    result = intake_files(files)
    assert {f.name: f.kind for f in result.files} == expected
    assert not result.blocking, [f for f in result.findings if f.severity == "blocking"]
    assert all(f.runner_up is not f.kind for f in result.files)
    # The generic Name + Machine name files are shown with what else they could be.
    assert all(f.runner_up is not None for f in result.files if f.kind in (SpecKind.ROLES, SpecKind.MENUS))
    counts = result.model.counts()
    assert (counts["bundles"], counts["fields"], counts["menus"], counts["roles"], counts["image_effects"]) == (
        4,
        6,
        2,
        2,
        2,
    )
    assert [t.to_state for t in result.model.transitions] == ["live", "draft"]


def test_the_entity_generator_template_is_recognised_and_read(kit):
    files, expected = _neutral(
        kit, {SpecKind.BUNDLES: DEG_BUNDLES, SpecKind.FIELDS: DEG_FIELDS, SpecKind.MENUS: DEG_MENUS}
    )
    result = intake_files(files)
    assert {f.name: f.kind for f in result.files} == expected
    assert not kit.only(result, "invalid_value") and not kit.only(result, "unmapped_value")
    tags, lead = result.model.fields
    assert (tags.required, tags.cardinality, tags.widget_id) == (False, UNLIMITED, "entity_reference_autocomplete_tags")
    assert tags.reference_targets == (("taxonomy_term", "tags"),)
    assert (lead.required, lead.translatable, lead.cardinality) == (True, True, 1)


def test_a_tie_on_headers_is_broken_by_the_file_name(kit):
    # Two Name + Machine name files whose values say nothing: the names decide, and each is shown with the other.
    plain = [["Name", "Machine name"], ["Alpha", "alpha"], ["Beta", "beta"]]
    result = intake_files(
        [UploadedFile("Menus.csv", kit.csv_bytes(plain)), UploadedFile("Roles.csv", kit.csv_bytes(plain[:2]))]
    )
    assert [(f.kind, f.basis) for f in result.files] == [
        (SpecKind.MENUS, "headers and file name"),
        (SpecKind.ROLES, "headers and file name"),
    ]


@pytest.mark.parametrize(
    ("kind", "name", "problem", "suggestion"),
    [
        (SpecKind.MENUS, "sidebar-menu", None, None),
        (SpecKind.MENUS, "sidebar_menu", "'_'", "sidebar-menu"),
        (SpecKind.IMAGE_STYLES, "card-640_wide", None, None),
        (SpecKind.BUNDLES, "landing-page", "'-'", "landing_page"),
        (SpecKind.FIELDS, "field_hero-image", "'-'", "field_hero_image"),
        (SpecKind.FIELDS, "field_" + "a" * 26, None, None),
        (SpecKind.FIELDS, "field_" + "a" * 27, "33 characters (at most 32)", "field_" + "a" * 26),
        (SpecKind.VIEWS, "v" * 128, None, None),
    ],
)
def test_machine_names_follow_each_kinds_drupal_rule(kit, kind, name, problem, suggestion):
    tables = {
        SpecKind.MENUS: [["Name", "Machine name", "Description"], ["Sidebar Menu", name, "Side links."]],
        SpecKind.IMAGE_STYLES: [["Style name", "Machine name"], ["Card 640", name]],
        SpecKind.BUNDLES: [["Name", "Machine name", "Type"], ["Landing Page", name, "Content type"]],
        SpecKind.FIELDS: [
            ["Bundle", "Field label", "Machine name", "Field type", "Required", "Cardinality"],
            ["Page (Content type)", "Hero", name, "Image", "", "1"],
        ],
        SpecKind.VIEWS: [["Name", "Machine name", "Base table", "Status"], ["All", name, "Content", "Enabled"]],
    }
    result = intake_files([UploadedFile(f"{kind.value}.csv", kit.csv_bytes(tables[kind]))])
    found = kit.only(result, "invalid_machine_name")
    if problem is None:
        assert not found
    else:
        (finding,) = found
        assert problem in finding.message and finding.value == name and finding.suggestion == suggestion
        assert suggestion is not None and machine_name_problem(suggestion, kind) is None


TWIN_VIEWS = [
    ["Name", "Machine name", "Base table", "Status"],
    ["Events", "events", "Content", "Enabled"],
    ["Events", "events_archive", "Content", "Disabled"],
    ["News", "news", "Content", "Enabled"],
]


def test_displays_of_views_sharing_a_label_follow_the_view_id(kit):
    displays = [
        ["View", "Title", "Machine name", "Display plugin", "View ID"],
        ["Events", "Upcoming", "upcoming", "Block", "events"],
        ["Events", "Past", "past", "Page", "events_archive"],
        ["News", "Latest", "latest", "Block", "news"],
    ]
    result = intake_files(_files(kit, views=TWIN_VIEWS, displays=displays))
    assert [(d.view, d.machine_name) for d in result.model.displays] == [
        ("events", "upcoming"),
        ("events_archive", "past"),
        ("news", "latest"),
    ]
    assert not kit.only(result, "ambiguous_reference")
    assert [d.machine_name for d in result.model.displays_of("events_archive")] == ["past"]


def test_a_label_collision_without_a_hint_is_reported_on_both_views_and_assigns_nothing(kit):
    displays = [
        ["View", "Title", "Machine name", "Display plugin"],
        ["Events", "Upcoming", "upcoming", "Block"],
        ["Events", "Past", "past", "Page"],
        ["News", "Latest", "latest", "Block"],
    ]
    result = intake_files(_files(kit, views=TWIN_VIEWS, displays=displays))
    by_view = {d.machine_name: d.view for d in result.model.displays}
    assert by_view == {"upcoming": "", "past": "", "latest": "news"}
    assert not result.model.displays_of("events")  # never silently given to the first view
    findings = kit.only(result, "ambiguous_reference")
    on_displays = [f for f in findings if f.file == "displays.csv"]
    on_views = [f for f in findings if f.file == "views.csv"]
    assert [f.record for f in on_displays] == [1, 2]
    assert "events, events_archive" in on_displays[0].message
    assert sorted((f.record, f.suggestion) for f in on_views) == [(1, "events"), (2, "events_archive")]


def test_a_file_with_headers_and_no_records_is_a_warning_that_names_it(kit):
    result = intake_files(_files(kit, bundles=DST_BUNDLES, menus=[DST_MENUS[0]]))
    (empty,) = kit.only(result, "no_records")
    assert (empty.file, empty.severity) == ("menus.csv", "warning") and "menus.csv" in empty.message
    assert not result.blocking


def test_why_no_tickets_names_the_cause(kit):
    headers_only = intake_files(_files(kit, menus=[DST_MENUS[0]], roles=[DST_ROLES[0]]))
    assert "menus.csv, roles.csv" in headers_only.why_no_tickets() and "no records" in headers_only.why_no_tickets()
    done = [["Name", "Machine name", "X"], ["Editor", "editor", "x"], ["Author", "author", "x"], ["Guest", "guest", ""]]
    implemented = intake_files(_files(kit, roles=done))
    reason = implemented.why_no_tickets()
    assert "None of the 3 rows" in reason and "2 'x'" in reason and "1 'blank'" in reason
    assert "'x', 'blank' give no ticket" in reason and "Mark the rows to build with 'a' or 'c'." in reason
    unreadable = intake_files([UploadedFile("a.csv", b"\x00\x01\x02" * 30)])
    assert "No file could be read" in unreadable.why_no_tickets()


def test_a_spec_all_on_hold_says_so_when_the_site_drafts_no_held_rows(kit):
    held = [["Name", "Machine name", "X"], ["Editor", "editor", "w"], ["Author", "author", "W"]]
    held.append(["Guest", "guest", "?"])
    # By the legend, w is built but flagged on hold: those rows make tickets, so nothing needs saying.
    assert [r.action for r in intake_files(_files(kit, roles=held)).model.roles][:2] == [Action.HOLD, Action.HOLD]
    skip_held = StatusMapping({**SPEC_TOOL_LEGEND, "w": Action.NONE})
    reason = intake_files(_files(kit, roles=held), status_mapping=skip_held).why_no_tickets()
    assert reason == (
        "None of the 3 rows is marked for work (statuses: 2 'w', 1 '?'); with the site's status mapping 'w' gives no "
        "ticket; '?' is no status code. Mark the rows to build with 'a' or 'c'."
    )


TWIN_BUNDLES = [
    ["Name", "Machine name", "Type", "X"],
    ["Image", "image", "Media type", "a"],
    ["Image", "image", "Paragraph type", "a"],
    ["Article", "article", "Content type", "a"],
    ["Gallery", "gallery", "Paragraph type", "a"],
]


def test_a_bundle_named_without_its_type_that_several_entity_types_have_is_reported_not_given_to_the_first(kit):
    fields = [
        ["Bundle", "Field label", "Machine name", "Field type", "Ref. bundle", "X"],
        ["Image", "Caption", "field_caption", "Text (plain)", "", "a"],  # media or paragraph?
        ["Image (Paragraph type)", "Credit", "field_credit", "Text (plain)", "", "a"],
        ["Article", "Photo", "field_photo", "Entity reference", "Image", "a"],  # a target just as ambiguous
        ["Gallery", "Items", "field_items", "Entity reference", "Image (Media type)", "a"],
    ]
    result = intake_files(_files(kit, bundles=TWIN_BUNDLES, fields=fields))
    by_name = {f.machine_name: f for f in result.model.fields}
    assert by_name["field_caption"].bundle is None  # not ("media", "image"), the first entity type read
    assert by_name["field_credit"].bundle == ("paragraph", "image")
    assert by_name["field_photo"].bundle == ("node", "article") and by_name["field_photo"].reference_targets == ()
    assert by_name["field_items"].bundle == ("paragraph", "gallery")
    assert by_name["field_items"].reference_targets == (("media", "image"),)
    found = kit.only(result, "ambiguous_reference")
    assert [(f.record, f.column, f.value) for f in found] == [(1, "Bundle", "Image"), (3, "Ref. bundle", "Image")]
    assert all(f.suggestion == "Image (Media type), Image (Paragraph type)" for f in found)
    assert "assigned to none" in found[0].message


def test_a_bundle_machine_name_hint_settles_which_entity_type_a_bare_bundle_label_means(kit):
    fields = [
        ["Bundle", "Field label", "Machine name", "Field type", "Bundle machine name", "X"],
        ["Gallery", "Items", "field_items", "Text (plain)", "gallery", "a"],
        ["Article", "Teaser", "field_teaser", "Text (plain)", "article", "a"],
    ]
    bundles = [*TWIN_BUNDLES, ["Gallery", "gallery", "Content type", "a"]]
    result = intake_files(_files(kit, bundles=bundles, fields=fields))
    # Two entity types have a "Gallery" with the same machine name, so the hint cannot choose: reported.
    (finding,) = kit.only(result, "ambiguous_reference")
    assert finding.record == 1 and finding.suggestion == "Gallery (Paragraph type), Gallery (Content type)"
    assert [f.bundle for f in result.model.fields] == [None, ("node", "article")]
