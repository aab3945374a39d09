"""Measure: how far the generated tickets are from ones a technical lead would hand out unedited (not collected).

    .venv/bin/python tests/bench/bench_ticket_quality.py [spec files ...] [--show N] [--seed S]

For the UWEC sample by default, with the offline writer, prints:
- the share of field rows (of bundle tickets) whose label, machine name and type can be read in the description
  itself (a table cell row or a line of the plain-text summary), not only in an attachment;
- success criteria per ticket (min / median / max, and how many come from the data);
- generic criteria: those matching a fixed list of template phrases a lead would strike out;
- the personas the user stories speak for;
- descriptions that fail the ADF schema (must be 0) or pass Jira's limit (must be 0);
and, with --show N, N tickets picked at random (seeded), as Markdown, for a reading against the rubric.
Exits 1 when a description is invalid or too long, or a generic phrase appears.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.adf import MAX_DESCRIPTION, description_size
from app.adf.markdown import to_markdown
from app.generation import GenerationResult, TicketDraft, draft_tickets, generate_tickets, validate_adf
from app.generation.adf import plain_text
from app.intake import UploadedFile, intake_files
from tests.support import UWEC

# Phrases of template criteria that name nothing a developer can check (the ones issue 12 found a lead deleting).
GENERIC_PHRASES = (
    "all fields from the table exist",
    "every field in the field table exists",
    "matches every row of the configuration tables",
    "works end to end with test content",
    "built as specified",
    "exported to the codebase and imports cleanly",
    "each note from the spec is addressed",
    "path, format, filters and sorting listed",
    "roles listed for it",
    "matches the spec:",
)


def _rows(node: dict[str, Any]) -> list[list[str]]:
    """Every table row of the description as cell texts, and every line of its code blocks split on pipes."""
    rows: list[list[str]] = []
    if node.get("type") == "tableRow":
        rows.append([plain_text(cell).strip() for cell in node["content"]])
    elif node.get("type") == "codeBlock":
        rows.extend([cell.strip() for cell in line.split("|")] for line in plain_text(node).splitlines())
    for child in node.get("content", []):
        if node.get("type") != "tableRow":
            rows.extend(_rows(child))
    return rows


def inline_field_rows(draft: TicketDraft, description: dict[str, Any]) -> tuple[int, int]:
    """(field rows whose label, machine name and type are all in one row of the description, field rows)."""
    table = next((t for t in draft.tables if t.title == "Fields"), None)
    if table is None:
        return 0, 0
    header = [c.text for c in table.rows[0]]
    wanted = [header.index(h) for h in ("Field label", "Machine name", "Field type") if h in header]
    shown = [set(row) for row in _rows(description)]
    inline = sum(1 for row in table.rows[1:] if any({row[i].text for i in wanted} <= cells for cells in shown))
    return inline, len(table.rows) - 1


def measure(result: GenerationResult, drafts: dict[str, TicketDraft]) -> bool:
    inline = total = 0
    per_ticket, from_data, generic, personas = [], [], [], Counter()
    invalid = too_long = 0
    for ticket in result.tickets:
        draft = drafts[ticket.key]
        shown, rows = inline_field_rows(draft, ticket.description)
        inline, total = inline + shown, total + rows
        criteria = [
            plain_text(item)
            for node in ticket.description["content"]
            if node["type"] == "taskList"
            for item in node["content"]
        ]
        attached = len(draft.criteria) if "success-criteria.md" in {a.filename for a in ticket.attachments} else 0
        per_ticket.append(len(criteria) + attached)
        from_data.append(len(draft.criteria))
        generic += [c for c in criteria if any(p in c.lower() for p in GENERIC_PHRASES)]
        personas[draft.persona] += 1
        invalid += bool(validate_adf(ticket.description))
        too_long += description_size(ticket.description) > MAX_DESCRIPTION
    print(f"Tickets: {len(result.tickets)}")
    print(f"Field rows with label, machine name and type inline: {inline}/{total} = {inline / max(total, 1):.1%}")
    print(
        f"Criteria per ticket: min {min(per_ticket)}, median {statistics.median(per_ticket):g}, max {max(per_ticket)}"
        f"; {sum(from_data)} of {sum(per_ticket)} from the data"
    )
    print(f"Generic criteria ({len(GENERIC_PHRASES)} phrases): {len(generic)}")
    for line in generic[:5]:
        print(f"  {line}")
    print("Personas: " + ", ".join(f"{persona} {count}" for persona, count in personas.most_common()))
    print(f"Descriptions invalid ADF: {invalid}; over {MAX_DESCRIPTION:,} characters: {too_long}")
    return not (invalid or too_long or generic)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="*", type=Path, help="spec CSV files (default: the UWEC sample)")
    parser.add_argument("--show", type=int, default=0, help="print this many random tickets as Markdown")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    paths = args.files or sorted(UWEC.glob("*.csv"))
    spec = intake_files([UploadedFile(p.name, p.read_bytes()) for p in paths])
    drafts = {d.key: d for d in draft_tickets(spec).drafts}
    result = asyncio.run(generate_tickets(spec))
    ok = measure(result, drafts)
    for ticket in random.Random(args.seed).sample(list(result.tickets), min(args.show, len(result.tickets))):
        attachments = ", ".join(a.filename for a in ticket.attachments) or "none"
        print(
            f"\n{'=' * 100}\n{ticket.title}  [{ticket.key}; blocked by {len(ticket.blocked_by)}; attachments "
            f"{attachments}]\n"
        )
        print(to_markdown(ticket.description))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
