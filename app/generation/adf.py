"""The spec's text and tables as ADF (built with `app.adf.nodes`), and validation against the @atlaskit/adf-schema
JSON schema.

Text is always placed in text nodes as written: markup in spec cells (HTML in help text) is shown, never
interpreted. ADF forbids empty text nodes, so empty values become empty paragraphs; newlines become hardBreaks.
"""

from __future__ import annotations

import re

from app.adf import nodes
from app.adf.nodes import Node
from app.adf.schema import SCHEMA_PATH, adf_is_valid, validator_for
from app.adf.size import description_size
from app.generation.tables import Table

# A cell holding markup (help text with <strong>, <code>) is shown as code, so it reads as written, not as prose.
_MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>")


def marked(value: str) -> list[Node]:
    """Text with each newline as a hardBreak and every HTML tag in it a code span: `<h2>` reads as the tag it names,
    not as stray markup (ADF shows text literally, so a bare tag looks like a rendering bug)."""
    parts: list[Node] = []
    for number, line in enumerate(value.replace("\r\n", "\n").split("\n")):
        if number:
            parts.append(nodes.hard_break())
        end = 0
        for match in _MARKUP.finditer(line):
            parts.extend(n for n in (nodes.text(line[end : match.start()]), nodes.text(match.group(), "code")) if n)
            end = match.end()
        if node := nodes.text(line[end:]):
            parts.append(node)
    return parts


def checklist(items: list[str], local_id: str) -> Node | None:
    """An unchecked checklist of criteria (tags in them as code); None when there are none."""
    return nodes.task_list(
        local_id, [nodes.task_item(f"{local_id}-{number}", marked(item)) for number, item in enumerate(items, start=1)]
    )


def table(spec: Table) -> Node:
    """A spec table: heading cells become tableHeader, value cells tableCell, each holding one paragraph."""
    return nodes.table(
        [
            nodes.table_row(
                [
                    nodes.table_cell(
                        nodes.paragraph(nodes.inline(cell.text, *(("code",) if _MARKUP.search(cell.text) else ()))),
                        header=cell.is_heading,
                    )
                    for cell in row
                ]
            )
            for row in spec.rows
        ]
    )


def plain_text(node: Node) -> str:
    """The text of a node, hardBreaks as newlines: the inverse of `inline` for one paragraph."""
    if node.get("type") == "text":
        return str(node["text"])
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(plain_text(child) for child in node.get("content", []))


def size(document: Node) -> int:
    """The description's size as Jira counts it against its 32,767-character limit (see app/adf/size.py)."""
    return description_size(document)


def validate(document: Node) -> list[str]:
    """Every schema violation in `document` (empty when it is valid ADF), each with its JSON path."""
    if adf_is_valid(SCHEMA_PATH)(document):  # the compiled check is fast; listing errors is only for the rare no
        return []
    return [f"{error.json_path}: {error.message}" for error in validator_for(SCHEMA_PATH).iter_errors(document)]
