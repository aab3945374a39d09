"""Workbooks: the whole spec in one .xlsx (made here with openpyxl) or .ods (written here as ODS XML) upload."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pytest
import python_calamine
from click.testing import CliRunner

from app.generation.command import generate_command
from app.intake import IntakeLimits, Severity, SpecKind, UploadedFile, intake_files
from app.intake.cell_errors import cell_address, cell_errors
from app.intake.command import validate_command
from app.intake.workbook import sheet_names

pytestmark = [pytest.mark.unit, pytest.mark.intake]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

TAB_OF = {
    "UWEC_Bundles.csv": "Bundles",
    "UWEC_CustomViewModes.csv": "View modes",
    "UWEC_CustomViews.csv": "Views",
    "UWEC_CustomViewsDisplays.csv": "View displays",
    "UWEC_Fields.csv": "Fields",
    "UWEC_Imagestyles.csv": "Image styles",
    "UWEC_ResponsiveImageStyles.csv": "Responsive image styles",
    "UWEC_Userroles.csv": "User roles",
    "UWEC_Workflows.csv": "Workflows",
    "UWEC_Workflowstates.csv": "Workflow states",
    "UWEC_Workflowtransitions.csv": "Workflow transitions",
}


def _typed(cell: str) -> object:
    # Whole numbers go in as numbers, as a spreadsheet stores them, so reading must not turn "1" into "1.0".
    return int(cell) if cell.isdigit() and not cell.startswith("0") else cell


def uwec_xlsx(kit) -> bytes:
    book = openpyxl.Workbook()
    overview = book.active
    overview.title = "Overview"
    overview.append(["Specification", "Done", "Total", "%"])
    overview.append(["Bundles", 3, 99, 0.03])
    for name, tab in TAB_OF.items():
        sheet = book.create_sheet(tab)
        for row in kit.uwec_rows(name):
            sheet.append([_typed(c) for c in row])
    hidden = book.create_sheet("Lookups")
    hidden.append(["Name", "Machine name"])
    hidden.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ods_cell(value: object) -> str:
    if isinstance(value, str) and value.startswith("<table:table-cell"):  # written out by the test
        return value
    if isinstance(value, tuple):  # (value type, value, formula)
        kind, shown, formula = value
        attribute = "office:date-value" if kind == "date" else "office:value"
        formula_attribute = f' table:formula="{escape(formula)}"' if formula else ""
        return (
            f'<table:table-cell{formula_attribute} office:value-type="{kind}" {attribute}="{shown}">'
            f"<text:p>{shown}</text:p></table:table-cell>"
        )
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def _ods_row(row: list[object] | str) -> str:
    if isinstance(row, str):  # a whole row written out by the test (repeated rows and cells)
        return row
    return f"<table:table-row>{''.join(_ods_cell(c) for c in row)}</table:table-row>"


def ods(tabs: dict[str, list[list[object] | str]], *, encrypted: bool = False) -> bytes:
    namespaces = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
    )
    body = "".join(
        f'<table:table table:name="{escape(name)}">' + "".join(_ods_row(row) for row in rows) + "</table:table>"
        for name, rows in tabs.items()
    )
    encryption = "<manifest:encryption-data/>" if encrypted else ""
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
        f'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml">{encryption}</manifest:file-entry>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr(
            "content.xml",
            f"<office:document-content {namespaces}><office:body><office:spreadsheet>{body}"
            "</office:spreadsheet></office:body></office:document-content>",
        )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def workbook_result(kit):
    return intake_files([UploadedFile("UWEC spec.xlsx", uwec_xlsx(kit))])


def test_one_xlsx_gives_one_spec_file_per_tab_and_the_same_model_as_the_csvs(workbook_result, uwec):
    result = workbook_result
    assert not result.blocking
    kinds = {f.name: f.kind for f in result.files if f.used}
    assert kinds == {f"UWEC spec.xlsx [{TAB_OF[f.name]}]": f.kind for f in uwec.files}
    assert all(f.workbook == "UWEC spec.xlsx" for f in result.files)
    assert result.model.counts() == uwec.model.counts()
    as_csv = [
        (f.label, f.machine_name, f.bundle, f.cardinality, f.required, f.field_type_id) for f in uwec.model.fields
    ]
    as_tab = [
        (f.label, f.machine_name, f.bundle, f.cardinality, f.required, f.field_type_id) for f in result.model.fields
    ]
    assert as_tab == as_csv
    # Numbers read as the sheet shows them: the Vals. cell 1 stays "1", the image style 42x42 keeps its name.
    program_image = next(f for f in result.model.fields if f.machine_name == "field_image")
    assert program_image.cells["Vals."] == "1"
    assert (program_image.source.file, program_image.source.record) == ("UWEC spec.xlsx [Fields]", 3)


def test_the_same_defects_are_found_in_the_workbook(workbook_result, uwec, kit):
    # openpyxl stores the UWEC cells "#N/A" and "#VALUE!" as error cells, which calamine reads as empty: they are
    # read back as their error text, so a failed lookup is a lookup error there as in the CSV, not a blank lookup.
    def codes(result):
        return sorted((str(f.code), f.record, f.value) for f in result.findings if f.code != "skipped_tab")

    assert codes(workbook_result) == codes(uwec)
    errors = kit.only(workbook_result, "lookup_error")
    assert {(TAB_OF[f.file], f.record) for f in kit.only(uwec, "lookup_error")} == {
        (f.file.split(" [")[1][:-1], f.record) for f in errors
    }
    # Findings on a tab name the cell as the spreadsheet does.
    display = next(f for f in errors if f.file == "UWEC spec.xlsx [View displays]")
    assert (display.line, display.cell, display.column, display.value) == (6, "J6", "View ID", "#N/A")


def _error_book() -> bytes:
    """Roles from B3 (two blank rows and a blank column first), with a #REF! machine name and a #N/A note."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "User roles"
    for address, value in {"B3": "Name", "C3": "Machine name", "D3": "X", "E3": "Notes", "B4": "Editor"}.items():
        sheet[address] = value
    sheet["C4"], sheet["D4"], sheet["E4"] = "#REF!", "a", "#N/A"  # openpyxl stores error literals as error cells
    sheet["B5"], sheet["C5"], sheet["D5"] = "Author", "author", "a"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_error_cells_are_reported_with_their_cell_and_tab_not_read_as_blank(kit):
    data = _error_book()
    # The file really holds error cells, which calamine alone reads as "".
    assert b'<c r="C4" t="e"><v>#REF!</v></c>' in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    result = intake_files([UploadedFile("book.xlsx", data)])
    found = [(f.file, f.record, f.line, f.cell, f.column, f.value) for f in kit.only(result, "spreadsheet_error")]
    assert found == [
        ("book.xlsx [User roles]", 1, 4, "C4", "Machine name", "#REF!"),
        ("book.xlsx [User roles]", 1, 4, "E4", "Notes", "#N/A"),
    ]
    assert all(f.severity is Severity.WARNING and f.value in f.message for f in kit.only(result, "spreadsheet_error"))
    editor, author = result.model.roles
    assert (editor.machine_name, editor.notes, editor.cells["Notes"], author.source.line) == ("", "", "#N/A", 5)


def test_an_ods_error_cell_is_its_error_text_not_the_zero_it_stores(kit):
    error = (
        '<table:table-cell table:formula="of:=NA()" office:value-type="float" office:value="0" '
        'calcext:value-type="error"><text:p>#N/A</text:p></table:table-cell>'
    )
    data = ods({"User roles": [["Name", "Machine name", "X"], ["Editor", error, "a"]]})
    result = intake_files([UploadedFile("book.ods", data)])
    (finding,) = kit.only(result, "spreadsheet_error")
    assert (finding.cell, finding.value) == ("B2", "#N/A")
    assert result.model.roles[0].cells["Machine name"] == "#N/A"


def test_hidden_and_unknown_tabs_are_reported_and_skipped(workbook_result, kit):
    skipped = {f.value: f for f in kit.only(workbook_result, "skipped_tab")}
    assert set(skipped) == {"Overview", "Lookups"}
    assert all(f.severity is Severity.INFO for f in skipped.values())
    assert "hidden" in skipped["Lookups"].message


def test_an_ods_workbook_reads_formula_results_dates_and_numbers_as_shown(kit):
    roles = [
        ["Name", "Machine name", "X", "Notes"],
        ["Editor", "editor", "a", ("float", "1", None)],
        ["Author", "author", "a", ("float", "2", "of:=[.D2]+1")],
        ["Guest", "guest", "a", ("date", "2024-05-01", None)],
    ]
    result = intake_files([UploadedFile("spec.ods", ods({"User roles": roles, "Behat": [["Scenario"], ["x"]]}))])
    assert not result.blocking
    assert [(r.machine_name, r.notes) for r in result.model.roles] == [
        ("editor", "1"),
        ("author", "2"),  # the stored result of the formula, not "of:=[.D2]+1"
        ("guest", "2024-05-01"),
    ]
    (report,) = [f for f in result.files if f.used]
    assert (report.name, report.kind) == ("spec.ods [User roles]", SpecKind.ROLES)
    assert [f.value for f in kit.only(result, "skipped_tab")] == ["Behat"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 not really a zip", "damaged"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "password-protected"),
        (ods({"Roles": [["Name", "Machine name"]]}, encrypted=True), "password-protected"),
        (b"ID,Name\n,x\n", "not an .xlsx or .ods file"),
    ],
    ids=["broken zip", "encrypted xlsx", "encrypted ods", "csv named xlsx"],
)
def test_a_broken_or_protected_workbook_gets_a_clear_error(kit, data, reason):
    result = intake_files([UploadedFile("spec.xlsx", data), *kit.uwec_files()[:1]])
    (error,) = kit.only(result, "unreadable_workbook")
    assert error.severity is Severity.BLOCKING and reason in error.message and error.file == "spec.xlsx"
    assert result.files[0].name == "spec.xlsx" and not result.files[0].used
    assert result.files[1].used  # the other files are still read


def test_workbook_limits_apply_to_the_workbook_and_to_each_tab(kit):
    data = uwec_xlsx(kit)
    too_big = intake_files([UploadedFile("spec.xlsx", data)], limits=IntakeLimits(max_workbook_bytes=len(data) - 1))
    assert [f.code for f in too_big.findings] == ["file_too_large"]
    # The CSV limit holds per tab: only the Fields tab (about 95 kB of cells) passes 50 kB.
    per_tab = intake_files([UploadedFile("spec.xlsx", data)], limits=IntakeLimits(max_file_bytes=50_000))
    (large,) = kit.only(per_tab, "file_too_large")
    assert large.file == "spec.xlsx [Fields]" and large.severity is Severity.BLOCKING
    assert not per_tab.model.fields and len(per_tab.model.bundles) == 95
    # The cell budget holds per tab too: the Fields tab alone has more than 2,000 cells.
    per_cells = intake_files([UploadedFile("spec.xlsx", data)], limits=IntakeLimits(max_cells=2_000))
    assert "spec.xlsx [Fields]" in {f.file for f in kit.only(per_cells, "too_many_cells")}
    # A 2 MB limit per CSV file does not cap a workbook: its own limit is 10 MB.
    assert IntakeLimits().max_bytes_for("a.xlsx") == 10 * 1024 * 1024
    assert IntakeLimits().max_bytes_for("a.csv") == 2 * 1024 * 1024


def _saved_with(book: openpyxl.Workbook, old: str, new: str) -> bytes:
    """The workbook as .xlsx, with `old` replaced by `new` in its first sheet's XML (what openpyxl never writes)."""
    saved, buffer = io.BytesIO(), io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(old.encode(), new.encode())
            archive.writestr(item, data)
    return buffer.getvalue()


def test_a_damaged_tab_is_a_finding_on_that_tab_and_the_others_are_read(kit):
    """A sheet part calamine cannot read (a cell reference "$A$2") raised out of intake: a 500 on the upload panel."""
    book = openpyxl.Workbook()
    book.active.title = "Fields"
    book.active.append(["Label"])
    book.active.append(["x"])
    book.create_sheet("Bundles").append(["Name", "Machine name"])
    result = intake_files([UploadedFile("spec.xlsx", _saved_with(book, 'r="A2"', 'r="$A$2"'))])
    (damaged,) = kit.only(result, "unreadable_workbook")
    assert damaged.file == "spec.xlsx [Fields]" and damaged.severity is Severity.BLOCKING
    assert "spec.xlsx [Bundles]" in {f.name for f in result.files}


@pytest.mark.parametrize(
    ("far", "written", "reason"),
    [
        ("XFD1048576", "XFD1048576", "16,384 columns"),
        ("Z900000", "Z900000", "500,000 cells"),
        ("XFD1048576", "xfd1048576", "16,384 columns"),  # calamine reads a lower-case reference too
    ],
)
def test_one_far_cell_is_refused_before_the_tab_is_read(kit, far, written, reason):
    """A tab is read as the rectangle up to its farthest cell: a small file with one cell at XFD1048576 asked
    calamine for 512 GB, and the process aborted (every tenant's requests with it). The cell budget refuses it
    from the sheet's cell references first; the other tabs are still read."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Fields"
    sheet["A1"], sheet[far] = "Label", "x"
    book.create_sheet("Bundles").append(["Name", "Machine name"])
    result = intake_files([UploadedFile("spec.xlsx", _saved_with(book, f'r="{far}"', f'r="{written}"'))])
    (refused,) = kit.only(result, "too_many_cells")
    assert refused.file == "spec.xlsx [Fields]" and reason in refused.message
    assert "spec.xlsx [Bundles]" in {f.name for f in result.files}


_X = '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
_HOSTILE_ODS = {
    # a million rows of one value: calamine built the whole column (221 MB for this 0.8 KB file) before intake
    # refused it
    "repeated rows": [["Label"], f'<table:table-row table:number-rows-repeated="1000000">{_X}</table:table-row>'],
    # 2,000 rows of 900 cells each, from one repeated cell in one repeated row (233 MB)
    "repeated rows and cells": [
        '<table:table-row table:number-rows-repeated="2000"><table:table-cell table:number-columns-repeated="900" '
        'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
    ],
    "repeated cells": [['<table:table-cell table:number-columns-repeated="5000" office:value="1" />']],
}


@pytest.mark.parametrize("rows", _HOSTILE_ODS.values(), ids=_HOSTILE_ODS.keys())
def test_an_ods_tab_declaring_millions_of_cells_is_refused_before_calamine_reads_it(kit, monkeypatch, rows):
    """calamine reads every tab of an .ods workbook when it opens it, repeating each repeated cell: the declared
    extent is added up from content.xml first, and the workbook never reaches calamine."""
    data = ods({"Bundles": [["Name", "Machine name"]], "Fields": rows})
    assert len(data) < 1_000
    opened = []
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook, "from_filelike", lambda *a: opened.append(a) or pytest.fail("opened")
    )
    result = intake_files([UploadedFile("spec.ods", data)])
    (refused,) = kit.only(result, "too_many_cells")
    assert refused.file == "spec.ods [Fields]" and refused.severity is Severity.BLOCKING
    assert "cells" in refused.message or "columns" in refused.message
    (whole,) = kit.only(result, "unreadable_workbook")
    assert whole.file == "spec.ods" and "'Fields' is over the cell budget" in whole.message
    assert not opened and sheet_names(data) == []


def test_an_ods_tab_over_the_budget_costs_no_memory(tmp_path):
    """Measured in a fresh process: before the pre-check, intake of the 0.8 KB file peaked 221 MB above its
    baseline."""
    path = tmp_path / "hostile.ods"
    path.write_bytes(ods({"Fields": _HOSTILE_ODS["repeated rows"]}))
    script = (
        "import resource, sys\n"
        "from app.intake import UploadedFile, intake_files\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result = intake_files([UploadedFile('spec.ods', data)])\n"
        "assert 'too_many_cells' in {f.code for f in result.findings}\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    assert int(run.stdout) < 20 * 1024  # KB


def test_a_libreoffice_sheet_with_repeated_empty_cells_and_rows_is_read(kit):
    """LibreOffice writes each row's trailing empty cells as one repeated cell and the empty rows below the data as
    one row repeated a million times: calamine drops both, and so does the extent pre-check."""

    def row(*cells: str) -> str:
        values = "".join(
            f'<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{c}</text:p>'
            "</table:table-cell>"
            for c in cells
        )
        empty = f'<table:table-cell table:number-columns-repeated="{1024 - len(cells)}"/>'
        return f'<table:table-row table:style-name="ro1">{values}{empty}</table:table-row>'

    rows = [
        row("Name", "Machine name", "X"),
        row("Editor", "editor", "a"),
        '<table:table-row table:style-name="ro1" table:number-rows-repeated="2"><table:table-cell '
        'office:value-type="string"><text:p>Author</text:p></table:table-cell><table:table-cell '
        'table:number-columns-repeated="2" office:value-type="string"><text:p>a</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="1020"/></table:table-row>',
        '<table:table-row table:style-name="ro1" table:number-rows-repeated="1048572">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>',
    ]
    result = intake_files([UploadedFile("roles.ods", ods({"User roles": rows}))])
    assert not result.blocking, result.findings
    assert [(r.label, r.machine_name) for r in result.model.roles] == [
        ("Editor", "editor"),
        ("Author", "a"),
        ("Author", "a"),
    ]


def test_validate_takes_a_workbook(kit, tmp_path):
    path = tmp_path / "UWEC spec.xlsx"
    path.write_bytes(uwec_xlsx(kit))
    result = CliRunner().invoke(validate_command, [str(path)])
    assert result.exit_code == 0, result.output
    assert "UWEC spec.xlsx [Fields]: fields" in result.output
    assert result.output.strip().splitlines()[-1].startswith("OK: 0 blocking")


def test_a_tab_type_can_be_set_on_the_command_line(tmp_path):
    path = tmp_path / "book.ods"
    plain = [["Name", "Machine name"], ["Alpha", "alpha"]]
    path.write_bytes(ods({"Sheet1": plain}))
    guessed = CliRunner().invoke(validate_command, [str(path), "--json"])
    assert '"name": "book.ods [Sheet1]"' in guessed.output
    result = CliRunner().invoke(validate_command, [str(path), "--type", "book.ods [Sheet1]=menus", "--json"])
    assert result.exit_code == 0, result.output
    assert '"kind": "menus"' in result.output and '"basis": "override"' in result.output
    wrong = CliRunner().invoke(validate_command, [str(path), "--type", "other.ods [Sheet1]=menus"])
    assert wrong.exit_code == 2


def test_generate_takes_a_workbook_and_drafts_what_the_csvs_give(kit, tmp_path):
    path = tmp_path / "UWEC spec.xlsx"
    path.write_bytes(uwec_xlsx(kit))
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(generate_command, [str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    tickets = json.loads(out.read_text())["tickets"]
    assert len(tickets) == 109
    assert {s["file"] for t in tickets for s in t["source"]} <= {f"UWEC spec.xlsx [{tab}]" for tab in TAB_OF.values()}


def test_generate_refuses_a_spec_that_gives_no_ticket_and_says_why(tmp_path):
    path = tmp_path / "roles.ods"
    path.write_bytes(ods({"User roles": [["Name", "Machine name", "X"], ["Editor", "editor", "x"]]}))
    out = tmp_path / "tickets.json"
    result = CliRunner().invoke(generate_command, [str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert "None of the 1 rows is marked for work" in result.output and not out.exists()


def test_error_cells_are_found_in_any_sheet_part_spelling() -> None:
    """A self-closing error cell has no text to show; a prefixed namespace and columns past Z are read as Excel
    writes them; a cell that is no error is not taken, whatever follows it."""
    sheet = (
        f'<x:worksheet xmlns:x="{_MAIN}"><x:sheetData><x:row r="2">'
        '<x:c r="A2" s="1"/><x:c r="B2" t="e"/><x:c r="C2" t="s"><x:v>0</x:v></x:c>'
        '<x:c r="AB2" s="3" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    assert cell_errors(_one_sheet_book(sheet)) == {"Fields": {(1, 27): "#DIV/0!"}}
    assert (cell_address(1, 27), cell_address(0, 0), cell_address(9, 701)) == ("AB2", "A1", "ZZ10")
    assert cell_errors(b"PK\x03\x04 broken") == {}


def test_error_cells_left_unclosed_are_scanned_in_linear_time() -> None:
    """A hostile sheet part of error cells that never close: each is looked for up to the next cell, not to the end
    of the part (before, 16,000 of them in 430 KB took about a minute of the interpreter, every tenant waiting)."""
    cells = '<c r="A1" t="e"><v>#N/A</v>' * 16_000
    sheet = f'<worksheet xmlns="{_MAIN}"><sheetData><row r="1"><c r="B1" t="e"><v>#REF!</v></c>{cells}</row>'
    started = time.perf_counter()
    found = cell_errors(_one_sheet_book(sheet + "</sheetData></worksheet>"))
    assert time.perf_counter() - started < 2.0
    assert found == {"Fields": {(0, 1): "#REF!"}}  # the one closed error cell, read as before


def _one_sheet_book(sheet: str) -> bytes:
    """An .xlsx archive holding only what `cell_errors` reads: a workbook with the tab "Fields" and its sheet part."""
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{rels}"><sheets><sheet name="Fields" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Target="/xl/worksheets/sheet1.xml" Type="worksheet"/></Relationships>',
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()
