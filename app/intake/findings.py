"""Findings: what the intake tells a spec author, one problem each, located to the cell."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TypedDict, Unpack

from app.errors import WhoCanFix


class Severity(StrEnum):
    """Blocking findings stop ticket generation; warnings travel into the affected ticket; info is for the report."""

    BLOCKING = "blocking"
    WARNING = "warning"
    INFO = "info"


class Code(StrEnum):
    """Every finding code the intake emits."""

    # Upload set and file level
    FILE_TOO_LARGE = "file_too_large"
    TOO_MANY_CELLS = "too_many_cells"
    TOO_MANY_FILES = "too_many_files"
    UPLOAD_TOO_LARGE = "upload_too_large"
    EMPTY_FILE = "empty_file"
    NO_RECORDS = "no_records"
    BINARY_FILE = "binary_file"
    UNREADABLE_WORKBOOK = "unreadable_workbook"
    SKIPPED_TAB = "skipped_tab"
    DUPLICATE_FILE = "duplicate_file"
    ENCODING_DETECTED = "encoding_detected"
    MALFORMED_CSV = "malformed_csv"
    UNBALANCED_QUOTES = "unbalanced_quotes"
    CONTROL_CHARACTERS = "control_characters"
    NO_HEADER_ROW = "no_header_row"
    UNRECOGNISED_FILE = "unrecognised_file"
    AMBIGUOUS_TYPE = "ambiguous_type"
    DUPLICATE_TYPE = "duplicate_type"
    SPLIT_TAB = "split_tab"
    MISSING_COLUMN = "missing_column"
    DUPLICATE_COLUMN = "duplicate_column"
    # Row level
    RAGGED_ROW = "ragged_row"
    STATUS_ON_EMPTY_ROW = "status_on_empty_row"
    UNKNOWN_STATUS = "unknown_status"
    SPREADSHEET_ERROR = "spreadsheet_error"
    MISSING_VALUE = "missing_value"
    INVALID_MACHINE_NAME = "invalid_machine_name"
    VALUE_IN_WRONG_COLUMN = "value_in_wrong_column"
    INVALID_VALUE = "invalid_value"
    UNMAPPED_VALUE = "unmapped_value"
    # Model level
    DUPLICATE_KEY = "duplicate_key"
    DUPLICATE_LABEL = "duplicate_label"
    UNKNOWN_REFERENCE = "unknown_reference"
    AMBIGUOUS_REFERENCE = "ambiguous_reference"
    UNCHECKED_REFERENCES = "unchecked_references"
    LABEL_CASE_MISMATCH = "label_case_mismatch"
    LOOKUP_ERROR = "lookup_error"
    LOOKUP_BLANK = "lookup_blank"
    LOOKUP_MISMATCH = "lookup_mismatch"
    STORAGE_TYPE_CONFLICT = "storage_type_conflict"
    STORAGE_CARDINALITY_CONFLICT = "storage_cardinality_conflict"
    TRANSITION_CONFLICT = "transition_conflict"
    STATUS_CONTRADICTION = "status_contradiction"  # statuses that cannot all hold (found by ticket generation)
    SETTING_CONTRADICTION = "setting_contradiction"  # a bundle setting its own notes contradict (ticket generation)
    WIDGET_MISMATCH = "widget_mismatch"  # a core widget on a field type it cannot edit (ticket generation)
    REFERENCE_CYCLE = "reference_cycle"


@dataclass(frozen=True)
class Finding:
    """One problem. `record` and `line` are 0 for findings about a whole file or the upload set."""

    code: Code
    severity: Severity
    who_can_fix: WhoCanFix
    message: str
    file: str = ""
    record: int = 0
    line: int = 0
    column: str = ""
    value: str = ""
    suggestion: str = ""
    cell: str = ""  # on a workbook tab: the cell's address ("J6")

    def to_dict(self) -> dict[str, object]:
        return {key: str(value) if isinstance(value, StrEnum) else value for key, value in asdict(self).items()}


class Where(TypedDict, total=False):
    """Where a finding is: the optional fields of `Finding` but the value, which `Findings.add` takes apart."""

    file: str
    record: int
    line: int
    column: str
    suggestion: str
    cell: str


class Findings(list[Finding]):
    """An ordered list of findings with a short way to add one."""

    def add(
        self,
        code: Code,
        severity: Severity,
        message: str,
        *,
        who_can_fix: WhoCanFix = WhoCanFix.SPEC_AUTHOR,
        value: str = "",
        **where: Unpack[Where],
    ) -> Finding:
        finding = Finding(code, severity, who_can_fix, message, value=value, **where)
        self.append(finding)
        return finding

    @property
    def blocking(self) -> bool:
        return any(f.severity is Severity.BLOCKING for f in self)
