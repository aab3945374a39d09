"""How a ticket names the spec rows it came from: by what each row is (its file, its machine name, and the parent
it belongs to as the row writes it), never by its position. A position moves whenever a row is added above it, so
a ticket citing "record 147" is wrong after the next revision of the spec, and a revision plan would update every
ticket below an inserted row. A developer still finds the row: filter the file's parent column, or search for the
machine name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from app.generation.tables import cell_by_role
from app.intake.model import SpecItem, SpecModel

# The column that names a row's parent, per kind of child row: a field's bundle, a display's view, an effect's
# image style, a state's or transition's workflow.
PARENT_ROLES = ("bundle", "view", "image_style", "workflow")
# A parent with more rows than this in one ticket is cited by its count (its table lists them).
LISTED_CHILDREN = 3


@dataclass(frozen=True, order=True)
class RowRef:
    """A row by identity: its file, its parent as the row names it ("" for a top-level row), and its name."""

    file: str
    parent: str
    name: str

    def __str__(self) -> str:
        return f"{self.name} of {self.parent}" if self.parent else self.name


def row_ref(item: SpecItem) -> RowRef:
    parent = next((text for role in PARENT_ROLES if (text := cell_by_role(item, role))), "")
    # A base field has no machine name ("-"): its label is what the row shows.
    return RowRef(item.source.file, parent, item.machine_name or item.label)


def rows_by_position(model: SpecModel) -> dict[tuple[str, int], RowRef]:
    """Every row of the spec, by (file, record): what a finding located by position is, as a ticket names it."""
    found: dict[tuple[str, int], RowRef] = {}
    for collection in fields(model):
        for item in getattr(model, collection.name):
            if isinstance(item, SpecItem):
                found.setdefault((item.source.file, item.source.record), row_ref(item))
    return found


def with_row(finding: dict[str, Any], rows: dict[tuple[str, int], RowRef]) -> dict[str, Any]:
    """A finding's dict with the row it is on (`row`) when it is on a row of the spec."""
    ref = rows.get((str(finding.get("file", "")), int(finding.get("record") or 0)))
    return {**finding, "row": str(ref)} if ref is not None else finding


def source_lines(rows: Iterable[RowRef]) -> list[str]:
    """One line per file, in the order the rows come: "UWEC_Fields.csv: 17 rows of College (Content type)",
    "UWEC_Bundles.csv: college" (a parent's rows are listed by name when there are few)."""
    by_file: dict[str, dict[str, dict[str, int]]] = {}
    for ref in rows:
        names = by_file.setdefault(ref.file, {}).setdefault(ref.parent, {})
        names[ref.name] = names.get(ref.name, 0) + 1  # a transition has a row per from-state, of one name
    lines = []
    for file, parents in by_file.items():
        cited = []
        for parent, names in parents.items():
            if not parent:
                cited.append(", ".join(names))
            elif len(names) > LISTED_CHILDREN:
                cited.append(f"{sum(names.values())} rows of {parent}")
            else:
                cited.append(f"{', '.join(names)} of {parent}")
        lines.append(f"{file}: {'; '.join(cited)}")
    return lines
