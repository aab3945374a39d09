"""Error cells of a workbook (#N/A, #REF!, #DIV/0!...), which calamine reads as empty (.xlsx) or as 0 (.ods).

A CSV export writes the error as the cell's text; so that a tab reads as its CSV export would, and so that each error
can be reported with its cell address, the errors are found in the workbook's own XML: `<c t="e"><v>#N/A</v></c>`
in an .xlsx sheet part (found by a regular expression, never a second parse), `calcext:value-type="error"`
(LibreOffice) on a cell of an .ods `content.xml`, which is parsed only when that marker is in it.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
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


def _extent(xml: bytes) -> tuple[int, int]:
    refs = _XLSX_CELL_REF.findall(xml)
    rows = max((int(number) for number in {number for _, number in refs}), default=0)
    widest = max({letters.upper() for letters, _ in refs}, key=lambda letters: (len(letters), letters), default=b"")
    columns = _column_index(widest.decode()) + 1 if widest else 0
    unreferenced = len(_XLSX_CELL_TAG.findall(xml)) - len(refs)
    if unreferenced > 0:
        rows, columns = rows + len(_XLSX_ROW_TAG.findall(xml)), columns + unreferenced
    return rows, columns


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
        for cell in _XLSX_ERROR_CELL.finditer(archive.read(part)):
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
