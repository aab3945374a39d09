"""Reading: encodings, delimiters, record and line numbers, limits, unreadable files."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.intake import IntakeLimits, Severity, SpecKind, UploadedFile, intake_files
from app.intake.findings import Findings
from app.intake.reading import read_table

pytestmark = [pytest.mark.unit, pytest.mark.intake]

F = "UWEC_Fields.csv"


def _fields_report(result):
    return next(f for f in result.files if f.name == F)


@pytest.mark.parametrize(
    ("encode", "expected"),
    [
        (lambda t: t.encode("utf-8-sig"), "utf-8-sig"),
        (lambda t: t.encode("utf-16"), "utf-16"),
        (lambda t: t.encode("utf-16-le"), "utf-16-le"),
        (lambda t: t.replace("Academic Program", "Académic Prögram").encode("cp1252"), "cp1252"),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16le-no-bom", "windows-1252"],
)
def test_encodings_are_detected_and_named(kit, encode, expected):
    text = kit.uwec_bytes(F).decode("utf-8")
    result = intake_files(kit.uwec_with(F, encode(text)))
    report = _fields_report(result)
    assert (report.encoding, report.kind) == (expected, SpecKind.FIELDS)
    assert (report.record_count, report.physical_line_count) == (609, 617)
    (said,) = kit.only(result, "encoding_detected", F)
    assert said.severity is Severity.INFO and expected in said.message
    assert len(kit.only(result, "storage_type_conflict")) == 5
    if expected == "cp1252":
        assert any(f.cells["Bundle"] == "Académic Prögram (Content type)" for f in result.model.fields)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters(kit, delimiter):
    data = kit.csv_bytes(kit.uwec_rows(F), delimiter=delimiter)
    result = intake_files(kit.uwec_with(F, data))
    report = _fields_report(result)
    assert (report.delimiter, report.record_count, report.physical_line_count) == (delimiter, 609, 617)
    assert len(result.model.fields) == 546
    assert kit.codes(result) == kit.codes(intake_files(kit.uwec_files()))


def test_embedded_newlines_keep_record_and_line_numbers(kit):
    data = kit.csv_bytes(
        [
            ["ID", "Name", "Machine name", "X", "Dev", "QA", "Notes"],
            ["", "Site Admin", "site_admin", "a", "", "", "line one\nline two\nline three"],
            ["", "Bad Role", "Bad Role", "a", "", "", ""],
        ]
    )
    result = intake_files([UploadedFile("Roles.csv", data)])
    assert [(r.source.record, r.source.line) for r in result.model.roles] == [(1, 2), (2, 5)]
    assert result.model.roles[0].cells["Notes"] == "line one\nline two\nline three"
    (bad,) = kit.only(result, "invalid_machine_name")
    assert (bad.record, bad.line, bad.column, bad.suggestion) == (2, 5, "Machine name", "bad_role")


def test_ragged_rows_error_literals_and_separators(kit):
    data = kit.csv_bytes(
        [
            ["ID", "Name", "Machine name", "X", "Dev", "QA", "Notes"],
            ["", "Editor", "editor", "a", "", "", "", "stray"],
            ["", "", "", "", "", "", "#VALUE!"],
            [],
            ["", "#REF!", "reviewer", "a", "", "", ""],
            ["", "Writer", "writer", "a"],
        ]
    )
    result = intake_files([UploadedFile("Userroles.csv", data)])
    assert [r.machine_name for r in result.model.roles] == ["editor", "reviewer", "writer"]
    (ragged,) = [f for f in kit.only(result, "ragged_row") if f.severity is Severity.WARNING]
    assert (ragged.record, ragged.line) == (1, 2)
    (error,) = kit.only(result, "spreadsheet_error")
    assert (error.record, error.column, error.value) == (4, "Name", "#REF!")
    assert result.model.roles[1].label == ""  # the error value reads as empty, reported once
    assert not kit.only(result, "missing_value")
    (short,) = [f for f in kit.only(result, "ragged_row") if f.severity is Severity.INFO]
    assert short.record == 5


def test_truncated_file_mid_quote(kit):
    data = kit.uwec_bytes(F)
    cut = data[: data.index(b'"Set as metatag') + 5]
    result = intake_files(kit.uwec_with(F, cut))
    (finding,) = kit.only(result, "unbalanced_quotes")
    assert (finding.file, finding.record, finding.line, finding.severity) == (F, 2, 3, Severity.WARNING)
    assert not result.blocking


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([UploadedFile("a.csv", b"")], "empty_file"),
        ([UploadedFile("a.csv", b"\r\n  \r\n")], "empty_file"),
        ([UploadedFile("a.csv", bytes(range(256)) * 8)], "binary_file"),
        ([UploadedFile("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))], "binary_file"),
        ([UploadedFile("UWEC_Fields.csv", b"Academic Program (Content type),Title,-,-,a\n")], "no_header_row"),
        ([UploadedFile("sheet.csv", b"ID,Colour,Weight,X\n,red,3,a\n")], "unrecognised_file"),
        ([UploadedFile("big.csv", b"x" * 2_100_000)], "file_too_large"),
        ([UploadedFile(f"f{i}.csv", b"ID,X\n") for i in range(26)], "too_many_files"),
        ([UploadedFile("a.csv", b"ID,X\n,a\n"), UploadedFile("a.csv", b"ID,X\n,d\n")], "duplicate_file"),
    ],
    ids=["empty", "blank", "binary", "png", "no-header", "unrecognised", "too-large", "too-many", "same-name"],
)
def test_unreadable_uploads_block_with_a_finding(kit, files, code):
    result = intake_files(files)
    assert result.blocking
    assert any(f.code == code and f.severity is Severity.BLOCKING for f in result.findings)


def test_total_upload_limit_and_duplicate_content(kit):
    files = kit.uwec_files()
    result = intake_files(
        [*files, UploadedFile("copy.csv", files[0].data)], limits=IntakeLimits(max_total_bytes=200_000)
    )
    (copy,) = kit.only(result, "duplicate_file")
    assert copy.severity is Severity.WARNING and copy.suggestion == files[0].name
    small = intake_files(files, limits=IntakeLimits(max_total_bytes=100_000))
    (over,) = kit.only(small, "upload_too_large")
    assert over.file == F and over.severity is Severity.BLOCKING


def test_a_windows_1252_export_with_a_few_dashes_is_not_read_as_asian_text(kit):
    # charset-normalizer alone takes this file (one em dash in 14 kB) for Big5-HKSCS and turns "this—hold" into a
    # CJK character.
    text = kit.uwec_bytes("UWEC_Bundles.csv").decode("utf-8")
    result = intake_files([UploadedFile("UWEC_Bundles.csv", text.encode("cp1252"))])
    assert result.files[0].encoding == "cp1252"
    assert any("this—hold" in b.notes for b in result.model.bundles)


def test_a_legal_2_mb_file_of_a_million_columns_is_refused_cheaply_with_a_clear_finding() -> None:
    import time

    wide = b"ID,Name," + b"," * 1_000_000 + b"\n,Article,article\n"
    assert len(wide) < IntakeLimits().max_file_bytes

    started = time.perf_counter()
    result = intake_files([UploadedFile("UWEC_Bundles.csv", wide)])
    elapsed = time.perf_counter() - started

    [finding] = [f for f in result.findings if f.code == "too_many_cells"]
    assert finding.severity is Severity.BLOCKING and finding.file == "UWEC_Bundles.csv"
    assert "1,000,003 columns" in finding.message and "at most 1,000" in finding.message
    assert elapsed < 1.0  # it was 2.3 s per panel load before the budget; reading the header row is all it costs


def test_the_cell_budget_counts_every_record_and_spares_real_specs() -> None:
    tall = b"ID,Name,X\n" + b",,a\n" * 200
    assert not any(f.code == "too_many_cells" for f in intake_files([UploadedFile("a.csv", tall)]).findings)
    refused = intake_files([UploadedFile("a.csv", tall)], limits=IntakeLimits(max_cells=300))
    assert [f.code for f in refused.findings if f.code == "too_many_cells"] == ["too_many_cells"]
    assert "more than 300 cells" in next(f.message for f in refused.findings if f.code == "too_many_cells")


def test_one_wide_line_is_refused_before_the_csv_module_splits_it() -> None:
    """csv builds a whole record before its width can be checked: a 2 MB line of 666,000 short cells made intake
    allocate 49.5 MB (tracemalloc's peak) before it was refused. Its delimiters are counted first now (11.5 MB:
    the decoded text and its lines)."""
    data = b"Name,Machine name\n" + b"ab," * 666_000 + b"\n"
    tracemalloc.start()
    try:
        result = intake_files([UploadedFile("UWEC_Userroles.csv", data)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (finding,) = [f for f in result.findings if f.code == "too_many_cells"]
    assert "666,001 columns" in finding.message and finding.line == 2
    assert peak < 25 * 2**20


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        # delimiters inside a quoted cell split nothing: a long list of allowed values is one cell
        ('Editor,"' + "a, " * 1_500 + '",x', None),
        ('Editor,"' + 'say ""a, b"", ' * 800 + '",x', None),
        # a quote in the middle of an unquoted cell is a character: the delimiters after it all split
        ('Editor,ab"c' + "," * 1_200, "at least 1,001 columns"),
        # a quoted cell, then 1,200 delimiters
        ('"Editor",' + "," * 1_200, "at least 1,001 columns"),
        # text after a closing quote joins the cell, and the delimiters after it split
        ('"Edi"tor,' + "x," * 1_200, "at least 1,001 columns"),
    ],
    ids=["quoted commas", "escaped quotes", "quote inside a cell", "quoted then wide", "text after the quote"],
)
def test_the_width_check_splits_quoted_cells_as_the_csv_module_does(line, refused) -> None:
    data = f"Name,Machine name,X\n{line}\n".encode()
    findings = [f for f in intake_files([UploadedFile("UWEC_Userroles.csv", data)]).findings]
    wide = [f.message for f in findings if f.code == "too_many_cells"]
    if refused is None:
        assert not wide and len(next(csv.reader(io.StringIO(line)))) == 3
    else:
        assert len(wide) == 1 and refused in wide[0]


def test_a_record_whose_quoted_cell_spans_lines_is_counted_across_them() -> None:
    """The cells of one record may sit on many physical lines (a quoted cell holds line breaks): the width is the
    record's, and the finding names the line where the record starts."""
    spread = '"a\n' + "\n".join("," * 600 for _ in range(3)) + '\n",' + "x," * 1_100
    data = f"Name,Machine name\nEditor,editor\n{spread}\n".encode()
    (finding,) = [
        f for f in intake_files([UploadedFile("UWEC_Userroles.csv", data)]).findings if f.code == "too_many_cells"
    ]
    assert finding.line == 3 and "at least 1,001 columns" in finding.message
    fits = f'Name,Machine name\n"a\n{("," * 600 + chr(10)) * 3}",editor\n'.encode()
    assert not [
        f for f in intake_files([UploadedFile("UWEC_Userroles.csv", fits)]).findings if f.code == "too_many_cells"
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab,"\n\r', max_size=60))
def test_the_width_check_refuses_exactly_the_files_the_csv_module_splits_too_wide(text: str) -> None:
    limits = IntakeLimits(max_columns=3, max_cells=10**6)
    findings = Findings()
    table = read_table(UploadedFile("a.csv", ("ID,Name\n" + text).encode()), findings, limits)
    try:
        widest = max((len(r) for r in csv.reader(io.StringIO("ID,Name\n" + text, newline=""))), default=0)
    except csv.Error:
        return  # (a NUL or the like: not in this alphabet)
    assert (table is None) == (widest > 3)
    if table is not None:
        assert max((len(r.cells) for r in table.records), default=0) <= 3


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(["a", ",", ";", '"', "\n", "\r", " ", "b,c", '""', ",,,", '"x\ny"']), max_size=40
    ).map("".join),
    delimiter=st.sampled_from([",", ";"]),
    max_columns=st.sampled_from([1, 2, 3, 5, 1000]),
    max_cells=st.sampled_from([3, 10, 40, 500_000]),
    chunk=st.sampled_from([1, 2, 64]),
)
def test_reading_without_the_guard_is_the_guarded_reading(text, delimiter, max_columns, max_cells, chunk):
    """The fast reading (csv alone while no record holds max_columns delimiters) gives what the record-width guard
    gives: records, lines, findings, over-budget refusals."""
    from app.intake import reading

    limits = IntakeLimits(max_columns=max_columns, max_cells=max_cells)
    fast, guarded = reading.Table("f", "utf-8", delimiter, None), reading.Table("f", "utf-8", delimiter, None)
    fast_findings, guarded_findings = Findings(), Findings()
    default, reading._CHUNK_LINES = reading._CHUNK_LINES, chunk
    try:
        read = reading._parse(text, fast, fast_findings, limits)
    finally:
        reading._CHUNK_LINES = default
    assert read == reading._parse_guarded(text, guarded, guarded_findings, limits)
    assert list(fast_findings) == list(guarded_findings)
    if read:
        assert (fast.header, fast.records, fast.physical_lines) == (
            guarded.header,
            guarded.records,
            guarded.physical_lines,
        )
