"""Atlassian Document Format node builders: the one place the app spells an ADF node.

Generated descriptions (`app.generation.description`), the review editor's Markdown (`app.adf.markdown`), the epic
descriptions and the revision comments the export writes all build their documents here. ADF forbids empty text
nodes, so `text` returns None for an empty string and the containers drop Nones. The sandbox (`app/sandbox`) only
reads and checks ADF, it builds none.
@see https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Node = dict[str, Any]


def mark(kind: str, **attrs: Any) -> Node:
    """A text mark: `mark("strong")`, `mark("link", href=url)`."""
    return {"type": kind, "attrs": attrs} if attrs else {"type": kind}


def text(value: str, *marks: str | Node) -> Node | None:
    """A text node, or None for an empty string (which ADF does not allow); a mark is its name or a `mark` node."""
    if not value:
        return None
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": m} if isinstance(m, str) else dict(m) for m in marks]
    return node


def hard_break() -> Node:
    return {"type": "hardBreak"}


def inline(value: str, *marks: str | Node) -> list[Node]:
    """Text with each newline as a hardBreak, so multi-line values keep their lines."""
    nodes: list[Node] = []
    for number, line in enumerate(value.replace("\r\n", "\n").split("\n")):
        if number:
            nodes.append(hard_break())
        if node := text(line, *marks):
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


def heading(content: str | list[Node], level: int = 3) -> Node:
    """A heading of inline nodes, or of a text (newlines as hardBreaks)."""
    nodes = inline(content) if isinstance(content, str) else content
    return {"type": "heading", "attrs": {"level": level}, "content": nodes}


def list_item(*blocks: Node) -> Node:
    return {"type": "listItem", "content": list(blocks)}


def bullet_list(items: Sequence[Node]) -> Node | None:
    """A bullet list of `list_item`s; None when there are none (lists may not be empty)."""
    return {"type": "bulletList", "content": list(items)} if items else None


def ordered_list(items: Sequence[Node], order: int = 1) -> Node:
    return {"type": "orderedList", "attrs": {"order": order}, "content": list(items)}


def task_item(local_id: str, content: list[Node], *, done: bool = False) -> Node:
    return {"type": "taskItem", "attrs": {"localId": local_id, "state": "DONE" if done else "TODO"}, "content": content}


def task_list(local_id: str, items: Sequence[Node]) -> Node | None:
    """A checklist of `task_item`s; the schema requires a localId on the list and on every item. None when empty."""
    return {"type": "taskList", "attrs": {"localId": local_id}, "content": list(items)} if items else None


def code_block(value: str, language: str = "") -> Node:
    """Preformatted text, newlines kept (an empty block has no text node)."""
    node: Node = {"type": "codeBlock", "content": [body] if (body := text(value)) else []}
    if language:
        node["attrs"] = {"language": language}
    return node


def panel(panel_type: str, *content: Node | None) -> Node:
    return {"type": "panel", "attrs": {"panelType": panel_type}, "content": [c for c in content if c is not None]}


def blockquote(*content: Node) -> Node:
    return {"type": "blockquote", "content": list(content)}


def rule() -> Node:
    return {"type": "rule"}


def table_cell(*content: Node, header: bool = False) -> Node:
    return {"type": "tableHeader" if header else "tableCell", "content": list(content)}


def table_row(cells: Sequence[Node]) -> Node:
    return {"type": "tableRow", "content": list(cells)}


def table(rows: Sequence[Node]) -> Node:
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": list(rows)}


def doc(*content: Node | None) -> Node:
    return {"version": 1, "type": "doc", "content": [c for c in content if c is not None]}
