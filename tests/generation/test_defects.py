"""Contradictions and shared-storage conflicts appear on every ticket they concern, with who can fix them."""

from __future__ import annotations

import pytest

from app.generation import DraftSet, GenerationResult
from app.generation.adf import plain_text
from app.intake import IntakeResult

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
        "The paragraph type Accordion Item (accordion_item) is marked to be built (status a), but all of its rows are "
        "marked implemented already (x)",
        "1 field of the new paragraph type Accordion Item (accordion_item) is marked to be deleted (d)",
    ]
    assert all(f["who_can_fix"] == "spec_author" and f["severity"] == "warning" for f in accordion)
    # A base field marked x is not a contradiction: the title comes with every bundle.
    office = [f["message"] for f in by_key["bundle.node.office.build"].findings if f["code"] == "status_contradiction"]
    assert office and "2 of the 7" in office[0] and "Title" not in office[0]
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
