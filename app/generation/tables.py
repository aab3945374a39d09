"""Configuration tables copied verbatim from spec rows, and their attachment forms (CSV and Markdown).

Every value cell remembers the row and column it came from, so a table can always be checked against the spec
(`Cell.file`, `Cell.record`, `Cell.header`). One builder serves every kind of row: the columns are the row's own
headers in file order, minus bookkeeping columns, computed lookups and the columns the ticket already implies.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.csv_safety import csv_text
from app.intake.columns import kind_columns, map_headers
from app.intake.model import (
    Bundle,
    FieldInstance,
    ImageEffect,
    ImageStyle,
    Menu,
    ResponsiveImageStyle,
    Role,
    SpecItem,
    SpecKind,
    View,
    ViewDisplay,
    ViewMode,
    Workflow,
    WorkflowState,
    WorkflowTransition,
)

KIND_OF: dict[type[SpecItem], SpecKind] = {
    Bundle: SpecKind.BUNDLES,
    FieldInstance: SpecKind.FIELDS,
    View: SpecKind.VIEWS,
    ViewDisplay: SpecKind.VIEW_DISPLAYS,
    ViewMode: SpecKind.VIEW_MODES,
    ImageStyle: SpecKind.IMAGE_STYLES,
    ImageEffect: SpecKind.IMAGE_EFFECTS,
    ResponsiveImageStyle: SpecKind.RESPONSIVE_IMAGE_STYLES,
    Role: SpecKind.ROLES,
    Workflow: SpecKind.WORKFLOWS,
    WorkflowState: SpecKind.WORKFLOW_STATES,
    WorkflowTransition: SpecKind.WORKFLOW_TRANSITIONS,
    Menu: SpecKind.MENUS,
}

# Jira keys and people's initials are tracking, not configuration; they would only go stale in a ticket.
_BOOKKEEPING = frozenset({"id", "dev", "qa"})

# Spreadsheet abbreviations, spelled out for the ticket by column role ("X" -> "Spec status", "Mod." -> "Moderated").
# Only the heading changes: values are copied exactly and each cell still names its source header.
SPELLED_OUT: dict[str, str] = {
    "status": "Spec status",  # the X column; "Status" is a view's own column (Enabled/Disabled)
    "moderated": "Moderated",
    "layout": "Layout Builder",
    "translated": "Translatable",
    "migrated": "Migrated",
    "meta": "Metatags",
    "scheduled": "Scheduled",
    "searched": "Searchable",
    "required": "Required",
    "cardinality": "Cardinality",
    "ref_bundle": "Reference target",
    "widget": "Form widget",
}


@dataclass(frozen=True)
class Cell:
    """One table cell: a heading (no source) or a value copied from `file` record `record`, column `header`."""

    text: str
    file: str = ""
    record: int = 0
    header: str = ""

    @property
    def is_heading(self) -> bool:
        return not self.file

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "file": self.file, "record": self.record, "header": self.header}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cell:
        return cls(data["text"], data.get("file", ""), data.get("record", 0), data.get("header", ""))


@dataclass(frozen=True)
class Table:
    """A titled grid of cells; the first row is the heading row (horizontal) or each row starts with one (vertical)."""

    title: str
    rows: tuple[tuple[Cell, ...], ...]
    # Headers of the columns that stay in the description when the whole table must go into an attachment.
    summary_headers: tuple[str, ...] = ()

    def summary(self) -> Table | None:
        """The table with only its summary columns, or None when it has none."""
        if not self.summary_headers or not self.rows:
            return None
        keep = [i for i, cell in enumerate(self.rows[0]) if cell.text in self.summary_headers]
        return Table(self.title, tuple(tuple(row[i] for i in keep) for row in self.rows))

    @property
    def record_count(self) -> int:
        """How many spec rows the table shows."""
        return len({(c.file, c.record) for row in self.rows for c in row if not c.is_heading})

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rows": [[cell.to_dict() for cell in row] for row in self.rows],
            "summary_headers": list(self.summary_headers),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        rows = tuple(tuple(Cell.from_dict(c) for c in row) for row in data["rows"])
        return cls(data["title"], rows, tuple(data.get("summary_headers", ())))

    def to_text(self) -> str:
        """A fixed-width plain-text table (for a code block): columns padded, one line per row."""
        lines = [[" ".join(cell.text.split()) for cell in row] for row in self.rows]
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
        text = [" | ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)) for line in lines]
        if text:
            text.insert(1, "-+-".join("-" * width for width in widths))
        return "\n".join(line.rstrip() for line in text)

    def to_csv(self) -> str:
        """For an attachment people open in a spreadsheet: formula cells are made inert (`app.csv_safety`)."""
        return csv_text([cell.text for cell in row] for row in self.rows)

    def to_markdown(self) -> str:
        """A GitHub-style table; markup in the values is escaped so that it reads as written in the spec."""
        lines = [f"## {self.title}", ""]
        for number, row in enumerate(self.rows):
            lines.append("| " + " | ".join(_markdown_cell(cell.text) for cell in row) + " |")
            if number == 0:
                lines.append("|" + " --- |" * len(row))
        return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


@lru_cache(maxsize=256)
def _roles(kind: SpecKind, headers: tuple[str, ...]) -> dict[str, str]:
    """Header -> column role for one file's header row."""
    roles, _ = map_headers(kind, headers)
    return {headers[index]: role for role, index in roles.items()}


@lru_cache(maxsize=64)
def _lookup_roles(kind: SpecKind) -> frozenset[str]:
    # Computed spreadsheet lookups leak errors (#VALUE!, #N/A); the ticket shows the references they were computed from.
    return frozenset(column.role for column in kind_columns(kind) if column.lookup)


def cell_by_role(item: SpecItem, role: str) -> str:
    """The stripped cell of `item` in the column whose role is `role` ("moderated", "url_alias"), "" when absent."""
    roles = _roles(KIND_OF[type(item)], tuple(item.cells))
    return next((text.strip() for header, text in item.cells.items() if roles.get(header) == role), "")


def role_of(item: SpecItem, header: str) -> str:
    """The role of one of `item`'s source headers ("meta" for "Meta."), "" when it has none."""
    return _roles(KIND_OF[type(item)], tuple(item.cells)).get(header, "")


def heading_of(item: SpecItem, header: str) -> str:
    """The heading a ticket shows for one of `item`'s source headers."""
    return SPELLED_OUT.get(_roles(KIND_OF[type(item)], tuple(item.cells)).get(header, ""), header)


def columns_of(item: SpecItem, omit: Iterable[str] = ()) -> list[str]:
    """The headers of `item`'s row that a ticket shows, in file order."""
    kind = KIND_OF[type(item)]
    roles = _roles(kind, tuple(item.cells))
    hidden = _BOOKKEEPING | _lookup_roles(kind) | set(omit)
    return [header for header in item.cells if roles.get(header) not in hidden]


def value_cell(item: SpecItem, header: str) -> Cell:
    """The cell of `item` under `header`, stripped of surrounding whitespace only."""
    return Cell(item.cells.get(header, "").strip(), item.source.file, item.source.record, header)


def rows_table(
    title: str, items: Sequence[SpecItem], omit: Iterable[str] = (), summary_roles: Iterable[str] = ()
) -> Table:
    """One row per item, one column per shown header (the union over the items, in first-seen order); the columns
    of `summary_roles` are the table's summary (what stays inline when the whole table is attached)."""
    omit = tuple(omit)
    headers: dict[str, None] = {}
    for item in items:
        headers.update(dict.fromkeys(columns_of(item, omit)))
    # A column empty on every row says nothing, and each empty cell still costs Jira's size limit ~90 characters.
    headers = {h: None for h in headers if any(item.cells.get(h, "").strip() for item in items)}
    first = items[0] if items else None
    heading_row = tuple(Cell(heading_of(first, header) if first else header) for header in headers)
    body = tuple(tuple(value_cell(item, header) for header in headers) for item in items)
    wanted = set(summary_roles)
    roles = _roles(KIND_OF[type(first)], tuple(first.cells)) if first else {}
    summary = tuple(cell.text for cell, header in zip(heading_row, headers, strict=True) if roles.get(header) in wanted)
    return Table(title, (heading_row, *body), summary)


def settings_table(title: str, item: SpecItem, omit: Iterable[str] = ()) -> Table:
    """One item as setting/value pairs: its headers down the left, its cells on the right."""
    # An empty setting says nothing (as an empty column in a rows table), so its row is left out.
    return Table(
        title,
        tuple(
            (Cell(heading_of(item, header)), value_cell(item, header))
            for header in columns_of(item, omit)
            if item.cells.get(header, "").strip()
        ),
    )
