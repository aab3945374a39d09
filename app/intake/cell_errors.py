"""Error cells of a workbook (#N/A, #REF!, #DIV/0!...), which calamine reads as empty (.xlsx) or as 0 (.ods).

A CSV export writes the error as the cell's text; so that a tab reads as its CSV export would, and so that each error
can be reported with its cell address, the errors are found in the workbook's own XML: `<c t="e"><v>#N/A</v></c>`
in an .xlsx sheet part (found by a regular expression, never a second parse), `calcext:value-type="error"`
(LibreOffice) on a cell of an .ods `content.xml`, which is parsed only when that marker is in it.

Also the extent of each tab's grid, found before calamine builds it (xlsx_extents, ods_tab_over_budget).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from operator import itemgetter
from xml.etree import ElementTree
from xml.parsers import expat
from xml.sax.saxutils import unescape

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
# An error cell of an .xlsx sheet part, found without parsing the part: the scan runs in the regex engine and only
# error cells become Python objects (a full parse cost more than the whole intake of a 100x UWEC workbook).
# A cell's content never runs into the next cell (`<c` or `</c>` ends it): an error cell left unclosed would
# otherwise be looked for to the end of the part, and a part of many of them took quadratic time (216 KB: 13 s).
_XLSX_ERROR_CELL = re.compile(
    rb"""<(?:\w+:)?c\s(?=[^>]*\bt\s*=\s*["']e["'])([^>]*)(?<!/)>"""
    rb"""([^<]*(?:<(?!/?(?:\w+:)?c[\s/>])[^<]*)*)</(?:\w+:)?c>"""
)
_QUOTED_E = (b'"e"', b"'e'", b"\"e'", b"'e\"")  # the value of an error cell's t attribute, as the regex takes it
_XLSX_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]+)([0-9]+)["']""")
# Every cell's reference, and every cell and row tag (for cells written without a reference).
# (calamine also takes lower-case references: "xfd1048576" is XFD1048576)
_XLSX_CELL_REF = re.compile(rb"""<(?:\w+:)?c\s[^>]*?\br\s*=\s*["']([A-Za-z]+)([0-9]+)""")
_XLSX_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_XLSX_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
_XLSX_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_ODS_ERROR = re.compile(rb"""value-type\s*=\s*["']error["']""")

# Tab name -> {(row, column) counted from 0: the error text as the spreadsheet shows it}
CellErrors = dict[str, dict[tuple[int, int], str]]


def column_letters(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_address(row: int, column: int) -> str:
    """(3, 2) counted from 0 -> "C4"."""
    return f"{column_letters(column)}{row + 1}"


def cell_errors(data: bytes) -> CellErrors:
    """The error cells of each tab of an .xlsx or .ods workbook; {} when it has none or cannot be read so."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return _xlsx_errors(archive, names)
            if "content.xml" in names:
                return _ods_errors(archive)
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, EOFError, ValueError):
        pass  # calamine's own reading reports a damaged workbook; the error cells then simply stay unknown
    return {}


def xlsx_extents(data: bytes) -> dict[str, tuple[int, int]]:
    """Tab name -> (rows, columns) of the grid calamine would build for each tab of an .xlsx workbook, found in the
    sheet parts before calamine reads them: calamine builds the whole rectangle up to the farthest cell, so one cell
    at XFD1048576 in a 1.5 KB file asks for hundreds of GB and aborts the process. {} for an .ods or unreadable file.

    Cells without an `r` reference (calamine places them one after the other) count as if each began a new row and
    column past the referenced ones: an upper bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                return {}
            return {tab: _extent(archive.read(part)) for tab, part in _xlsx_parts(archive, names)}
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, EOFError, ValueError):
        return {}


def ods_tab_over_budget(data: bytes, *, max_columns: int, max_cells: int) -> tuple[str, int, int] | None:
    """The first tab of an .ods workbook whose grid passes the cell budget, as (tab, rows, columns); None when every
    tab fits, or for an .xlsx or unreadable file (calamine then says why).

    calamine reads every tab of an .ods workbook when it opens it, repeating each `number-columns-repeated` and
    `number-rows-repeated` cell that holds a value, so a file under 1 KB declares millions of cells and costs
    hundreds of MB before any tab can be refused. The repeat counts are added up here instead, streaming over
    content.xml (no tree is built, nothing is repeated), and the scan stops at the first tab over the budget.
    Empty cells and rows (LibreOffice writes `number-columns-repeated="1020"` after a row's last value, and a
    million repeated rows after the last one) widen nothing, as calamine drops them at the end of a row or tab."""
    scan = _OdsExtent(max_columns, max_cells)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "content.xml" not in archive.namelist():
                return None
            with archive.open("content.xml") as content:
                while chunk := content.read(64 * 1024):
                    parser.Parse(chunk, False)
    except _OverBudget as over:
        return over.tab, over.rows, over.columns
    except (zipfile.BadZipFile, expat.ExpatError, OSError, EOFError, ValueError):
        pass  # a damaged content.xml: calamine's own reading reports it
    return None


class _OverBudget(Exception):
    def __init__(self, tab: str, rows: int, columns: int) -> None:
        super().__init__(tab)
        self.tab, self.rows, self.columns = tab, rows, columns


class _OdsExtent:
    """Expat handlers: the rows and columns up to the last cell with a value (or a formula) of each tab, counting
    repeats, as calamine builds its grid from A1."""

    def __init__(self, max_columns: int, max_cells: int) -> None:
        self.max_columns, self.max_cells = max_columns, max_cells
        self.tab, self.row, self.column, self.rows, self.columns = "", 0, 0, 0, 0
        self.row_repeats, self.row_has_value, self.nested = 1, False, 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if self.nested:  # inside a cell (its paragraphs, or a frame with a table of its own): not the tab's grid
            self.nested += 1
        elif name == f"{_TABLE_NS} table":
            self.tab, self.row, self.rows, self.columns = attributes.get(f"{_TABLE_NS} name", ""), 0, 0, 0
        elif name == f"{_TABLE_NS} table-row":
            self.column, self.row_has_value = 0, False
            self.row_repeats = int(attributes.get(f"{_TABLE_NS} number-rows-repeated", "1"))
        elif name in (f"{_TABLE_NS} table-cell", f"{_TABLE_NS} covered-table-cell"):
            self.nested = 1
            repeats = int(attributes.get(f"{_TABLE_NS} number-columns-repeated", "1"))
            # A value of any type (office:value-type, office:value...) or a formula: an upper bound of what
            # calamine keeps, which drops a cell with neither.
            if f"{_TABLE_NS} formula" in attributes or any(a.startswith(f"{_OFFICE_NS} ") for a in attributes):
                self.row_has_value, self.columns = True, max(self.columns, self.column + repeats)
                if self.columns > self.max_columns:
                    raise _OverBudget(self.tab, self.row + self.row_repeats, self.columns)
            self.column += repeats

    def end(self, name: str) -> None:
        if self.nested:
            self.nested -= 1
        elif name == f"{_TABLE_NS} table-row":
            if self.row_has_value:
                self.rows = self.row + self.row_repeats
                if self.rows * self.columns > self.max_cells:
                    raise _OverBudget(self.tab, self.rows, self.columns)
            self.row += self.row_repeats


def _extent(xml: bytes) -> tuple[int, int]:
    refs = _XLSX_CELL_REF.findall(xml)
    # The distinct row numbers and column letters first, in C (a 100x spec has 1.5 million cells, 30 columns)
    rows = max(map(int, set(map(itemgetter(1), refs))), default=0)
    letters = {found.upper() for found in set(map(itemgetter(0), refs))}
    widest = max(letters, key=lambda found: (len(found), found), default=b"")
    columns = _column_index(widest.decode()) + 1 if widest else 0
    unreferenced = _tags(xml, b"c", _XLSX_CELL_TAG) - len(refs)
    if unreferenced > 0:
        rows, columns = rows + _tags(xml, b"row", _XLSX_ROW_TAG), columns + unreferenced
    return rows, columns


def _tags(xml: bytes, name: bytes, pattern: re.Pattern[bytes]) -> int:
    """How many times `pattern` (a tag `<name` or `<prefix:name` and a space, "/" or ">") matches: counted with
    `bytes.count` when no tag can have a prefix (no ":name" in the part), else by the pattern."""
    if b":" + name in xml:
        return len(pattern.findall(xml))
    return sum(xml.count(b"<" + name + bytes([end])) for end in b" \t\n\r\f\v/>")


def _xlsx_parts(archive: zipfile.ZipFile, names: set[str]) -> list[tuple[str, str]]:
    """(tab name, sheet part) of each tab whose part is in the archive."""
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in relations.iter(f"{_PKG_RELS}Relationship")}
    parts = []
    for sheet in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_DOC_RELS}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        if part in names:
            parts.append((sheet.get("name", ""), part))
    return parts


def _xlsx_errors(archive: zipfile.ZipFile, names: set[str]) -> CellErrors:
    found: CellErrors = {}
    for tab, part in _xlsx_parts(archive, names):
        errors = {}
        xml = archive.read(part)
        if not any(quoted in xml for quoted in _QUOTED_E):  # no error cell's t="e": the regex would find none
            continue
        for cell in _XLSX_ERROR_CELL.finditer(xml):
            ref, value = _XLSX_REF.search(cell[1]), _XLSX_VALUE.search(cell[2])
            if ref and value and (text := unescape(value[1].decode("utf-8", "replace")).strip()):
                errors[(int(ref[2]) - 1, _column_index(ref[1].decode()))] = text
        if errors:
            found[tab] = errors
    return found


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _ods_errors(archive: zipfile.ZipFile) -> CellErrors:
    xml = archive.read("content.xml")
    if not _ODS_ERROR.search(xml):
        return {}
    found: CellErrors = {}
    tab, row, column = "", -1, 0
    for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{_TABLE}table":
                tab, row = element.get(f"{_TABLE}name", ""), -1
            elif tag == f"{_TABLE}table-row":
                row, column = row + 1, 0
            continue
        if tag in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
            repeated = int(element.get(f"{_TABLE}number-columns-repeated", "1"))
            if element.get(f"{_CALCEXT}value-type") == "error":
                text = "".join("".join(p.itertext()) for p in element.iter(f"{_TEXT}p")).strip()
                for offset in range(min(repeated, 1024)):
                    found.setdefault(tab, {})[(row, column + offset)] = text or "#ERROR!"
            column += repeated
            element.clear()
        elif tag == f"{_TABLE}table-row":
            row += int(element.get(f"{_TABLE}number-rows-repeated", "1")) - 1
            element.clear()
    return found
