"""Descriptions over Jira's limit: the tables (and if need be the findings) move into attachments."""

from __future__ import annotations

from typing import Any

from app.generation import adf
from app.generation.description import finding_line, render, table_filename
from app.generation.tickets import Attachment, TicketDraft
from app.llm import TicketProse

# Jira rejects a description over 32,767 characters. We count len(json.dumps(adf)), the serialised ADF, which is
# what the REST call carries and is never shorter than the text Jira counts, so staying under it is safe.
MAX_DESCRIPTION = 32_767


def describe(draft: TicketDraft, prose: TicketProse) -> tuple[dict[str, Any], tuple[Attachment, ...]]:
    """The description and its attachments: inline when it fits; else the largest tables move into attachments
    one by one until it fits, and the findings too if the tables were not enough."""
    attached: set[int] = set()
    document = render(draft, prose)
    by_size = sorted(range(len(draft.tables)), key=lambda i: (-adf.size(adf.table(draft.tables[i])), i))
    for index in by_size:
        if adf.size(document) <= MAX_DESCRIPTION:
            break
        attached.add(index)
        document = render(draft, prose, attached_tables=frozenset(attached))
    attachments = [
        Attachment(table_filename(draft.tables[i], "csv"), "text/csv", draft.tables[i].to_csv())
        for i in sorted(attached)
    ]
    if attached:
        markdown = "\n".join(draft.tables[i].to_markdown() for i in sorted(attached))
        attachments.append(Attachment("tables.md", "text/markdown", f"# {draft.title}\n\n{markdown}"))
    if adf.size(document) > MAX_DESCRIPTION:
        lines = "\n".join(f"- {finding_line(f)}" for f in draft.findings)
        attachments.append(Attachment("findings.md", "text/markdown", f"# Spec findings: {draft.title}\n\n{lines}\n"))
        document = render(draft, prose, attached_tables=frozenset(attached), attached_findings=True)
    return document, tuple(attachments)
