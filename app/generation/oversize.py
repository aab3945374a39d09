"""Descriptions over Jira's limit: tables, then the spec's notes, the findings, then the rows' criteria move into
attachments.

A table with summary columns (the field table) keeps them inline when the whole table is attached, so every field's
label, machine name, type, required flag, values, widget and target stay readable in the issue.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from app.adf import MAX_DESCRIPTION
from app.generation import adf
from app.generation.description import BEHAT_FILE, CRITERIA_FILE, NOTES_FILE, finding_line, render, table_filename
from app.generation.tickets import Attachment, TicketDraft
from app.llm import TicketProse


@dataclass(frozen=True)
class _Layout:
    """What of a description is attached instead of shown."""

    tables: frozenset[int] = frozenset()
    findings: bool = False
    criteria: bool = False
    text_summaries: frozenset[int] = frozenset()  # attached tables whose summary is shown as plain text
    behat: bool = False
    notes: bool = False
    summaries: frozenset[int] = frozenset()  # attached tables whose summary columns are hidden too


def describe(draft: TicketDraft, prose: TicketProse) -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    """The description and its attachments: inline when it fits; else the Behat check and the largest tables move
    into attachments one
    by one (keeping their summary columns as a table, then as plain text), then the findings, the criteria, then
    the summaries; tables that fit again after that come back inline, smallest first."""

    # The search below asks about the same layout several times (a ticket that fits is checked at every step), and
    # rendering is the cost of generation: each layout is rendered and sized once.
    @functools.cache
    def document(layout: _Layout) -> dict[str, Any]:
        return render(
            draft,
            prose,
            attached_tables=layout.tables,
            attached_findings=layout.findings,
            attached_criteria=layout.criteria,
            hidden_summaries=layout.summaries,
            text_summaries=layout.text_summaries,
            attached_behat=layout.behat,
            attached_notes=layout.notes,
        )

    @functools.cache
    def fits(layout: _Layout) -> bool:
        return adf.size(document(layout)) <= MAX_DESCRIPTION

    if fits(inline_layout := _Layout()):  # most tickets: nothing moves, and the tables need not be sized
        return document(inline_layout), ()
    # The Behat check goes first: it repeats the tables, and the session's .feature file carries it too.
    layout = _Layout(behat=bool(draft.behat))
    by_size = sorted(range(len(draft.tables)), key=lambda i: (-adf.size(adf.table(draft.tables[i])), i))
    summarised = [i for i in by_size if draft.tables[i].summary_headers]
    for index in by_size:
        if fits(layout):
            break
        layout = replace(layout, tables=layout.tables | {index})
        # An attached table's summary shrinks to plain text before a smaller table (a bundle's settings) must go.
        if index in summarised and not fits(layout):
            layout = replace(layout, text_summaries=layout.text_summaries | {index})
    for index in summarised:
        if fits(layout):
            break
        layout = replace(layout, text_summaries=layout.text_summaries | {index})
    if not fits(layout) and draft.notes:
        layout = replace(layout, notes=True)
    if not fits(layout) and draft.findings:
        layout = replace(layout, findings=True)
    if not fits(layout) and draft.criteria:
        layout = replace(layout, criteria=True)
    for index in summarised:
        if fits(layout):
            break
        layout = replace(layout, summaries=layout.summaries | {index})
    for index in reversed(by_size):
        if index in layout.tables and fits(smaller := replace(layout, tables=layout.tables - {index})):
            layout = smaller
    if layout.behat and fits(inline := replace(layout, behat=False)):
        layout = inline
    if layout.notes and fits(inline := replace(layout, notes=False)):
        layout = inline
    return document(layout), _attachments(draft, layout)


def _attachments(draft: TicketDraft, layout: _Layout) -> tuple[Attachment, ...]:
    attached = sorted(layout.tables)
    attachments = [
        Attachment(table_filename(draft.tables[i], "csv"), "text/csv", draft.tables[i].to_csv()) for i in attached
    ]
    if attached:
        markdown = "\n".join(draft.tables[i].to_markdown() for i in attached)
        attachments.append(Attachment("tables.md", "text/markdown", f"# {draft.title}\n\n{markdown}"))
    if layout.findings:
        lines = "\n".join(f"- {finding_line(f)}" for f in draft.findings)
        attachments.append(Attachment("findings.md", "text/markdown", f"# Spec findings: {draft.title}\n\n{lines}\n"))
    if layout.behat:
        attachments.append(Attachment(BEHAT_FILE, "text/x-gherkin", draft.behat))
    if layout.notes:
        notes = "\n\n".join(draft.notes)
        attachments.append(
            Attachment(NOTES_FILE, "text/markdown", f"# Notes from the spec: {draft.title}\n\n{notes}\n")
        )
    if layout.criteria:
        checklist = "\n".join(f"- [ ] {criterion}" for criterion in draft.criteria)
        attachments.append(
            Attachment(CRITERIA_FILE, "text/markdown", f"# Success criteria: {draft.title}\n\n{checklist}\n")
        )
    return tuple(attachments)
