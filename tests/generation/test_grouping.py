"""Which tickets the UWEC sample gives: one per deliverable unit, named, labelled and sourced."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from app.generation import DraftSet
from app.intake import Action, IntakeResult

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_uwec_gives_about_a_hundred_tickets_per_area(uwec_drafts: DraftSet) -> None:
    drafts = uwec_drafts.drafts
    assert len(drafts) == 109  # one per unit, against 669 rows to build and 167 to remove
    assert Counter(d.area for d in drafts) == {
        "Content model": 72,
        "Views": 14,
        "Images": 18,
        "Display": 2,
        "Access": 1,
        "Workflow": 2,
    }
    assert Counter(d.action for d in drafts) == {"build": 91, "remove": 10, "change": 5, "hold": 3}
    assert len({d.key for d in drafts}) == len(drafts)


def test_bundle_tickets_carry_settings_and_fields(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    program = by_key["bundle.node.academic_program.build"]
    assert program.title == "Content model: Build Academic Program content type (41 fields)"
    assert [t.title for t in program.tables] == ["Academic Program content type settings", "Fields"]
    assert len(program.tables[1].rows) == 42  # heading row + 41 fields; the 2 fields to delete are removal work
    assert program.labels == ("content-model", "build")
    assert ("UWEC_Bundles.csv", 1) in program.source and ("UWEC_Fields.csv", 1) in program.source
    # Field-less vocabularies share one ticket; a vocabulary with fields has its own.
    assert by_key["vocabularies.build"].title == "Content model: Build 13 vocabularies (no fields)"
    assert "bundle.taxonomy_term.page_families.build" in by_key
    assert not any(k.startswith("bundle.taxonomy_term.campuses") for k in by_key)


def test_existing_bundles_with_new_fields_get_update_tickets(uwec_drafts: DraftSet) -> None:
    updates = {d.key: d for d in uwec_drafts.drafts if d.key.endswith(".update")}
    assert sorted(updates) == [
        "bundle.block_content.social_media_links.update",
        "bundle.media.image.update",
        "bundle.media.remote_video.update",
        "bundle.paragraph.text.update",
        "bundle.paragraph.video.update",
    ]
    image = updates["bundle.media.image.update"]
    assert image.title == "Content model: Update Image media type (1 field)" and image.action == "change"
    assert all(file == "UWEC_Fields.csv" for file, _ in image.source)  # the existing bundle is context only


def test_views_images_access_and_workflow_units(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    assert by_key["view.news.build"].title == "Views: Build Stories view (8 displays)"
    style = by_key["responsive_image_style.42x42.build"]
    assert style.title == "Images: Build 42x42 responsive image style (4 image styles, 1 view mode)"
    assert [t.title for t in style.tables] == [
        "42x42 responsive image style settings",
        "Image style family",
        "Matching view mode",
    ]
    assert [row[1].text for row in style.tables[1].rows[1:]] == ["42x42", "42x42_1_5x", "42x42_2x", "42x42_non-webp"]
    # The Banner and 200x200 (Non Crop) styles belong to the responsive styles whose group names them.
    assert by_key["image_styles.build"].title == "Images: Build 2 image styles"
    banner = by_key["responsive_image_style.banner.build"]
    assert len(banner.tables[1].rows) == 12 and banner.tables[1].rows[1][0].text == "Banner Wide Desk"
    non_crop = by_key["responsive_image_style.200x200_non_crop.build"]
    assert [row[1].text for row in non_crop.tables[1].rows[1:]] == [
        "200x200_non_crop",
        "200x200_non_crop_1_5x",
        "200x200_non_crop_2x",
        "200x200_non_crop_non-webp",
    ]
    assert by_key["view_modes.build"].title == "Display: Build 3 view modes"
    assert by_key["roles.build"].title == "Access: Build 3 user roles"
    assert any("permissions" in note for note in by_key["roles.build"].notes)
    workflow = by_key["workflow.marketing.build"]
    assert workflow.title == "Workflow: Build Marketing workflow (4 states, 4 transitions)"
    transitions = workflow.tables[2]
    assert transitions.title == "Transitions" and "Marketing editor and site admin can use" in {
        cell.text for row in transitions.rows for cell in row
    }


def test_on_hold_and_removal_tickets(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    held = sorted(d.key for d in uwec_drafts.drafts if d.on_hold)
    assert held == [
        "bundle.paragraph.course.build",
        "bundle.paragraph.courses.build",
        "bundle.taxonomy_term.author.build",
    ]
    author = by_key["bundle.taxonomy_term.author.build"]
    assert author.action == "hold" and author.title.endswith("(on hold)") and "on-hold" in author.labels
    # Rows on hold inside a ticket that is not on hold are flagged in it.
    events = by_key["bundle.paragraph.events_list.build"]
    assert not events.on_hold and len(events.held) == 5
    removals = {d.key: d.title for d in uwec_drafts.drafts if d.action == "remove"}
    assert removals == {
        "remove.fields": "Content model: Remove 4 fields",
        "remove.bundle.node": "Content model: Remove 2 content types (24 fields)",
        "remove.bundle.block_content": "Content model: Remove 1 block type (7 fields)",
        "remove.bundle.taxonomy_term": "Content model: Remove 3 vocabularies",
        "remove.bundle.paragraph": "Content model: Remove 7 paragraph types (18 fields)",
        "remove.views": "Views: Remove 3 views (4 displays)",
        "remove.view_displays": "Views: Remove 2 displays",
        "remove.responsive_image_styles": "Images: Remove 8 responsive image styles",
        "remove.image_styles": "Images: Remove 19 image styles",
        "remove.view_modes": "Display: Remove 10 view modes",
    }


def test_every_row_with_work_is_in_exactly_one_ticket(uwec_intake: IntakeResult, uwec_drafts: DraftSet) -> None:
    owned = Counter(source for d in uwec_drafts.drafts for source in d.source)
    assert max(owned.values()) == 1
    model = uwec_intake.model
    work = {
        (i.source.file, i.source.record)
        for name in model.counts()
        if name != "storages"
        for i in getattr(model, name)
        if i.action is not Action.NONE
    }
    # Rows marked d inside new work are a "do not build" line there, not something to remove.
    dropped = [line for d in uwec_drafts.drafts for line in d.criteria if line.startswith("Do not build")]
    missing = work - set(owned)
    not_owned = [i for i in (*model.fields, *model.displays) if (i.source.file, i.source.record) in missing]
    assert not_owned and all(i.action is Action.REMOVE for i in not_owned)
    assert len(not_owned) == len(missing) == len(dropped)


def test_titles_are_short_verb_first_with_an_area_and_labels_have_no_spaces(uwec_drafts: DraftSet) -> None:
    for draft in uwec_drafts.drafts:
        assert len(draft.title) <= 255
        assert re.match(rf"{re.escape(draft.area)}: (Build|Change|Update|Remove) \S", draft.title), draft.title
        assert all(label and " " not in label for label in draft.labels)


def test_findings_travel_into_the_ticket_of_their_row(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    vocabularies = by_key["vocabularies.build"].findings
    assert [(f["code"], f["record"], f["value"]) for f in vocabularies] == [
        ("invalid_machine_name", 34, "Editorial Access")
    ]
