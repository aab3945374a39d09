"""Reading: bytes of an uploaded CSV export -> a table of records that remember their physical lines."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat
from typing import NamedTuple

import charset_normalizer

from app.intake.findings import Code, Findings, Severity
from app.text_controls import CONTROL_CHARACTERS

# Python's csv module refuses a field over 131,072 characters; a spec cell may be as long as its file (2 MB), and
# the file's size was checked before any of it is read. Process-wide, so the spec download reads what intake read.
csv.field_size_limit(2**31 - 1)

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 50
_CHUNK_LINES = 64  # lines handed to csv at once while no record is too wide
_FEW_HIGH_BYTES = 0.02  # share of bytes >= 0x80 below which non-UTF-8 text is taken as Windows-1252
# Single-byte Western code pages that charset-normalizer cannot tell apart on short text; spreadsheet tools on
# Windows write Windows-1252, so it is the honest pick among them when it decodes the bytes.
_WESTERN = {"cp1252", "latin_1", "iso8859_15", "cp1250", "mac_roman", "cp850", "cp437", "iso8859_2", "ascii"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters other than tab, newline, return
# Every byte but those of CONTROL_CHARACTERS (C0 controls other than tab, newline and return; DEL)
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not CONTROL_CHARACTERS.match(chr(b)) or b >= 0x80)
_HIGH_BYTE = re.compile(b"[\x80-\xff]")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")


@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file: its name as the user gave it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class IntakeLimits:
    """Upload limits; the defaults are the product's (2 MB per CSV file or tab, 10 MB per workbook, 25 files, 50 MB
    per upload set)."""

    max_file_bytes: int = 2 * 1024 * 1024  # a CSV file, or one tab of a workbook
    max_files: int = 25
    max_total_bytes: int = 50 * 1024 * 1024
    max_workbook_bytes: int = 10 * 1024 * 1024  # an .xlsx or .ods workbook, all tabs together
    # The cell budget of one file or tab: a legal 2 MB file of a million empty columns is refused as it is read,
    # before recognition and validation spend seconds on it. Real specs have tens of columns.
    max_columns: int = 1_000
    max_cells: int = 500_000

    def max_bytes_for(self, name: str) -> int:
        """The size limit of one uploaded file: a workbook's, or a CSV file's."""
        return self.max_workbook_bytes if is_workbook(name) else self.max_file_bytes


def is_workbook(name: str) -> bool:
    """Whether a file is a spreadsheet workbook (read tab by tab) rather than a CSV export."""
    return name.lower().endswith(WORKBOOK_SUFFIXES)


class Record(NamedTuple):
    """One CSV record: 1-based record number after the header (the header is 0), first physical line, cells.

    A named tuple, one per record: immutable and hashable as a frozen dataclass, built in a fraction of the time
    (a frozen dataclass's `__init__` sets each field through `object.__setattr__`; 0.2 s for a 100x spec)."""

    number: int
    line: int
    cells: tuple[str, ...]


@dataclass
class Table:
    """A decoded, parsed file."""

    name: str
    encoding: str
    delimiter: str
    header: Record | None
    records: list[Record] = field(default_factory=list)
    physical_lines: int = 0
    workbook: str = ""  # for a workbook's tab: the workbook's file name
    tab: str = ""  # and the tab's name
    # Its cells are known to hold no control character (the text they were split from has none).
    controls_free: bool = field(default=False, repr=False, compare=False)


def remove_control_characters(table: Table, findings: Findings) -> None:
    """Remove NUL and other invisible control characters from every cell of `table` (a CSV file's or a workbook
    tab's), with one warning saying how many and where the first was; the stored upload keeps its bytes."""
    if table.controls_free:
        return
    removed, first = 0, None

    def cleaned(record: Record) -> Record:
        nonlocal removed, first
        cells, before = [], removed
        for cell in record.cells:
            text, count = CONTROL_CHARACTERS.subn("", cell)
            removed += count
            cells.append(text)
        if removed == before:
            return record
        first = first or record
        return Record(record.number, record.line, tuple(cells))

    # Almost every table has none: one search over all its cells spares a substitution per cell.
    every_cell = chain.from_iterable(r.cells for r in ([table.header] if table.header else []) + table.records)
    if not CONTROL_CHARACTERS.search("".join(every_cell)):
        return
    if table.header is not None:
        table.header = cleaned(table.header)
    table.records = [cleaned(record) for record in table.records]
    if first is not None:
        findings.add(
            Code.CONTROL_CHARACTERS,
            Severity.WARNING,
            f"{removed} invisible control character{'s' if removed > 1 else ''} (such as NUL) removed from the "
            "cells; the first is in this record. Check that the export is not damaged.",
            file=table.name,
            record=first.number,
            line=first.line,
        )


def accept_uploads(files: list[UploadedFile], limits: IntakeLimits, findings: Findings) -> list[UploadedFile]:
    """Apply the upload-set limits; returns the files worth reading, in upload order."""
    accepted: list[UploadedFile] = []
    seen_digests: dict[str, str] = {}
    seen_names: set[str] = set()
    total = 0
    if len(files) > limits.max_files:
        findings.add(
            Code.TOO_MANY_FILES,
            Severity.BLOCKING,
            f"{len(files)} files uploaded; at most {limits.max_files} are read, the rest are ignored.",
            value=str(len(files)),
        )
    for upload in files[: limits.max_files]:
        size = len(upload.data)
        if upload.name in seen_names:
            findings.add(
                Code.DUPLICATE_FILE, Severity.BLOCKING, "Two files have this name; rename one.", file=upload.name
            )
            continue
        seen_names.add(upload.name)
        if size > limits.max_bytes_for(upload.name):
            findings.add(
                Code.FILE_TOO_LARGE,
                Severity.BLOCKING,
                f"The file has {size:,} bytes; the limit is {limits.max_bytes_for(upload.name):,}.",
                file=upload.name,
                value=str(size),
            )
            continue
        total += size
        if total > limits.max_total_bytes:
            findings.add(
                Code.UPLOAD_TOO_LARGE,
                Severity.BLOCKING,
                f"The upload set passes {limits.max_total_bytes:,} bytes at this file; it and later files are ignored.",
                file=upload.name,
            )
            break
        if not upload.data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            findings.add(Code.EMPTY_FILE, Severity.BLOCKING, "The file is empty.", file=upload.name)
            continue
        digest = hashlib.sha256(upload.data).hexdigest()
        if digest in seen_digests:
            findings.add(
                Code.DUPLICATE_FILE,
                Severity.WARNING,
                f"Same content as {seen_digests[digest]}; this copy is ignored.",
                file=upload.name,
                suggestion=seen_digests[digest],
            )
            continue
        seen_digests[digest] = upload.name
        accepted.append(upload)
    return accepted


def read_table(upload: UploadedFile, findings: Findings, limits: IntakeLimits | None = None) -> Table | None:
    """Decode and parse one file; None (with a blocking finding) when it is not readable text or passes the cell
    budget (`limits.max_columns`, `limits.max_cells`)."""
    decoded = _decode(upload.data)
    if decoded is None or _looks_binary(decoded[0]):
        findings.add(
            Code.BINARY_FILE,
            Severity.BLOCKING,
            "This is not a text CSV file (binary content or an unknown encoding). Export the sheet as CSV.",
            file=upload.name,
        )
        return None
    text, encoding, how = decoded
    if encoding not in ("utf-8", "ascii"):
        findings.add(
            Code.ENCODING_DETECTED, Severity.INFO, f"Read as {encoding} ({how}).", file=upload.name, value=encoding
        )
    delimiter = sniff_delimiter(text)
    table = Table(upload.name, encoding, delimiter, header=None)
    if not _parse(text, table, findings, limits or IntakeLimits()):
        return None
    table.controls_free = not _has_controls(upload.data, text, encoding)
    if text.count('"') % 2 and table.records:
        last = table.records[-1]
        findings.add(
            Code.UNBALANCED_QUOTES,
            Severity.WARNING,
            "A quoted cell is never closed: the file may be truncated, and the last record swallowed the rest.",
            file=upload.name,
            record=last.number,
            line=last.line,
        )
    return table


def _decode(data: bytes) -> tuple[str, str, str] | None:
    """(text, codec name, how it was decided), or None when no text encoding fits."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec, "byte order mark"
            except UnicodeDecodeError:
                return None
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM: ASCII-range text has a zero byte in every other position.
        head = data[:4096]
        codec = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(codec), codec, "zero-byte pattern"
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8"), "utf-8", "valid UTF-8"
    except UnicodeDecodeError:
        pass
    if len(_HIGH_BYTE.findall(data)) <= _FEW_HIGH_BYTES * len(data):
        # Mostly ASCII with a few Western characters (a dash, an accent): charset-normalizer reads such short runs
        # as multibyte Asian text as often as not; a spreadsheet export that is not UTF-8 is Windows-1252.
        try:
            return data.decode("cp1252"), "cp1252", "not UTF-8; few non-ASCII bytes, read as Windows-1252"
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return None
    codec = best.encoding
    if codec in _WESTERN:
        try:
            return data.decode("cp1252"), "cp1252", f"not UTF-8; detected as Western European, {codec} family"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec), codec, "not UTF-8; detected by charset-normalizer"
    except (UnicodeDecodeError, LookupError):
        return None


def _has_controls(data: bytes, text: str, encoding: str) -> bool:
    """Whether the text holds a control character (`CONTROL_CHARACTERS`): in UTF-8 a byte below 0x80
    is always that character, so the bytes are searched, with a byte table in one C pass rather than the regex."""
    if encoding in ("utf-8", "utf-8-sig"):
        return bool(data.translate(None, _NOT_CONTROL_BYTES))
    return CONTROL_CHARACTERS.search(text) is not None


def _looks_binary(text: str) -> bool:
    sample = text[:_SNIFF_CHARS]
    controls = len(_CONTROL.findall(sample))
    return "\x00" in sample or controls > max(2, len(sample) // 100)


def sniff_delimiter(text: str) -> str:
    """The delimiter that gives the most consistent record widths (ties go to the comma)."""
    sample = text[:_SNIFF_CHARS]
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        if delimiter not in sample:
            continue
        widths = []
        try:
            for cells in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if cells:
                    widths.append(len(cells))
                if len(widths) >= _SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0]) / len(widths)
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _parse(text: str, table: Table, findings: Findings, limits: IntakeLimits) -> bool:
    """Fill `table`; False (with a blocking finding) when the file passes the cell budget.

    The record-width guard (`_RecordWidth`) changes nothing for a record whose lines hold fewer than `max_columns`
    delimiters, and real specs have no other: csv then splits the file's lines alone, and a record's delimiters are
    counted from the delimiters up to each line. The first record that holds `max_columns` of them (seen when csv
    returns it, or asks for the next chunk of `_CHUNK_LINES` lines while building it) sends the file back to the
    guarded reading, from its start."""
    lines = io.StringIO(text, newline="").readlines()  # the lines the guard would hand csv
    counts = list(map(str.count, lines, repeat(table.delimiter, len(lines))))
    if max(counts, default=0) < limits.max_columns:
        try:
            return _parse_lines(lines, counts, text, table, findings, limits)
        except _MaybeTooWide:
            table.header, table.records = None, []
    return _parse_guarded(text, table, findings, limits)


class _MaybeTooWide(Exception):
    """A record holds `max_columns` delimiters or more: the guard must read the file."""


def _parse_lines(
    lines: list[str], counts: list[int], text: str, table: Table, findings: Findings, limits: IntakeLimits
) -> bool:
    max_columns, max_cells = limits.max_columns, limits.max_cells
    before = [0, *accumulate(counts)]  # delimiters before each line
    previous = 0  # lines of the records returned so far

    def chunk(start: int) -> list[str]:
        # csv asks for line `start` while it builds the record that began after line `previous`
        if before[start] - before[previous] >= max_columns:
            raise _MaybeTooWide
        return lines[start : start + _CHUNK_LINES]

    reader = csv.reader(chain.from_iterable(map(chunk, range(0, len(lines), _CHUNK_LINES))), delimiter=table.delimiter)
    number = cells_read = 0
    records: list[Record] = []
    append, new = records.append, tuple.__new__
    try:
        for cells in reader:
            end = reader.line_num
            if before[end] - before[previous] >= max_columns:
                raise _MaybeTooWide
            line, previous = previous + 1, end
            cells_read += len(cells)
            if cells_read > max_cells:  # no record is wider than max_columns: it has fewer delimiters
                over_budget(table.name, findings, limits, line=line, columns=len(cells))
                return False
            if table.header is None:
                _take_header(table, cells, line)
                continue
            number += 1
            append(new(Record, (number, line, tuple(cells))))
    except csv.Error as error:
        if before[reader.line_num] - before[previous] >= max_columns:
            raise _MaybeTooWide from error
        table.records = records
        _malformed(error, table, findings, record=number + 1, line=previous + 1)
    table.records = records
    table.physical_lines = _physical_lines(text, reader.line_num)
    return True


def _parse_guarded(text: str, table: Table, findings: Findings, limits: IntakeLimits) -> bool:
    """`_parse` with the record-width guard handing csv each line: for a file with a record of `max_columns`
    delimiters or more."""
    guard = _RecordWidth(table.delimiter, limits.max_columns)
    reader = csv.reader(guard.lines(text), delimiter=table.delimiter)
    previous_line = 0
    number = 0
    cells_read = 0
    try:
        for cells in reader:
            guard.record_read()
            line = previous_line + 1
            previous_line = reader.line_num
            cells_read += len(cells)
            if guard.too_wide or len(cells) > limits.max_columns or cells_read > limits.max_cells:
                columns = guard.too_wide or len(cells)
                over_budget(table.name, findings, limits, line=line, columns=columns, at_least=not guard.exact)
                return False
            if table.header is None:
                _take_header(table, cells, line)
                continue
            number += 1
            table.records.append(Record(number, line, tuple(cells)))
    except csv.Error as error:
        _malformed(error, table, findings, record=number + 1, line=previous_line + 1)
    table.physical_lines = _physical_lines(text, reader.line_num)
    return True


def _take_header(table: Table, cells: list[str], line: int) -> None:
    """Blank records before the header are skipped; the first with a value is the header."""
    if any(cell.strip() for cell in cells):
        table.header = Record(0, line, tuple(cells))


def _physical_lines(text: str, lines_read: int) -> int:
    return max(lines_read, text.count("\n") + (0 if text.endswith("\n") else 1))


def _malformed(error: csv.Error, table: Table, findings: Findings, *, record: int, line: int) -> None:
    """Both readings stop at the first record csv cannot split and keep what came before."""
    findings.add(
        Code.MALFORMED_CSV,
        Severity.BLOCKING,
        f"The CSV cannot be parsed past this point ({error}); the rest of the file is ignored.",
        file=table.name,
        record=record,
        line=line,
    )


def over_budget(
    name: str, findings: Findings, limits: IntakeLimits, *, line: int, columns: int, at_least: bool = False
) -> None:
    """The blocking finding of a file or tab that passes the cell budget; nothing of it is read."""
    if columns > limits.max_columns:
        counted = f"at least {columns:,}" if at_least else f"{columns:,}"
        what = f"A record has {counted} columns; a spec file may have at most {limits.max_columns:,}"
    else:
        what = f"The file has more than {limits.max_cells:,} cells; a spec file may have at most that many"
    findings.add(
        Code.TOO_MANY_CELLS,
        Severity.BLOCKING,
        f"{what}, so it is not read. Remove the empty columns (or split the sheet) and export it again.",
        file=name,
        line=line,
        value=str(columns),
    )


class _RecordWidth:
    """Hands the csv module its lines and stops before it splits a record wider than `max_columns`: csv builds the
    whole record first (a 2 MB line of 666,000 short cells cost 57 MB before the width was checked).

    A line's delimiters bound its cells from above, so a record whose lines hold at most `max_columns` of them
    costs one `count`, and so does a record without a quote. Past that (a quoted cell can hold many commas), its
    cells are counted as csv splits them (its states with the default dialect: a quote opens a quoted cell only at
    a cell's start, `""` in it is a quote, a character after the closing quote joins the cell), token by token, up
    to one past the limit. The input then ends where the record began, and `too_wide` is set (`exact` is False
    when it is that lower bound)."""

    _START, _CELL, _QUOTED, _QUOTE_IN_QUOTED = range(4)

    def __init__(self, delimiter: str, max_columns: int) -> None:
        self.delimiter, self.max_columns = delimiter, max_columns
        self.tokens = re.compile(f'["\r\n{re.escape(delimiter)}]')
        self.too_wide, self.exact = 0, True
        self.record_read()

    def record_read(self) -> None:
        # csv asks for the next line only after it returned the record that the lines so far held
        self.delimiters, self.pending, self.state, self.cells, self.quoted = 0, list[str](), self._START, 0, False

    def lines(self, text: str) -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            self.delimiters += line.count(self.delimiter)
            self.quoted = self.quoted or '"' in line
            self.pending.append(line)
            if self.delimiters >= self.max_columns:
                if not self.quoted:  # every delimiter splits: the record is that wide
                    self.too_wide, self.exact = self.delimiters + 1, True
                else:
                    self.cells = self.cells or 1
                    for pending in self.pending:
                        self._count(pending)
                    self.pending.clear()
                    if self.cells > self.max_columns:
                        self.too_wide, self.exact = self.cells, False
                if self.too_wide:
                    yield ""  # csv returns what it holds, which _parse refuses
                    return
            yield line

    def _count(self, line: str) -> None:
        end = 0
        for token in self.tokens.finditer(line):
            if token.start() > end:
                self._other()
            end = token.end()
            char = token.group()
            if char == '"':
                self.state = {
                    self._START: self._QUOTED,
                    self._CELL: self._CELL,
                    self._QUOTED: self._QUOTE_IN_QUOTED,
                    self._QUOTE_IN_QUOTED: self._QUOTED,
                }[self.state]
            elif self.state == self._QUOTED:
                continue  # a delimiter or line break inside a quoted cell
            elif char == self.delimiter:
                self.cells, self.state = self.cells + 1, self._START
                if self.cells > self.max_columns:
                    return
            else:
                self.state = self._START  # the record ends; csv returns it before the next line
        if len(line) > end:
            self._other()

    def _other(self) -> None:
        if self.state in (self._START, self._QUOTE_IN_QUOTED):
            self.state = self._CELL
