"""Success criteria from the data, one checkable statement per item; removals only of what exists; personas."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult, draft_tickets
from app.generation.adf import marked
from app.generation.criteria import readable
from app.intake import IntakeResult, UploadedFile
from tests.generation.helpers import intake

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def _draft(drafts: DraftSet, key: str) -> tuple[str, ...]:
    return next(d for d in drafts.drafts if d.key == key).criteria


def test_a_field_criterion_names_type_required_values_widget_targets_and_notes(uwec_drafts: DraftSet) -> None:
    criteria = _draft(uwec_drafts, "bundle.node.academic_program.build")
    assert (
        "Field Program Image (field_image): Entity reference [entity_reference], optional, 1 value, widget Media "
        "library [media_library_widget], references "
        "Image (media type), reuses the existing field storage, help text as in the table; the spec notes: Render "
        "as 730x840." in criteria
    )
    # A base field has no field type id of its own; the label maps to none.
    assert "Field Title (base field): Entity label, widget Textfield [string_textfield]." in criteria
    # One criterion per field row, the bundle's own three and a "do not build" line per row marked d.
    assert len([c for c in criteria if c.startswith("Field ")]) == 41
    assert len([c for c in criteria if c.startswith("Do not build")]) == 2 and len(criteria) == 46


def test_an_invalid_machine_name_is_named_with_the_valid_one_suggested(uwec_drafts: DraftSet) -> None:
    promo = _draft(uwec_drafts, "bundle.block_content.formatted_promo.build")
    assert any(
        c.startswith("Field Title ('Formatted Headline' is not a valid machine name; formatted_headline suggested): ")
        for c in promo
    )


def test_bundle_settings_are_said_in_words(uwec_drafts: DraftSet) -> None:
    criteria = _draft(uwec_drafts, "bundle.node.academic_program.build")
    assert criteria[:3] == (
        "The content type Academic Program (academic_program) exists with the description 'Add program pages for "
        "majors and minors'.",
        "Academic Program settings: content moderation on, Layout Builder on, content migration from the current "
        "site on, metatags on, scheduled publishing off, site search indexing on.",
        "New Academic Program items get URL aliases from the pattern "
        "academics/programs/[node:field_degree_level]/[node:title].",
    )
    # "-" means no pattern: no criterion claims one.
    assert not any("URL aliases" in c for c in _draft(uwec_drafts, "bundle.media.icon.build"))


def test_views_workflows_styles_and_roles_have_one_criterion_per_item(uwec_drafts: DraftSet) -> None:
    view = _draft(uwec_drafts, "view.bios.build")
    assert view[0] == "The view Profiles (bios) exists with base table Content [node_field_data], status Enabled."
    assert (
        "Display Department Faculty (department_faculty) uses the Block [block] display plugin; the spec notes: Shows "
        "random three teasers specific to the department, must have image to appear." in view
    )
    workflow = _draft(uwec_drafts, "workflow.marketing.build")
    assert workflow[:2] == (
        "The workflow Marketing (marketing) of type Content moderation exists.",
        "The workflow has exactly the states Draft (draft), In review (review), Published (published), "
        "Archived (archived).",
    )
    assert (
        "Transition Publish (publish) goes from Draft, In review, Published, Archived to Published; the spec "
        "notes: Site admin can use." in workflow
    )
    responsive = _draft(uwec_drafts, "responsive_image_style.42x42.build")
    assert responsive[0] == (
        "Responsive image style 42x42 (42x42) uses breakpoint group Citizen Patterns, breakpoints Mobile (1, 1.5x, "
        "2x), fallback image style 42x42 Non-WebP (42x42_non-webp)."
    )
    assert (
        "Image style 42x42 1.5x (42x42_1_5x) applies: Focal point scale and crop to 63x63, Image Style Quality 50%, "
        "convert to WebP." in responsive
    )
    assert _draft(uwec_drafts, "roles.build")[0] == (
        "Role Site Admin (site_admin) exists; the spec notes: Access to all content on all domains."
    )


def test_removals_are_only_of_what_exists_and_name_each_item(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    fields = by_key["remove.fields"]
    # Only fields of bundles that exist today (x or c); none of a bundle still to be built or on hold.
    assert fields.criteria[0] == (
        "Field Image (field_caption) is removed from Image (media type), with nothing left referring to it."
    )
    assert len([c for c in fields.criteria if c.startswith("Field ")]) == 4
    for draft in uwec_drafts.drafts:
        if draft.action == "remove":
            assert all(by_key[b].action == "remove" for b in draft.blocked_by), draft.key
    displays = by_key["remove.view_displays"].criteria
    assert displays[0].startswith("Display By Placement Tag (by_tag) is removed from the Contact/Hours view")


def test_rows_marked_d_inside_new_work_are_do_not_build_lines(uwec_drafts: DraftSet) -> None:
    announcement = _draft(uwec_drafts, "bundle.node.announcement.build")
    assert (
        "Do not build field Sitewide (field_sitewide): the spec marks it to be deleted (d) inside new work."
        in announcement
    )
    profiles = _draft(uwec_drafts, "view.bios.build")
    assert profiles[-1].startswith("Do not build display All Staff (all_staff)")


def test_personas_follow_the_access_notes_roles_and_kind(uwec_drafts: DraftSet) -> None:
    persona = {d.key: d.persona for d in uwec_drafts.drafts}
    assert persona["bundle.node.announcement.build"] == "a site administrator"  # "Site admins can add/edit/delete only"
    assert persona["bundle.block_content.formatted_promo.build"] == "a site administrator"  # "Only site admins ..."
    assert persona["bundle.node.academic_program.build"] == "a content editor"
    # "Market editors and site admins only": the role that does the daily work, named as the spec's roles name it.
    assert persona["bundle.node.fact.build"] == "a marketing editor"
    # "Editorial Access: Only site admins can use" names no Editor role.
    assert persona["vocabularies.build"] == "a site administrator"
    assert persona["bundle.media.icon.build"] == "a site builder"
    assert persona["view.bios.build"] == "a site visitor"
    assert persona["workflow.marketing.build"] == "a content manager"
    assert persona["roles.build"] == "a site administrator"
    assert persona["remove.fields"] == "a site maintainer"


def test_a_view_whose_displays_select_content_for_editors_is_for_editors() -> None:
    views = (
        "ID,View name,Machine name,X,Base table,Status\n"
        ",Related,related,a,Content,Enabled\n"
        ",Staff admin,staff_admin,a,Users,Enabled\n"
        ",Members,members,a,Content,Enabled\n"
    )
    displays = (
        "ID,View,Title,Machine name,X,Display plugin,Notes\n"
        ",Related,Picker,picker,a,Entity Reference,\n"
        ",Staff admin,Page,page,a,Page,\n"
        ",Members,Page,page,a,Page,Shown to logged in users only\n"
    )
    drafts = draft_tickets(
        intake([UploadedFile("Views.csv", views.encode()), UploadedFile("ViewsDisplays.csv", displays.encode())])
    )
    persona = {d.key: d.persona for d in drafts.drafts}
    assert persona == {
        "view.related.build": "a content editor",
        "view.staff_admin.build": "a site administrator",
        "view.members.build": "a logged-in user",
    }


def test_a_responsive_style_is_blocked_by_the_ticket_building_a_style_its_group_names() -> None:
    styles = (
        "ID,Style name,Machine name,X,Notes\n"
        ",Hero Desk,hero_desk,a,Crop 1920x800\n"
        ",Hero Mobile,hero_mobile,a,Crop 400x400\n"
    )
    responsive = (
        "ID,Responsive style,Machine Name,Breakpoint Group,Breakpoints Used,Fallback Style,Image Style Group(s),X\n"
        ",Hero,hero,Theme,Desk,Hero Desk,Hero,a\n"
        ",Hero Mobile,hero_mobile,Theme,Mobile,Hero Mobile,Hero Mobile,a\n"
    )
    drafts = draft_tickets(
        intake(
            [
                UploadedFile("Imagestyles.csv", styles.encode()),
                UploadedFile("ResponsiveImageStyles.csv", responsive.encode()),
            ]
        )
    )
    by_key = {d.key: d for d in drafts.drafts}
    hero = by_key["responsive_image_style.hero.build"]
    # "Hero" is no style's label: it is the group of styles whose labels start with it, one built by the other ticket.
    assert [row[1].text for row in hero.tables[1].rows[1:]] == ["hero_desk"]
    assert hero.blocked_by == ("responsive_image_style.hero_mobile.build",)
    assert "Also uses image styles built in other tickets: Hero Mobile." in hero.remarks


def test_html_in_a_note_reads_as_prose_in_its_criterion_and_other_tags_show_as_code(
    uwec_drafts: DraftSet, uwec_result: GenerationResult
) -> None:
    announcement = _draft(uwec_drafts, "bundle.node.announcement.build")
    (section,) = [c for c in announcement if c.startswith("Field By Section URL")]
    assert "the spec notes: Enter the URL section path(s) you want this announcement displayed on. Example: " in section
    assert "Each path must start and end with a / character. Leave blank to show this announcement on all pages" in (
        section
    )
    assert "<" not in section
    # A tag that is the subject of the note (not formatting) stays, and the checklist shows it as code.
    assert readable("Render the title as <h2>, <strong>bold</strong> &amp; short") == (
        "Render the title as <h2>, bold & short"
    )
    assert marked("as <h2> here") == [
        {"type": "text", "text": "as "},
        {"type": "text", "text": "<h2>", "marks": [{"type": "code"}]},
        {"type": "text", "text": " here"},
    ]
    ticket = next(t for t in uwec_result.tickets if t.key == "bundle.node.announcement.build")
    checklist = next(n for n in ticket.description["content"] if n["type"] == "taskList")
    shown = [t for item in checklist["content"] for t in item["content"] if t["type"] == "text"]
    assert all("<" not in t["text"] or t.get("marks") == [{"type": "code"}] for t in shown)


def test_on_an_existing_site_rows_marked_d_are_removals_wherever_they_sit(uwec_intake: IntakeResult) -> None:
    new_build = {d.key: d for d in draft_tickets(uwec_intake).drafts}
    existing = {d.key: d for d in draft_tickets(uwec_intake, existing_site=True).drafts}
    # A new build: field_sitewide of the new Announcement is not built (a line), with a finding for the spec author.
    assert any(
        c.startswith("Do not build field Sitewide") for c in new_build["bundle.node.announcement.build"].criteria
    )
    # An existing site has it today: it is removed, and the ticket that builds Announcement neither drops it nor
    # tells the spec author a new bundle has nothing to delete.
    announcement = existing["bundle.node.announcement.build"]
    assert not any(c.startswith("Do not build") for c in announcement.criteria)
    assert not any("marked to be deleted (d)" in f["message"] for f in announcement.findings)
    removed = existing["remove.fields"]
    assert (
        "Field Sitewide (field_sitewide) is removed from Announcement (content type), with nothing left referring "
        "to it." in removed.criteria
    )
    dropped = sum(c.startswith("Do not build field") for d in new_build.values() for c in d.criteria)
    assert len(removed.criteria) == len(new_build["remove.fields"].criteria) + dropped
    # Removing what exists still waits for nothing that is to be built.
    assert all(existing[b].action == "remove" for b in removed.blocked_by)
    assert set(existing) == set(new_build)  # the same tickets; only what they hold moved


def test_a_unique_suggestion_of_intake_is_used_literally_and_a_set_is_never_taken_for_a_name(
    uwec_drafts: DraftSet,
) -> None:
    modes = _draft(uwec_drafts, "view_modes.build")
    assert (
        "Entities Used On 'Program' of Content Thumbnail (content_thumbnail) names nothing in the spec: use Academic "
        "Program, intake's suggestion, once the spec author confirms it." in modes
    )
    # A removal names the parent by the suggestion, in its own criterion (no extra line to build anything).
    assert _draft(uwec_drafts, "remove.view_displays")[0] == (
        "Display By Placement Tag (by_tag) is removed from the Contact/Hours view ('Contact' in the spec, as intake "
        "suggests), with nothing left referring to it."
    )
    assert not any("intake's suggestion" in c for c in _draft(uwec_drafts, "remove.view_modes"))
    # Several suggestions are no answer ("Full non-crop Non-WebP"), and "All" is a set, not a misspelt "Gallery".
    every = [c for d in uwec_drafts.drafts for c in d.criteria if "intake" in c]
    assert not any("'All" in c or "Small non-crop" in c for c in every) and len(every) == 3


def test_a_view_is_for_the_audience_most_of_its_displays_serve(uwec_drafts: DraftSet) -> None:
    views = (
        "ID,View name,Machine name,X,Base table,Status\n"
        ",Facts,facts,a,Content,Enabled\n"
        ",Expired,expired,a,Content,Enabled\n"
    )
    displays = (
        "ID,View,Title,Machine name,X,Display plugin,Notes\n"
        ",Facts,Facts List,list,a,Embed,Lists most recent facts.\n"
        ",Facts,Recent,recent,a,Block,Shows up to 5 facts.\n"
        ",Facts,Facts Review,review,a,Page,Admin reporting page used to review facts.\n"
        ",Expired,Review,review,a,Page,Admin reporting page used to review expired facts.\n"
    )
    drafts = draft_tickets(
        intake([UploadedFile("Views.csv", views.encode()), UploadedFile("ViewsDisplays.csv", displays.encode())])
    )
    persona = {d.key: d.persona for d in drafts.drafts}
    # One admin report beside two displays for visitors does not make the view an admin view; a report alone does.
    assert persona == {"view.facts.build": "a site visitor", "view.expired.build": "a site administrator"}
    assert {d.key: d.persona for d in uwec_drafts.drafts}["view.facts.build"] == "a site visitor"


def test_field_types_and_widgets_show_the_drupal_id_beside_the_label_and_an_id_once() -> None:
    bundles = "Name,Machine name,Type,X\r\nArticle,article,Content type,a\r\n"
    fields = (
        "Bundle,Field label,Machine name,Field type,Widget,X\r\n"
        "Article (Content type),Topics,field_topics,Entity reference,Autocomplete (tags style),a\r\n"
        "Article (Content type),Link,field_link,link,link_default,a\r\n"
        "Article (Content type),Mood,field_mood,Quantum Entangler,,a\r\n"
    )
    drafts = draft_tickets(
        intake([UploadedFile("bundles.csv", bundles.encode()), UploadedFile("fields.csv", fields.encode())])
    )
    criteria = _draft(drafts, "bundle.node.article.build")
    assert (
        "Field Topics (field_topics): Entity reference [entity_reference], widget Autocomplete (tags style) "
        "[entity_reference_autocomplete_tags]." in criteria
    )
    assert "Field Link (field_link): link, widget link_default." in criteria  # ids as written: shown once
    assert "Field Mood (field_mood): Quantum Entangler." in criteria  # no id known: the label alone


def test_a_reference_to_no_bundle_of_the_spec_still_says_what_the_spec_names(uwec_drafts: DraftSet) -> None:
    # A set ("All except layout sections"), a typo, or a bundle a revision deleted: the developer still reads it.
    sections = next(c for c in _draft(uwec_drafts, "bundle.node.office.build") if "(field_paragraphs)" in c)
    assert (
        "references All except layout sections as the spec writes it (no bundle of the spec by that name)" in sections
    )
