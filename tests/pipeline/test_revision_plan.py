"""The revision plan: per ticket new, changed (with a readable diff), unchanged, gone, or a conflict with Jira."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from app.pipeline.issue_requests import attachments_hash, content_hash
from app.pipeline.revision_plan import (
    CHANGED,
    CONFLICT,
    FLAG_LABEL,
    GONE,
    NEW,
    UNCHANGED,
    JiraState,
    Move,
    plan_revision,
)

pytestmark = [pytest.mark.unit, pytest.mark.export]


def table(*rows: tuple[str, str]) -> dict[str, Any]:
    def cell(kind: str, text: str) -> dict[str, Any]:
        return {"type": kind, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}

    header = {"type": "tableRow", "content": [cell("tableHeader", "Machine name"), cell("tableHeader", "Type")]}
    body = [{"type": "tableRow", "content": [cell("tableCell", a), cell("tableCell", b)]} for a, b in rows]
    return {"type": "doc", "version": 1, "content": [{"type": "table", "content": [header, *body]}]}


@dataclass(frozen=True)
class Ticket:
    key: str
    title: str
    description: dict[str, Any]
    jira_key: str | None = None
    draft: dict[str, Any] = field(default_factory=dict)
    action: str = "build"
    attachments: list[dict[str, Any]] = field(default_factory=list)


def sent(ticket: Ticket) -> JiraState:
    """The issue as we sent it, untouched in Jira since."""
    assert ticket.jira_key is not None
    same = content_hash(ticket.title, ticket.description)
    return JiraState(ticket.jira_key, same, same, sent_attachments=attachments_hash(ticket.attachments))


ARTICLE = Ticket("bundle.node.article.build", "Content model: Build Article", table(("field_body", "text")), "DTG-1")
PAGE = Ticket("bundle.node.page.build", "Content model: Build Page", table(("field_intro", "text")), "DTG-2")
EVENT = Ticket("bundle.node.event.build", "Content model: Build Event", table(("field_date", "datetime")), "DTG-3")


def test_each_ticket_is_new_changed_unchanged_or_gone_by_its_stable_key() -> None:
    previous = [ARTICLE, PAGE, EVENT]
    in_jira = {t.key: sent(t) for t in previous}
    retyped = replace(ARTICLE, description=table(("field_body", "text_long"), ("field_tags", "entity_reference")))
    new = Ticket("bundle.node.news.build", "Content model: Build News", table(("field_source", "link")))
    plan = plan_revision(previous, [replace(retyped, jira_key=None), replace(PAGE, jira_key=None), new], in_jira)

    kinds = {change.ticket_key: (change.kind, change.issue_key) for change in plan.changes}
    assert kinds == {
        ARTICLE.key: (CHANGED, "DTG-1"),
        PAGE.key: (UNCHANGED, "DTG-2"),
        new.key: (NEW, None),
        EVENT.key: (GONE, "DTG-3"),
    }
    assert plan.counts() == {CHANGED: 1, UNCHANGED: 1, NEW: 1, GONE: 1}
    [changed] = plan.of_kind(CHANGED)
    # The diff reads as table rows: the retyped field goes out and in, the added field comes in.
    assert "-| field_body | text |" in changed.diff
    assert "+| field_body | text_long |" in changed.diff
    assert "+| field_tags | entity_reference |" in changed.diff
    assert changed.diff[:2] == ["--- in Jira", "+++ in the revised spec"]


def test_a_changed_ticket_whose_issue_was_edited_in_jira_is_a_conflict_not_an_update() -> None:
    edited = JiraState("DTG-1", content_hash(ARTICLE.title, ARTICLE.description), content_hash("Renamed", None))
    retitled = replace(ARTICLE, title="Content model: Build Article content type (2 fields)")
    # The page's issue was edited too, but the spec did not change it: nothing to do, Jira's edit stays.
    page_edited = JiraState("DTG-2", content_hash(PAGE.title, PAGE.description), content_hash("Renamed", None))
    plan = plan_revision([ARTICLE, PAGE], [retitled, PAGE], {ARTICLE.key: edited, PAGE.key: page_edited})
    assert [(c.ticket_key, c.kind) for c in plan.changes] == [(ARTICLE.key, CONFLICT), (PAGE.key, UNCHANGED)]
    [conflict] = plan.of_kind(CONFLICT)
    assert "-# Content model: Build Article" in conflict.diff
    assert "+# Content model: Build Article content type (2 fields)" in conflict.diff


def test_a_ticket_whose_issue_jira_no_longer_shows_is_created_again_and_an_issue_without_our_hash_is_trusted() -> None:
    older_issue = JiraState("DTG-2", None, "anything")  # made before issues carried sentHash
    plan = plan_revision(
        [ARTICLE, PAGE], [ARTICLE, replace(PAGE, title="Content model: Build Basic page")], {PAGE.key: older_issue}
    )
    assert [(c.ticket_key, c.kind) for c in plan.changes] == [(ARTICLE.key, NEW), (PAGE.key, CHANGED)]


def test_what_was_applied_is_unchanged_the_next_time_and_a_flagged_issue_is_left_alone() -> None:
    retitled = replace(ARTICLE, title="Content model: Build Article content type (1 field)")
    # After the first apply the issue shows what we sent and its sentHash is the revised ticket's.
    applied = content_hash(retitled.title, retitled.description)
    gone = JiraState("DTG-3", "h", "h", labels=(FLAG_LABEL, "content-model"))
    plan = plan_revision(
        [ARTICLE, EVENT], [retitled], {ARTICLE.key: JiraState("DTG-1", applied, applied), EVENT.key: gone}
    )
    assert [(c.ticket_key, c.kind, c.flagged) for c in plan.changes] == [
        (ARTICLE.key, UNCHANGED, False),
        (EVENT.key, GONE, True),
    ]


def test_a_field_that_left_one_bundle_for_another_is_a_move() -> None:
    article = replace(ARTICLE, draft={"machine_names": ["article", "field_body", "field_tags"]})
    page = replace(PAGE, draft={"machine_names": ["page", "field_intro"]})
    plan = plan_revision(
        [article, page],
        [
            replace(article, draft={"machine_names": ["article", "field_body"]}),
            replace(page, draft={"machine_names": ["page", "field_intro", "field_tags"]}),
            # What a bundle marked `d` had goes with it to the removal ticket: not a move.
            Ticket(
                "remove.bundle.node",
                "Removals: Delete 1 content type",
                table(),
                draft={"machine_names": ["field_body"]},
                action="remove",
            ),
        ],
        {t.key: sent(t) for t in (article, page)},
    )
    assert plan.moves == [Move("field_tags", ARTICLE.key, PAGE.key)]


def test_a_ticket_left_out_of_the_revisions_export_leaves_its_issue_alone() -> None:
    in_jira = {ARTICLE.key: sent(ARTICLE), PAGE.key: sent(PAGE)}

    plan = plan_revision([ARTICLE, PAGE], [ARTICLE], in_jira, left_out=frozenset({PAGE.key}))

    assert [(c.ticket_key, c.kind) for c in plan.changes] == [(ARTICLE.key, UNCHANGED)]  # Page is still in the spec
    assert [c.ticket_key for c in plan_revision([ARTICLE, PAGE], [ARTICLE], in_jira).changes if c.kind == GONE] == [
        PAGE.key
    ]


def test_a_table_that_became_a_text_summary_diffs_row_by_row() -> None:
    # Near Jira's limit a table's summary goes into the description as text: only the added row is a change.
    summary = "Machine name | Type\n-------------+---------\nfield_body   | text\nfield_tags   | taxonomy"
    document = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "codeBlock", "content": [{"type": "text", "text": summary}]}],
    }
    grown = replace(ARTICLE, description=document)
    plan = plan_revision([ARTICLE], [grown], {ARTICLE.key: sent(ARTICLE)})
    (change,) = plan.of_kind(CHANGED)
    assert [line for line in change.diff if line[0] in "+-" and line[:3] not in ("+++", "---")] == [
        "+| field_tags | taxonomy |"
    ]


def test_a_ticket_whose_only_change_is_an_attached_table_is_changed_and_its_file_is_in_the_diff() -> None:
    def csv(content: str) -> list[dict[str, Any]]:
        return [{"filename": "fields-1.csv", "media_type": "text/csv", "content": content}]

    article = replace(ARTICLE, attachments=csv("machine_name\nfield_body\n"))
    revised = replace(article, attachments=csv("machine_name\nfield_body\nfield_tags\n"))
    retired = replace(article, attachments=[])  # its table fits in the description now

    plan = plan_revision([article], [revised], {ARTICLE.key: sent(article)})
    (change,) = plan.of_kind(CHANGED)
    files = [line for line in change.diff if "fields-1.csv" in line]
    assert [line[:30] for line in files] == ["-Attached: fields-1.csv (conte", "+Attached: fields-1.csv (conte"]
    assert files[0] != "-" + files[1][1:]  # the content hashes differ
    assert [c.kind for c in plan_revision([article], [retired], {ARTICLE.key: sent(article)}).changes] == [CHANGED]
    # Once applied (the property carries the new files' hash), the same revision changes nothing.
    assert [c.kind for c in plan_revision([article], [revised], {ARTICLE.key: sent(revised)}).changes] == [UNCHANGED]
    # An issue made before issues carried the files' hash: the revised session's files are the baseline.
    older = replace(sent(article), sent_attachments=None)
    assert [c.kind for c in plan_revision([article], [article], {ARTICLE.key: older}).changes] == [UNCHANGED]
    assert [c.kind for c in plan_revision([article], [revised], {ARTICLE.key: older}).changes] == [CHANGED]
