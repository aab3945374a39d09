"""Contradictions and shared-storage conflicts appear on every ticket they concern, with who can fix them."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult, draft_tickets
from app.generation.adf import plain_text
from app.intake import IntakeResult, UploadedFile
from tests.generation.helpers import intake

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def test_a_storage_conflict_is_on_every_ticket_holding_the_storage(
    uwec_intake: IntakeResult, uwec_drafts: DraftSet
) -> None:
    storage = uwec_intake.model.storage_by_key[("node", "field_meta_description")]
    owners = {d.key for d in uwec_drafts.drafts if {(s.file, s.record) for s in storage.sources} & set(d.source)}
    holding = {
        d.key
        for d in uwec_drafts.drafts
        if any(
            f["code"] == "storage_type_conflict" and "node.field_meta_description" in f["message"] for f in d.findings
        )
    }
    assert len(owners) >= 5 and holding == owners
    # Intake reports it once, at the row that disagrees: that row is in only one of those tickets.
    (reported,) = [
        (f.file, f.record)
        for f in uwec_intake.findings
        if f.code == "storage_type_conflict" and "node.field_meta_description" in f.message
    ]
    assert sum(reported in d.source for d in uwec_drafts.drafts) == 1


def test_status_contradictions_are_spec_defects_on_their_ticket(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    accordion = [
        f for f in by_key["bundle.paragraph.accordion_item.build"].findings if f["code"] == "status_contradiction"
    ]
    assert [f["message"].split(": ")[0] for f in accordion] == [
        "The paragraph type Accordion Item (accordion_item) is marked to be built (status a), but all 2 of its rows "
        "are marked implemented already (x)",
        "1 field of the new paragraph type Accordion Item (accordion_item) is marked to be deleted (d)",
    ]
    assert all(f["who_can_fix"] == "spec_author" and f["severity"] == "warning" for f in accordion)
    # A base field marked x is not a contradiction: the title comes with every bundle.
    office = [f["message"] for f in by_key["bundle.node.office.build"].findings if f["code"] == "status_contradiction"]
    assert office and "but 2 of its 7 rows are marked" in office[0] and "Title" not in office[0]
    assert sum(f.code == "status_contradiction" for f in uwec_drafts.findings) == sum(
        f["code"] == "status_contradiction" for d in uwec_drafts.drafts for f in d.findings
    )


def test_a_finding_in_the_description_says_who_can_fix_it(uwec_result: GenerationResult) -> None:
    ticket = next(t for t in uwec_result.tickets if t.key == "bundle.paragraph.accordion_item.build")
    panel = next(n for n in ticket.description["content"] if n["type"] == "panel")
    lines = [plain_text(item) for item in panel["content"][1]["content"]]
    assert any(
        "marked implemented already" in line and line.endswith("(the spec author can fix this)") for line in lines
    )


def test_a_bundle_setting_its_own_notes_contradict_is_a_spec_defect_on_its_ticket(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}

    def said(key: str) -> list[str]:
        return [f["message"] for f in by_key[key].findings if f["code"] == "setting_contradiction"]

    (announcement,) = said("bundle.node.announcement.build")
    assert announcement == (
        "The content type Announcement (announcement) has Metatags 'n' (metatags off), but its notes say: 'Set "
        "metatags for no index/nofollow, etc' ('metatags'). Set Metatags to y, or change the note."
    )
    assert (
        next(f for f in by_key["bundle.node.announcement.build"].findings if f["code"] == "setting_contradiction")[
            "who_can_fix"
        ]
        == "spec_author"
    )
    # Metatags y with "Set a metatag for the home page": the note agrees with the setting.
    assert said("bundle.node.page.build") == []
    # Seven bundles say Metatags n and "Set a metatag for noindex": all seven, and nothing else in UWEC.
    assert sum(len(said(d.key)) for d in uwec_drafts.drafts) == 7


def test_a_setting_on_whose_note_says_no_is_a_contradiction_too() -> None:
    bundles = (
        "ID,Name,Machine name,X,Trns.,Sched.,Meta,Type,Settings/notes\n"
        ",News,news,a,y,n,y,Content type,No translation needed. Not scheduled. Metatags from the defaults.\n"
    )
    (draft,) = draft_tickets(intake([UploadedFile("Bundles.csv", bundles.encode())])).drafts
    found = [f for f in draft.findings if f["code"] == "setting_contradiction"]
    assert [f["column"] for f in found] == ["Trns."]  # the spec author's own column, to find the cell
    assert [f["message"] for f in found] == [
        "The content type News (news) has Translatable 'y' (translation on), but its notes say: 'No translation "
        "needed.' ('translation'). Set Translatable to n, or change the note."
    ]


def test_a_widget_drupal_does_not_offer_for_the_field_type_is_a_spec_defect(uwec_drafts: DraftSet) -> None:
    by_key = {d.key: d for d in uwec_drafts.drafts}
    (limit,) = [f for f in by_key["bundle.paragraph.profiles_list.build"].findings if f["code"] == "widget_mismatch"]
    assert limit["message"] == (
        "Field Limit List (field_limit_list) is List (integer) [list_integer], but its widget Single on/off checkbox "
        "[boolean_checkbox] works only on Boolean fields. Choose a widget for List (integer), or change the field "
        "type."
    )
    assert (limit["record"], limit["who_can_fix"]) == (518, "spec_author")
    # Five in UWEC (169: a Text area with a summary on a plain text field); a Webform field's "Select list" is
    # Webform's own widget, not core's, so it is not one of them.
    found = sorted(f["record"] for d in uwec_drafts.drafts for f in d.findings if f["code"] == "widget_mismatch")
    assert found == [11, 169, 170, 518, 601]
