"""The uploaded spec CSVs given back with each exported row's `ID` cell set to its Jira key.

Only the records that change are written again (by the csv module, with the file's delimiter); every other
physical line, the encoding, the byte order mark and the line endings are kept as uploaded. A workbook (.xlsx,
.ods) comes back byte for byte as uploaded (rewriting it would lose its formulas, formats and other tabs), with
its keys beside it in "<workbook> Jira keys.csv": tab, row and key of each exported row.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from app.csv_safety import csv_text, inert_cell
from app.intake.findings import Findings
from app.intake.reading import IntakeLimits, UploadedFile, is_workbook, read_table
from app.intake.workbook import read_workbook, tab_name

_BOM_VARIANTS = {
    "utf-16": ((codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le")),
    "utf-32": ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le")),
}


class SpecFileLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def data(self) -> bytes: ...


class ExportedTicketLike(Protocol):
    key: str
    position: int
    jira_key: str | None
    source: list[dict[str, Any]]


def spec_csvs_with_keys(files: Iterable[SpecFileLike], tickets: Iterable[ExportedTicketLike]) -> dict[str, bytes]:
    """File name -> bytes, with the `ID` of each row a ticket's `source` lists ({file, record}) set to its key.

    A row listed by several exported tickets gets the key of the first in review order; rows of no exported
    ticket, and files without an `ID` column, are returned unchanged but for formula cells (see `inert_cell`).
    """
    keys: dict[tuple[str, int], str] = {}
    for ticket in sorted(tickets, key=lambda t: (t.position, t.key)):
        if ticket.jira_key:
            for source in ticket.source:
                keys.setdefault((str(source["file"]), int(source["record"])), ticket.jira_key)
    answer = {}
    for spec in files:
        if is_workbook(spec.name):
            answer[spec.name] = spec.data
            if rows := _workbook_keys(spec.name, spec.data, keys):
                answer[f"{spec.name} Jira keys.csv"] = csv_text([["Tab", "Row", "Jira key"], *rows]).encode("utf-8")
            continue
        wanted = {record: key for (name, record), key in keys.items() if name == spec.name}
        # Every file is read, even without keys to set: formula cells are made inert in any download.
        answer[spec.name] = _with_keys(spec.name, spec.data, wanted)
    return answer


def _workbook_keys(name: str, data: bytes, keys: Mapping[tuple[str, int], str]) -> list[list[str]]:
    """[tab, row number as the spreadsheet shows it, Jira key] of each exported row of the workbook's tabs."""
    rows = []
    for table in read_workbook(UploadedFile(name, data), IntakeLimits(), Findings()):
        lines = {record.number: record.line for record in table.records}
        for record, key in sorted((r, k) for (file, r), k in keys.items() if file == tab_name(name, table.tab)):
            if record in lines:
                rows.append([table.tab, str(lines[record]), key])
    return rows


def _with_keys(name: str, data: bytes, keys: Mapping[int, str]) -> bytes:
    table = read_table(UploadedFile(name, data), Findings())
    if table is None:
        return data
    text = data.decode(table.encoding)
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter)
    out: list[str] = []
    id_column: int | None = None
    header_seen = False
    number = previous = 0
    for cells in reader:
        physical = lines[previous : reader.line_num]
        previous = reader.line_num
        key = None
        if not header_seen:
            # Numbering as intake does: the first non-blank record is the header, records count from 1 after it.
            header_seen = any(cell.strip() for cell in cells)
            if header_seen:
                id_column = next((i for i, cell in enumerate(cells) if cell.strip().lower() == "id"), None)
        else:
            number += 1
            key = keys.get(number)
        same_id = key is None or id_column is None or (id_column < len(cells) and cells[id_column] == key)
        inert = [inert_cell(cell) for cell in cells]
        if same_id and inert == cells:
            out += physical
            continue
        cells = inert
        if not same_id:
            assert key is not None and id_column is not None
            cells += [""] * (id_column + 1 - len(cells))
            cells[id_column] = key
        last = physical[-1] if physical else ""
        out.append(csv_text([cells], delimiter=table.delimiter, lineterminator=last[len(last.rstrip("\r\n")) :]))
    out += lines[previous:]
    return _encode("".join(out), table.encoding, data)


def _encode(text: str, encoding: str, original: bytes) -> bytes:
    """Encode as the upload was, keeping a UTF-16/32 byte order mark in its original byte order."""
    for bom, codec in _BOM_VARIANTS.get(encoding, ()):
        if original.startswith(bom):
            return bom + text.encode(codec)
    return text.encode(encoding)
