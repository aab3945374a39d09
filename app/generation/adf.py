"""Atlassian Document Format: node builders and validation against the @atlaskit/adf-schema JSON schema.

Text is always placed in text nodes as written: markup in spec cells (HTML in help text) is shown, never
interpreted. ADF forbids empty text nodes, so empty values become empty paragraphs; newlines become hardBreaks.
"""

from __future__ import annotations

import re
from typing import Any

from app.adf.schema import SCHEMA_PATH, adf_is_valid, validator_for
from app.adf.size import description_size
from app.generation.tables import Table

Node = dict[str, Any]

# A cell holding markup (help text with <strong>, <code>) is shown as code, so it reads as written, not as prose.
_MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>")


def text(value: str, *marks: str) -> Node | None:
    """A text node, or None for an empty string (which ADF does not allow)."""
    if not value:
        return None
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": mark} for mark in marks]
    return node


def inline(value: str, *marks: str) -> list[Node]:
    """Text with each newline as a hardBreak, so multi-line cells keep their lines."""
    nodes: list[Node] = []
    for number, line in enumerate(value.replace("\r\n", "\n").split("\n")):
        if number:
            nodes.append({"type": "hardBreak"})
        if node := text(line, *marks):
            nodes.append(node)
    return nodes


def marked(value: str) -> list[Node]:
    """Like `inline`, but every HTML tag in the text is a code span: `<h2>` reads as the tag it names, not as
    stray markup (ADF shows text literally, so a bare tag looks like a rendering bug)."""
    nodes: list[Node] = []
    for number, line in enumerate(value.replace("\r\n", "\n").split("\n")):
        if number:
            nodes.append({"type": "hardBreak"})
        end = 0
        for match in _MARKUP.finditer(line):
            nodes.extend(n for n in (text(line[end : match.start()]), text(match.group(), "code")) if n)
            end = match.end()
        if node := text(line[end:]):
            nodes.append(node)
    return nodes


def paragraph(*parts: Node | list[Node] | None) -> Node:
    """A paragraph of inline nodes; lists are flattened and Nones dropped."""
    content: list[Node] = []
    for part in parts:
        if isinstance(part, list):
            content.extend(part)
        elif part is not None:
            content.append(part)
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def heading(value: str, level: int = 3) -> Node:
    return {"type": "heading", "attrs": {"level": level}, "content": inline(value)}


def bullet_list(items: list[Node]) -> Node | None:
    """A bullet list with one paragraph per item; None when there are no items (lists may not be empty)."""
    if not items:
        return None
    return {"type": "bulletList", "content": [{"type": "listItem", "content": [item]} for item in items]}


def task_list(items: list[str], local_id: str) -> Node | None:
    """An unchecked checklist; the schema requires a localId on the list and on every item."""
    if not items:
        return None
    return {
        "type": "taskList",
        "attrs": {"localId": local_id},
        "content": [
            {"type": "taskItem", "attrs": {"localId": f"{local_id}-{number}", "state": "TODO"}, "content": marked(item)}
            for number, item in enumerate(items, start=1)
        ],
    }


def code_block(value: str, language: str = "") -> Node | None:
    """Preformatted text (newlines kept); None when empty."""
    if not value:
        return None
    node: Node = {"type": "codeBlock", "content": [{"type": "text", "text": value}]}
    if language:
        node["attrs"] = {"language": language}
    return node


def panel(panel_type: str, *content: Node | None) -> Node:
    return {"type": "panel", "attrs": {"panelType": panel_type}, "content": [c for c in content if c is not None]}


def table(spec: Table) -> Node:
    """A table: heading cells become tableHeader, value cells tableCell, each holding one paragraph."""
    rows = []
    for row in spec.rows:
        cells = [
            {
                "type": "tableHeader" if cell.is_heading else "tableCell",
                "content": [paragraph(inline(cell.text, *(("code",) if _MARKUP.search(cell.text) else ())))],
            }
            for cell in row
        ]
        rows.append({"type": "tableRow", "content": cells})
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": rows}


def doc(*content: Node | None) -> Node:
    return {"version": 1, "type": "doc", "content": [c for c in content if c is not None]}


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
