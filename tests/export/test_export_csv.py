"""The spec CSVs come back with the Jira keys in the `ID` column and every other byte as uploaded."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pytest

from app.pipeline.export_csv import spec_csvs_with_keys

pytestmark = [pytest.mark.unit, pytest.mark.export]


@dataclass
class File:
    name: str
    data: bytes


@dataclass
class Ticket:
    key: str
    jira_key: str | None
    source: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0


def test_rows_of_exported_tickets_get_their_key_and_everything_else_is_kept() -> None:
    text = (
        "\r\n"  # a blank line before the header
        "ID,X,Name,Help\r\n"
        ',a,Article,"Two\r\nlines, quoted"\r\n'
        "old-7,a,Page,plain\r\n"
        ',x,Kept,"quoted ""as is"""\r\n'
    )
    files = [File("bundles.csv", codecs.BOM_UTF8 + text.encode()), File("other.csv", b"ID,Name\n,a\n")]
    tickets = [
        Ticket("t-1", "DTG-1", [{"file": "bundles.csv", "record": 1}]),
        Ticket("t-2", "DTG-2", [{"file": "bundles.csv", "record": 2}]),
        Ticket("t-3", None, [{"file": "bundles.csv", "record": 3}]),  # refused by Jira: keeps its ID
    ]
    result = spec_csvs_with_keys(files, tickets)
    assert result["bundles.csv"] == codecs.BOM_UTF8 + (
        b"\r\nID,X,Name,Help\r\n"
        b'DTG-1,a,Article,"Two\r\nlines, quoted"\r\n'
        b"DTG-2,a,Page,plain\r\n"
        b',x,Kept,"quoted ""as is"""\r\n'
    )
    assert result["other.csv"] == b"ID,Name\n,a\n"


def test_encoding_and_delimiter_are_kept() -> None:
    text = "Name;ID;Label\nfield_body;;Corps de texte é\nfield_tags;;Étiquettes\n"
    data = text.encode("cp1252")
    [result] = spec_csvs_with_keys(
        [File("fields.csv", data)], [Ticket("t", "DTG-9", [{"file": "fields.csv", "record": 2}])]
    ).values()
    assert result == "Name;ID;Label\nfield_body;;Corps de texte é\nfield_tags;DTG-9;Étiquettes\n".encode("cp1252")
    utf16 = codecs.BOM_UTF16_BE + "ID,Name\n,a\n".encode("utf-16-be")
    [back] = spec_csvs_with_keys(
        [File("u.csv", utf16)], [Ticket("t", "DTG-3", [{"file": "u.csv", "record": 1}])]
    ).values()
    assert back == codecs.BOM_UTF16_BE + "ID,Name\nDTG-3,a\n".encode("utf-16-be")


def test_a_workbook_comes_back_byte_for_byte_with_its_keys_beside_it() -> None:
    book = openpyxl.Workbook()
    roles = book.active
    roles.title = "User roles"
    roles.append([])
    roles.append(["ID", "X", "Name", "Machine name"])
    roles.append(["", "a", "Editor", "editor"])
    roles.append(["", "a", "Author", "=LOWER(C4)"])  # a formula, which any rewrite through a reader would lose
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    tickets = [
        Ticket(
            "roles", "DTG-9", [{"file": "spec.xlsx [User roles]", "record": 2}, {"file": "spec.xlsx [x]", "record": 1}]
        )
    ]
    files = spec_csvs_with_keys([File("spec.xlsx", data), File("menus.csv", b"ID,Name\n,Main\n")], tickets)
    assert files["spec.xlsx"] == data
    # Records count from the header (row 2), so record 2 is the sheet's row 4; the keys list names tab and row.
    assert files["spec.xlsx Jira keys.csv"] == b"Tab,Row,Jira key\r\nUser roles,4,DTG-9\r\n"
    assert files["menus.csv"] == b"ID,Name\n,Main\n"
    assert set(files) == {"spec.xlsx", "spec.xlsx Jira keys.csv", "menus.csv"}
    # A workbook none of whose rows was exported comes back alone.
    assert set(spec_csvs_with_keys([File("spec.xlsx", data)], [])) == {"spec.xlsx"}
