"""Workbooks: a whole spreadsheet (.xlsx or .ods, as Google Sheets and Excel download it) -> one table per tab.

Read with python-calamine. Cells come as the spreadsheet shows them: formula results (the values the file stores),
not formulas; dates as text; whole numbers without a trailing ".0"; an error cell as its error text ("#N/A", as a
CSV export writes it; see app.intake.cell_errors), so it is reported as in a CSV file, and findings on a tab name
their cell ("J6"). Hidden tabs are reported and skipped; each visible tab is one spec file named
"<workbook> [<tab>]", recognised by its headers and its tab name.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from itertools import chain

import python_calamine

from app.intake.cell_errors import cell_errors, ods_tab_over_budget, xlsx_extents
from app.intake.findings import Code, Findings, Severity
from app.intake.reading import IntakeLimits, Record, Table, UploadedFile, over_budget

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted OOXML workbook (or a legacy .xls) is an OLE container
# A workbook is a zip of XML; what it unpacks to is bounded, so a small hostile file cannot fill the memory.
_MAX_UNPACKED_RATIO = 40
_MIN_UNPACKED_LIMIT = 64 * 1024 * 1024


def tab_name(workbook: str, tab: str) -> str:
    return f"{workbook} [{tab}]"


def cell_text(value: object) -> str:
    """A cell as the spreadsheet shows it: 1.0 -> "1", a date -> "2024-05-01", TRUE -> "TRUE"."""
    if type(value) is str:  # most cells of a spec: no conversion, and no isinstance chain per cell
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else str(value)


def tab_of(workbook: str, name: str) -> str | None:
    """The tab a spec file name "<workbook> [<tab>]" names in `workbook`, or None."""
    prefix = f"{workbook} ["
    return name[len(prefix) : -1] if name.startswith(prefix) and name.endswith("]") else None


def sheet_names(data: bytes) -> list[str]:
    """The names of a workbook's tabs; [] when it cannot be read."""
    limits = IntakeLimits()
    if _unreadable(data, limits) or _ods_over_budget(data, limits):
        return []
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # a damaged or protected workbook has no tab to name (read_workbook says why)
        return []
    names = list(workbook.sheet_names)
    workbook.close()
    return names


def read_workbook(upload: UploadedFile, limits: IntakeLimits, findings: Findings) -> list[Table]:
    """The visible tabs of a workbook as tables; [] (with a blocking finding) when the workbook cannot be read."""
    problem = _unreadable(upload.data, limits)
    if problem is None and (over := _ods_over_budget(upload.data, limits)):
        over_budget(tab_name(upload.name, over[0]), findings, limits, line=0, columns=over[2])
        problem = f"its tab {over[0]!r} is over the cell budget, and an .ods workbook is read whole"
    if problem is None:
        try:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(upload.data))
        except python_calamine.PasswordError:
            problem = "it is password-protected; save a copy without a password and upload that"
        except Exception as error:  # calamine raises its own and OS errors for damaged files; all mean "unreadable"
            problem = f"it is damaged or not a workbook ({type(error).__name__}: {error})"
    if problem is not None:
        findings.add(
            Code.UNREADABLE_WORKBOOK, Severity.BLOCKING, f"The workbook cannot be read: {problem}.", file=upload.name
        )
        return []
    tables = []
    errors, extents = cell_errors(upload.data), xlsx_extents(upload.data)
    for sheet in workbook.sheets_metadata:
        name = tab_name(upload.name, sheet.name)
        if sheet.visible != python_calamine.SheetVisibleEnum.Visible:
            findings.add(Code.SKIPPED_TAB, Severity.INFO, "A hidden tab; skipped.", file=name, value=sheet.name)
            continue
        if sheet.typ != python_calamine.SheetTypeEnum.WorkSheet:
            findings.add(
                Code.SKIPPED_TAB,
                Severity.INFO,
                "Not a worksheet (a chart sheet); skipped.",
                file=name,
                value=sheet.name,
            )
            continue
        # Before calamine builds the tab's rectangle: one far cell would make it ask for more memory than exists.
        height, width = extents.get(sheet.name, (0, 0))
        if width > limits.max_columns or height * width > limits.max_cells:
            over_budget(name, findings, limits, line=0, columns=width)
            continue
        # The whole grid from A1, so that row and column numbers are the sheet's own.
        try:
            grid = workbook.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
        except Exception as error:  # a damaged sheet part (a cell reference "$A$2"): this tab cannot be read
            findings.add(
                Code.UNREADABLE_WORKBOOK,
                Severity.BLOCKING,
                f"The tab cannot be read: it is damaged ({type(error).__name__}: {error}).",
                file=name,
            )
            continue
        rows = [tuple(map(cell_text, row)) for row in grid]
        if sheet.name in errors:
            rows = _with_errors(rows, errors[sheet.name])
        count = sum(map(len, rows))
        size = sum(map(len, chain.from_iterable(rows))) + count  # as a CSV file: each cell and its separator
        if size > limits.max_file_bytes:
            findings.add(
                Code.FILE_TOO_LARGE,
                Severity.BLOCKING,
                f"The tab holds about {size:,} characters; a tab may have at most {limits.max_file_bytes:,}, as a "
                "CSV file.",
                file=name,
                value=str(size),
            )
            continue
        widest = max((len(row) for row in rows), default=0)
        if widest > limits.max_columns or count > limits.max_cells:
            over_budget(name, findings, limits, line=0, columns=widest)
            continue
        tables.append(_table(name, upload.name, sheet.name, rows))
    workbook.close()
    return tables


def _with_errors(rows: list[tuple[str, ...]], errors: dict[tuple[int, int], str]) -> list[tuple[str, ...]]:
    """The rows with each error cell's text ("#N/A") in place of what calamine read ("" or 0), as in a CSV export:
    the row checks then report it as in a CSV file (a spreadsheet error, a lookup that failed, a separator row)."""
    changed = [list(row) for row in rows]
    for (row, column), text in errors.items():
        changed.extend([] for _ in range(row + 1 - len(changed)))
        cells = changed[row]
        cells.extend("" for _ in range(column + 1 - len(cells)))
        cells[column] = text
    return [tuple(row) for row in changed]


def _unreadable(data: bytes, limits: IntakeLimits) -> str | None:
    """Why the bytes cannot be a workbook we read, before handing them to calamine, or None."""
    if data.startswith(_OLE):
        return "it is password-protected (or an old .xls file); save it as .xlsx without a password"
    if not data.startswith(_ZIP):
        return "it is not an .xlsx or .ods file"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in archive.namelist() else b""
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f"it is damaged ({error})"
    if b"encryption-data" in manifest:
        return "it is password-protected; save a copy without a password and upload that"
    if unpacked > max(_MIN_UNPACKED_LIMIT, _MAX_UNPACKED_RATIO * limits.max_workbook_bytes):
        return f"it unpacks to {unpacked:,} bytes, far more than a spec needs"
    return None


def _ods_over_budget(data: bytes, limits: IntakeLimits) -> tuple[str, int, int] | None:
    return ods_tab_over_budget(data, max_columns=limits.max_columns, max_cells=limits.max_cells)


def _table(name: str, workbook: str, tab: str, rows: list[tuple[str, ...]]) -> Table:
    """Rows -> a table; the header is the first row with a value, and lines are the spreadsheet's row numbers."""
    table = Table(name, "", "", header=None, physical_lines=len(rows), workbook=workbook, tab=tab)
    number = 0
    for line, cells in enumerate(rows, start=1):
        if table.header is None:
            if any(cell.strip() for cell in cells):
                table.header = Record(0, line, cells)
            continue
        number += 1
        table.records.append(Record(number, line, cells))
    return table
