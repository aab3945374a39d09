"""Shared helpers for the intake tests: the UWEC reference set and small CSV builders.

Test modules cannot import this file by name, so the helpers reach them through the `kit` fixture.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.intake import Finding, IntakeResult, UploadedFile, intake_files

UWEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "sample_data" / "uwec"


class Kit:
    """Builders and finders for intake tests."""

    uwec_dir = UWEC_DIR

    @staticmethod
    def uwec_files() -> list[UploadedFile]:
        return [UploadedFile(path.name, path.read_bytes()) for path in sorted(UWEC_DIR.glob("*.csv"))]

    @staticmethod
    def uwec_bytes(name: str) -> bytes:
        return (UWEC_DIR / name).read_bytes()

    @staticmethod
    def uwec_with(name: str, data: bytes) -> list[UploadedFile]:
        """The UWEC set with one file's bytes replaced."""
        return [UploadedFile(f.name, data) if f.name == name else f for f in Kit.uwec_files()]

    @staticmethod
    def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode(encoding)

    @staticmethod
    def uwec_rows(name: str) -> list[list[str]]:
        return list(csv.reader(io.StringIO(Kit.uwec_bytes(name).decode("utf-8"), newline="")))

    @staticmethod
    def only(result: IntakeResult, code: str, file: str | None = None) -> list[Finding]:
        return [f for f in result.findings if f.code == code and (file is None or f.file == file)]

    @staticmethod
    def codes(result: IntakeResult) -> set[str]:
        return {str(f.code) for f in result.findings}


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit


@pytest.fixture(scope="session")
def uwec() -> IntakeResult:
    if not UWEC_DIR.is_dir():
        pytest.fail(f"reference data missing: {UWEC_DIR}")
    return intake_files(Kit.uwec_files())
