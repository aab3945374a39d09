"""The one rule for CSV the app writes for people to open in a spreadsheet (ticket attachments, the spec download,
header rows included): a cell a spreadsheet would run as a formula gets a leading `'`, so it opens as text.

    inert_cell(text) -> text
    csv_text(rows, delimiter=",", lineterminator="\\r\\n") -> str      # every cell through inert_cell

Plain numbers ("-1" is Drupal's unlimited cardinality, "+3.5") and the spec's lone "-" placeholders are left alone.
Only what is written out changes; stored uploads, tickets and Jira keep the text as written.
@see https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(cell: str) -> str:
    if len(cell) < 2 or not cell.startswith(_FORMULA_START):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell


def csv_text(rows: Iterable[Iterable[str]], *, delimiter: str = ",", lineterminator: str = "\r\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerows([inert_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()
