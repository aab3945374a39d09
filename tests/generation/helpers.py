"""Helpers for the generation tests: the UWEC sample as uploads, CSV rewriting, and walking ADF tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

from app.generation.tables import Table
from app.intake import IntakeResult, UploadedFile, intake_files
from tests.support import UWEC


def uwec_uploads() -> list[UploadedFile]:
    return [UploadedFile(path.name, path.read_bytes()) for path in sorted(UWEC.glob("*.csv"))]


def rewrite(upload: UploadedFile, change: Callable[[list[list[str]]], list[list[str]]]) -> UploadedFile:
    """The same file with its data records (not the header) changed by `change`, written back as CSV."""
    header, *records = list(csv.reader(io.StringIO(upload.data.decode("utf-8-sig"))))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *change(records)])
    return UploadedFile(upload.name, buffer.getvalue().encode("utf-8"))


def intake(uploads: list[UploadedFile]) -> IntakeResult:
    return intake_files(uploads)


def adf_tables(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every table node in an ADF document, in document order."""
    if node.get("type") == "table":
        yield node
    for child in node.get("content", []):
        yield from adf_tables(child)


def texts(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text node under `node`."""
    if node.get("type") == "text":
        return [node]
    return [t for child in node.get("content", []) for t in texts(child)]


def grid(table: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """An ADF table as rows of (cell type, plain text), hardBreaks read as newlines."""
    from app.generation.adf import plain_text

    return [[(cell["type"], plain_text(cell)) for cell in row["content"]] for row in table["content"]]


def spec_grid(table: Table) -> list[list[tuple[str, str]]]:
    return [[("tableHeader" if c.is_heading else "tableCell", c.text) for c in row] for row in table.rows]
