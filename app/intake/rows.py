"""Rows: one CSV record seen through its kind's columns, with the checks every row gets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import zip_longest
from typing import NamedTuple

from app.intake.cell_errors import cell_address
from app.intake.columns import Column, kind_columns
from app.intake.findings import Code, Findings, Severity
from app.intake.model import Action, RowCells, SourceRef, SpecKind
from app.intake.names import is_error_literal, machine_name_problem, machine_name_rule, to_machine_name
from app.intake.reading import Record, Table
from app.intake.status import StatusMapping
from app.intake.vocabulary import MARK_WORDS, is_mark

# Columns that do not make a row content: a row with only these filled is a separator.
_NON_CONTENT = frozenset({"id", "status", "dev", "qa"})
# Columns that name things: a bare number there slipped from a neighbouring column.
_TEXT_ONLY = frozenset({"widget", "field_type", "entity_type", "display_plugin", "bundle", "ref_bundle"})
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def lenient(severity: Severity, action: Action) -> Severity:
    """Rows marked for removal are checked more leniently: their warnings become information."""
    return Severity.INFO if action is Action.REMOVE and severity is Severity.WARNING else severity


@dataclass
class Sheet:
    """A table whose kind is decided, with its header mapped to column roles."""

    table: Table
    kind: SpecKind
    roles: dict[str, int]
    names: tuple[str, ...]  # header text per column; blank or repeated headers get "Column N"
    mark_roles: frozenset[str] = frozenset()  # yes/no columns written as a word or blank (`Required` / "")

    @classmethod
    def of(cls, table: Table, kind: SpecKind, roles: dict[str, int]) -> Sheet:
        header = table.header.cells if table.header else ()
        names: list[str] = []
        for i, text in enumerate(header):
            text = text.strip()
            names.append(text if text and text not in names else f"Column {i + 1}")
        return cls(table, kind, roles, tuple(names), _mark_roles(table, roles))

    def columns(self) -> tuple[Column, ...]:
        return kind_columns(self.kind)

    @cached_property
    def header_index(self) -> dict[str, int]:
        """Header text -> column, for the rows' `RowCells` (a repeated name: its last column)."""
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def checked_columns(self) -> tuple[tuple[Column, int], ...]:
        """The mapped columns whose cells every row checks (computed lookups are only hints)."""
        return tuple((c, self.roles[c.role]) for c in self.columns() if c.role in self.roles and not c.lookup)

    def column_name(self, role: str) -> str:
        index = self.roles.get(role)
        return self.names[index] if index is not None else ""


class Flag(NamedTuple):
    """The arguments of one `Row.flag` call; `replay` makes the same call on another row."""

    code: Code
    severity: Severity
    message: str
    role: str
    value: str | None
    suggestion: str

    def replay(self, row: Row) -> None:
        row.flag(self.code, self.severity, self.message, self.role, value=self.value, suggestion=self.suggestion)


class Row:
    """Cell access by role; every finding it raises is located at this row."""

    __slots__ = ("_roles", "_values", "action", "findings", "record", "recording", "sheet", "source", "status")

    def __init__(
        self, sheet: Sheet, record: Record, findings: Findings, action: Action, status: str, values: tuple[str, ...]
    ) -> None:
        self.sheet = sheet
        self.record = record
        self.findings = findings
        self.action = action
        self.status = status
        self.source = SourceRef(sheet.table.name, record.number, record.line)
        # `values`: the record's cells trimmed, spreadsheet errors read as empty (the builder asks for each several
        # times), one per header column and a last "" that an unmapped role reads (no dict per row: 100,000 rows);
        # the sheet's columns were cleaned column by column, before the rows were made.
        self._roles = sheet.roles
        self._values = values
        # While set, each flag is also kept here as the call that raised it, so that the builder can raise the same
        # on the next row that resolves the same reference (`ModelBuilder._memo`).
        self.recording: list[Flag] | None = None

    @property
    def cells(self) -> RowCells:
        """Header -> raw cell text, verbatim (missing trailing cells are empty)."""
        return RowCells(self.sheet.header_index, self.record.cells)

    def raw(self, role: str) -> str:
        index = self.sheet.roles.get(role)
        if index is None or index >= len(self.record.cells):
            return ""
        return self.record.cells[index]

    def get(self, role: str) -> str:
        """The trimmed cell; spreadsheet error values read as empty (they are reported once per row)."""
        return self._values[self._roles.get(role, -1)]

    def flag(
        self,
        code: Code,
        severity: Severity,
        message: str,
        role: str = "",
        *,
        value: str | None = None,
        suggestion: str = "",
    ) -> None:
        if self.recording is not None:
            self.recording.append(Flag(code, severity, message, role, value, suggestion))
        index = self.sheet.roles.get(role) if role else None
        self.findings.add(
            code,
            lenient(severity, self.action),
            message,
            file=self.source.file,
            record=self.source.record,
            line=self.source.line,
            column=self.sheet.column_name(role) if role else "",
            value=self.raw(role) if value is None else value,
            suggestion=suggestion,
            # A tab's lines are the sheet's row numbers, so the cell can be named as the spreadsheet does.
            cell=cell_address(self.source.line - 1, index) if self.sheet.table.tab and index is not None else "",
        )

    @property
    def to_build(self) -> bool:
        return self.action in (Action.BUILD, Action.CHANGE, Action.HOLD)


def _mark_roles(table: Table, roles: dict[str, int]) -> frozenset[str]:
    """The yes/no columns where some cell is the column's mark word: there a blank cell means no."""
    marked = set()
    for role in MARK_WORDS.keys() & roles.keys():
        index = roles[role]
        distinct = {r.cells[index] for r in table.records if index < len(r.cells)}
        if any(is_mark(cell, role) for cell in distinct):
            marked.add(role)
    return frozenset(marked)


@dataclass(frozen=True)
class _Columns:
    """A sheet's cells within its header's width, column by column: each column is trimmed, and looked at for
    spreadsheet errors, in one pass over the column rather than one Python call per cell (specs have 100,000 rows).
    Records shorter than the header read as empty there."""

    stripped: list[list[str]]  # column -> record -> the cell trimmed
    cleaned: list[list[str]]  # the same with spreadsheet error values (#N/A) read as empty

    @classmethod
    def of(cls, records: list[Record], width: int) -> _Columns:
        transposed = list(zip_longest(*(r.cells for r in records), fillvalue=""))[:width]
        transposed += [("",) * len(records)] * (width - len(transposed))
        stripped = [list(map(str.strip, column)) for column in transposed]
        return cls(stripped, [_without_errors(column) for column in stripped])

    def any_filled(self, indexes: Iterable[int], count: int) -> list[bool]:
        """Per record: whether any of these columns has a value."""
        columns = [self.cleaned[i] for i in indexes]
        return [any(values) for values in zip(*columns, strict=True)] if columns else [False] * count

    def suspect(self, sheet: Sheet, count: int) -> list[bool]:
        """Per record: whether a checked cell may need a finding (blank, a spreadsheet error, a number where a name
        belongs), so that `_check_cells` looks at it; every other record passes the cell checks as it is."""
        flags: list[list[bool]] = []
        for column, index in sheet.checked_columns:
            raw, cleaned = self.stripped[index], self.cleaned[index]
            # A blank matters in a required column; an error value is read as blank, so blanks are looked at too.
            suspects = {""} if column.required or raw is not cleaned else set()
            if column.role in _TEXT_ONLY:
                suspects |= {value for value in set(raw) if NUMBER.fullmatch(value)}
            if suspects:
                flags.append([value in suspects for value in cleaned])
        return [any(values) for values in zip(*flags, strict=True)] if flags else [False] * count


def _without_errors(column: list[str]) -> list[str]:
    """A trimmed column with spreadsheet error values read as empty; the column itself when it has none."""
    # One search over the column joined: a value starting with "#" follows a NUL (control characters are gone by now).
    if "\x00#" not in "\x00" + "\x00".join(column):
        return column
    return ["" if value[:1] == "#" and is_error_literal(value) else value for value in column]


def rows(sheet: Sheet, findings: Findings, mapping: StatusMapping) -> Iterator[Row]:
    """The content rows of a sheet, after the row checks; separator rows are skipped."""
    width = len(sheet.names)
    records = sheet.table.records
    mapped = set(sheet.roles.values())
    content = {i for role, i in sheet.roles.items() if role not in _NON_CONTENT and not _is_lookup(sheet, role)}
    # A row is content when a cell is filled in a content column or in a column no role claims (extra columns).
    counts = set(range(width)) - mapped | content
    status_index = sheet.roles.get("status")
    columns = _Columns.of(records, width)
    statuses = columns.stripped[status_index] if status_index is not None else [""] * len(records)
    filled = columns.any_filled(sorted(counts), len(records))
    suspect = columns.suspect(sheet, len(records))
    # Each record's cleaned cells, in step with the records, and the "" an unmapped role reads (see `Row`).
    values = zip(*columns.cleaned, [""] * len(records), strict=True)
    for record, cleaned, status, has_content, check in zip(records, values, statuses, filled, suspect, strict=True):
        cells = record.cells
        if not has_content:
            if status:
                findings.add(
                    Code.STATUS_ON_EMPTY_ROW,
                    Severity.INFO,
                    "A status on an otherwise empty row; ignored.",
                    file=sheet.table.name,
                    record=record.number,
                    line=record.line,
                    column=sheet.column_name("status"),
                    value=status,
                )
            continue
        action = mapping.action_for(status)
        row = Row(sheet, record, findings, action or Action.NONE, status, cleaned)
        if action is None:
            row.flag(
                Code.UNKNOWN_STATUS,
                Severity.WARNING,
                f"Unknown status; known codes are {', '.join(mapping.codes)}. The row gets no ticket.",
                "status",
                suggestion=next((c for c in mapping.codes if status.lower().startswith(c)), ""),
            )
        if len(cells) > width and any(_clean(c) for c in cells[width:]):
            row.flag(
                Code.RAGGED_ROW,
                Severity.WARNING,
                f"The row has {len(cells)} cells but the header {width}; values past the last column are ignored.",
                value=str(len(cells)),
            )
        elif len(cells) < width and record is records[-1]:
            # Spreadsheet tools write every cell; a short last record usually means a cut-off file.
            row.flag(
                Code.RAGGED_ROW,
                Severity.INFO,
                f"The last record has {len(cells)} of {width} cells; the file may be truncated.",
                value=str(len(cells)),
            )
        _check_cells(row, check)
        yield row


def _is_lookup(sheet: Sheet, role: str) -> bool:
    return any(c.role == role and c.lookup for c in sheet.columns())


def _clean(cell: str) -> str:
    """A cell trimmed, with spreadsheet error values (#N/A, #VALUE!) read as empty."""
    value = cell.strip()
    return "" if value[:1] == "#" and is_error_literal(value) else value


def _check_cells(row: Row, suspect: bool) -> None:
    """The cell checks of a row; `suspect` says whether any checked cell may need one (see `_Columns.suspect`)."""
    cells = row.record.cells
    for column, index in row.sheet.checked_columns if suspect else ():
        raw = cells[index].strip() if index < len(cells) else ""
        if raw[:1] == "#" and is_error_literal(raw):
            row.flag(
                Code.SPREADSHEET_ERROR,
                Severity.WARNING,
                f"The cell holds the spreadsheet error {raw}; it is read as empty.",
                column.role,
            )
        elif column.role in _TEXT_ONLY and NUMBER.fullmatch(raw):
            row.flag(
                Code.VALUE_IN_WRONG_COLUMN,
                Severity.WARNING,
                f"A number in {row.sheet.column_name(column.role)}, which names a thing; it probably belongs in "
                "another column.",
                column.role,
            )
        elif (
            not raw
            and column.required
            and row.to_build
            and column.role not in row.sheet.mark_roles
            and not _base_field(row, column.role)
        ):
            row.flag(
                Code.MISSING_VALUE,
                Severity.WARNING,
                f"{row.sheet.column_name(column.role)} is empty on a row marked to be built.",
                column.role,
            )
    name = row.get("machine_name")
    if name:
        problem = (
            "is a placeholder, which only base fields such as the title may use"
            if name == "-"
            else (machine_name_problem(name, row.sheet.kind))
        )
        if problem and not _base_field(row, "machine_name"):
            row.flag(
                Code.INVALID_MACHINE_NAME,
                Severity.WARNING,
                f"Machine name {name!r} {problem}; Drupal allows {machine_name_rule(row.sheet.kind).allowed} in "
                f"a {row.sheet.kind.value.replace('_', ' ').rstrip('s')} machine name.",
                "machine_name",
                suggestion=to_machine_name(name if name != "-" else row.get("label"), row.sheet.kind),
            )


def _base_field(row: Row, role: str) -> bool:
    # Fields rows for base fields (the entity label "Title") write "-" for machine name, storage and cardinality.
    return (
        row.sheet.kind is SpecKind.FIELDS
        and role in ("machine_name", "required", "cardinality", "reused")
        and (row.get("machine_name") in ("-", "") and row.get("field_type").lower() == "entity label")
    )
