"""A ticket's description: the draft's tables, notes, findings and source around the writer's prose, as ADF.

`render` is a pure function of the draft and the prose, so a worker can store drafts first and finish each ticket
whenever its prose arrives.
"""

from __future__ import annotations

from typing import Any

from app.adf import nodes
from app.adf.nodes import Node
from app.generation import adf
from app.generation.citations import source_lines
from app.generation.naming import slug
from app.generation.tables import Table
from app.generation.tickets import TicketDraft
from app.llm import TicketProse


def table_filename(table: Table, extension: str) -> str:
    return f"{slug(table.title)}.{extension}"


def render(
    draft: TicketDraft,
    prose: TicketProse,
    *,
    attached_tables: frozenset[int] = frozenset(),
    attached_findings: bool = False,
    attached_criteria: bool = False,
    hidden_summaries: frozenset[int] = frozenset(),
    text_summaries: frozenset[int] = frozenset(),
    attached_behat: bool = False,
    attached_notes: bool = False,
) -> Node:
    """The ADF description; the tables at `attached_tables` (indexes) and, if `attached_findings`, the findings and,
    if `attached_criteria`, the data's criteria are replaced by a pointer to their attachment."""
    return nodes.doc(
        nodes.heading("User story"),
        nodes.paragraph(nodes.inline(prose.user_story)),
        _hold_panel(draft),
        *_configuration(draft, attached_tables, hidden_summaries, text_summaries),
        *_notes(draft.notes, attached_notes),
        nodes.heading("Success criteria"),
        *_criteria(draft, prose, attached_criteria),
        *_behat(draft, attached_behat),
        _findings_panel(draft.findings, attached_findings),
        *_source(draft),
    )


def _hold_panel(draft: TicketDraft) -> Node | None:
    if draft.on_hold:
        return nodes.panel(
            "warning",
            nodes.paragraph(
                nodes.text("On hold: ", "strong"),
                nodes.text(
                    "the spec marks this work as waiting (status w). Settle the open questions before starting."
                ),
            ),
        )
    if draft.held:
        return nodes.panel(
            "note",
            nodes.paragraph(nodes.text("Rows on hold in this ticket", "strong")),
            nodes.bullet_list([nodes.list_item(nodes.paragraph(nodes.inline(row))) for row in draft.held]),
        )
    return None


def _configuration(
    draft: TicketDraft, attached: frozenset[int], hidden: frozenset[int], as_text: frozenset[int]
) -> list[Node | None]:
    if not draft.tables and not draft.remarks:
        return []
    blocks: list[Node | None] = [nodes.heading("Configuration")]
    for index, table in enumerate(draft.tables):
        blocks.append(nodes.heading(table.title, 4))
        summary = table.summary() if index not in hidden else None
        if index not in attached:
            blocks.append(adf.table(table))
        elif summary is not None:
            # As plain text the summary costs a tenth of a table's ADF, which is what keeps 40 fields readable inline.
            blocks.append(_code(summary.to_text()) if index in as_text else adf.table(summary))
            blocks.append(
                nodes.paragraph(
                    nodes.inline(f"Every column of this table is in the attached {table_filename(table, 'csv')}.")
                )
            )
        else:
            blocks.append(
                nodes.paragraph(
                    nodes.inline(
                        f"{table.record_count} row{'' if table.record_count == 1 else 's'}, too many for the "
                        "description: see the attached "
                        f"{table_filename(table, 'csv')} (and tables.md)."
                    )
                )
            )
    blocks.extend(nodes.paragraph(nodes.inline(remark)) for remark in draft.remarks)
    return blocks


CRITERIA_FILE = "success-criteria.md"
BEHAT_FILE = "acceptance.feature"
NOTES_FILE = "notes.md"
WHOLE_SITE_NOTE = (
    "These are this ticket's rows of the Spec Tool's tables. Its steps compare the whole site, so run the site's "
    "feature instead (Review: Download Behat tests): until every ticket is done it reports other tickets' rows as "
    "missing, and this ticket is done when none of its own rows is reported missing or unexpected."
)


def _behat(draft: TicketDraft, attached: bool) -> list[Node | None]:
    if not draft.behat:
        return []
    heading = nodes.heading("Acceptance tests (Drupal Spec Tool, Behat)")
    # The Spec Tool's "exactly the following ..." steps compare the whole site (every bundle's fields, every role...),
    # so run alone a ticket's scenario fails on any other row: every ticket says how to check its rows instead.
    scope = nodes.paragraph(nodes.inline(WHOLE_SITE_NOTE))
    if attached:
        pointer = nodes.paragraph(nodes.inline(f"Too long for the description: see the attached {BEHAT_FILE}."))
        return [heading, scope, pointer]
    return [heading, scope, _code(draft.behat.rstrip("\n"), "gherkin")]


def _criteria(draft: TicketDraft, prose: TicketProse, attached: bool) -> list[Node | None]:
    if not attached:
        return [adf.checklist([*draft.criteria, *prose.success_criteria], "success-criteria")]
    pointer = f"{len(draft.criteria)} criteria from the spec rows, too many for the description: see {CRITERIA_FILE}."
    return [nodes.paragraph(nodes.inline(pointer)), adf.checklist(list(prose.success_criteria), "success-criteria")]


def _notes(notes: tuple[str, ...], attached: bool) -> list[Node | None]:
    if not notes:
        return []
    if attached:
        pointer = f"The notes from the spec are too long for the description: see the attached {NOTES_FILE}."
        return [nodes.heading("Notes from the spec"), nodes.paragraph(nodes.inline(pointer))]
    return [nodes.heading("Notes from the spec"), *(nodes.paragraph(adf.marked(note)) for note in notes)]


_WHO = {
    "spec_author": "the spec author can fix this",
    "jira_admin": "the Jira admin can fix this",
    "retry_later": "nobody needs to: retry later",
    "developer": "the developer decides",
    "director": "the director decides",
}


def finding_line(finding: dict[str, Any]) -> str:
    """ "warning, UWEC_Fields.csv, row field_subtitle of College (Content type), Machine name: ...message...
    Suggestion: ... (the spec author can fix this)"; by record and cell only when the finding is on no row of the
    spec (those numbers move when a row is added above: `app.generation.citations`)."""
    located = (
        (f"row {finding['row']}",)
        if finding.get("row")
        else (
            f"record {finding['record']}" if finding.get("record") else "",
            f"cell {finding['cell']}" if finding.get("cell") else "",
        )
    )
    where = ", ".join(filter(None, (str(finding.get("file", "")), *located, str(finding.get("column", "")))))
    suggestion = f" Suggestion: {finding['suggestion']}" if finding.get("suggestion") else ""
    who = f" ({_WHO[str(finding['who_can_fix'])]})" if str(finding.get("who_can_fix")) in _WHO else ""
    return f"{finding['severity']}, {where}: {finding['message']}{suggestion}{who}"


def _findings_panel(findings: tuple[dict[str, Any], ...], attached: bool) -> Node | None:
    if not findings:
        return None
    severe = any(f.get("severity") in ("warning", "blocking") for f in findings)
    heading = nodes.paragraph(nodes.text(f"Spec findings for this ticket ({len(findings)})", "strong"))
    if attached:
        return nodes.panel(
            "warning" if severe else "info",
            heading,
            nodes.paragraph(nodes.inline("The findings are listed in the attached findings.md.")),
        )
    return nodes.panel(
        "warning" if severe else "info",
        heading,
        nodes.bullet_list([nodes.list_item(nodes.paragraph(nodes.inline(finding_line(f)))) for f in findings]),
    )


def _source(draft: TicketDraft) -> list[Node | None]:
    lines = source_lines(draft.rows)
    if not lines:
        return [nodes.heading("Source"), nodes.paragraph(nodes.inline("Derived from the spec as a whole."))]
    return [
        nodes.heading("Source"),
        nodes.bullet_list([nodes.list_item(nodes.paragraph(nodes.inline(line))) for line in lines]),
    ]


def _code(value: str, language: str = "") -> Node | None:
    """A code block, or nothing for an empty value."""
    return nodes.code_block(value, language) if value else None
