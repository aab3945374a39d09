"""Markdown for the review editor, both ways: ADF → Markdown for the editor's text, Markdown → ADF on save.

The Markdown is CommonMark with GFM tables, strikethrough, task items (`- [ ] criterion`) and alerts for panels
(`> [!WARNING]`). A newline inside a paragraph is a line break (as in Jira's editor), and `<br>` is one inside
a table cell. Text is escaped where Markdown would read it as markup, so spec values (HTML in help text, pipes,
machine names) come back exactly as they were. Structure ADF cannot express is refused by `to_adf`'s caller,
which validates the result against the schema.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from app.adf import nodes
from app.adf.nodes import Node

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_PANEL_TYPES = ("info", "note", "tip", "warning", "error", "success")
_ALERT = re.compile(r"^\[!(\w+)\][ \t]*$", re.IGNORECASE)
_TASK = re.compile(r"^\[([ xX])\][ \t]+")
_BREAK_TAG = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
_MARK_SYNTAX = {"strong": "**", "em": "*", "strike": "~~"}
_HARD_BREAK = "\x00"  # placeholder while a paragraph is assembled; NUL never occurs in stored text

# ---------------------------------------------------------------------------------------------- ADF → Markdown


def to_markdown(document: Node | None) -> str:
    """The editor's text for an ADF document (empty for none)."""
    blocks = [_block(node) for node in (document or {}).get("content") or []]
    return "\n\n".join(block for block in blocks if block) + "\n" if any(blocks) else ""


def _block(node: Node) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    content = node.get("content") or []
    if kind == "paragraph":
        return _lines(content)
    if kind == "heading":
        return "#" * min(max(int(attrs.get("level", 1)), 1), 6) + " " + _lines(content).replace("\n", " ")
    if kind == "bulletList":
        return "\n".join(_list_item("- ", item) for item in content)
    if kind == "orderedList":
        start = int(attrs.get("order", 1))
        return "\n".join(_list_item(f"{start + n}. ", item) for n, item in enumerate(content))
    if kind == "taskList":
        return "\n".join(
            _indent("- [x] " if item.get("attrs", {}).get("state") == "DONE" else "- [ ] ", _lines(item.get("content")))
            for item in content
        )
    if kind == "panel":
        return _quote(f"[!{str(attrs.get('panelType', 'info')).upper()}]\n" + _blocks(content))
    if kind == "blockquote":
        return _quote(_blocks(content))
    if kind == "codeBlock":
        code = "".join(child.get("text", "") for child in content)
        fence = "~~~" if "```" in code else "```"
        return f"{fence}{attrs.get('language') or ''}\n{code}\n{fence}"
    if kind == "rule":
        return "---"
    if kind == "table":
        return _table(content)
    return _blocks(content)  # containers Markdown has no syntax for (expand, layouts): keep what they hold


def _blocks(content: list[Node]) -> str:
    return "\n\n".join(filter(None, (_block(child) for child in content)))


def _list_item(marker: str, item: Node) -> str:
    return _indent(marker, _blocks(item.get("content") or []))


def _indent(marker: str, text: str) -> str:
    pad = " " * len(marker)
    lines = text.split("\n")
    return marker + lines[0] + "".join("\n" + (pad + line if line else "") for line in lines[1:])


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def _table(rows: list[Node]) -> str:
    cells = [[_cell(cell) for cell in row.get("content") or []] for row in rows]
    width = max((len(row) for row in cells), default=0)
    if not width:
        return ""
    cells = [row + [""] * (width - len(row)) for row in cells]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


def _cell(cell: Node) -> str:
    paragraphs = [_inline(child.get("content") or [], cell=True) for child in cell.get("content") or []]
    return "<br><br>".join(paragraphs).replace(_HARD_BREAK, "<br>").replace("\n", " ")


def _lines(content: list[Node] | None) -> str:
    """A paragraph's inline nodes; a hard break is a newline, or `\\` + newline where a bare one would be lost."""
    parts = _inline(content or []).split(_HARD_BREAK)
    text = parts[0]
    for part in parts[1:]:
        text += ("\n" if part.strip() else "\\\n") + part
    return text


def _inline(content: list[Node], *, cell: bool = False) -> str:
    out: list[str] = []
    line_start = True
    for node in content:
        kind = node.get("type")
        if kind == "hardBreak":
            out.append(_HARD_BREAK)
            line_start = True
            continue
        text = node.get("text") or (node.get("attrs") or {}).get("text") or ""
        if not text:
            continue
        out.append(_marked(text, node.get("marks") or [], line_start=line_start and not cell, in_cell=cell))
        line_start = False
    return "".join(out)


def _marked(text: str, marks: list[Node], *, line_start: bool, in_cell: bool = False) -> str:
    kinds = {mark.get("type"): mark for mark in marks}
    if "code" in kinds:
        fence = "``" if "`" in text else "`"
        # In a GFM table a `|` ends the cell even inside a code span; `\|` is the escape GFM reads back as `|`.
        code = text.replace("|", "\\|") if in_cell else text
        body = f"{fence}{code}{fence}"
    else:
        # Emphasis markers must touch the text: move surrounding spaces outside them ("**On hold:** ").
        core = text.strip()
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        body = _escape(core, line_start=line_start and not lead) if core else ""
        for kind, syntax in _MARK_SYNTAX.items():
            if kind in kinds and core:
                body = f"{syntax}{body}{syntax}"
        if line_start and lead:
            # Leading spaces would be dropped, or start a code block: keep them as character references.
            lead = "".join(f"&#{ord(c)};" for c in lead)
        body = lead + body + trail
    link = kinds.get("link")
    if link is not None:
        href = str((link.get("attrs") or {}).get("href", "")).replace(")", "%29").replace(" ", "%20")
        body = f"[{body}]({href})"
    return body


_ALWAYS = re.compile(r"([\\`*\[\]<|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_WORD_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_BLOCK_START = re.compile(r"^([#>+=-]|\d+[.)])")


def _escape(text: str, *, line_start: bool) -> str:
    # Intraword underscores (machine names like field_program_type) are literal in CommonMark: leave them be.
    text = _ALWAYS.sub(r"\\\1", text)
    text = _WORD_EDGE_UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY.sub(r"\\&", text)
    if line_start:
        text = _BLOCK_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text)
    return text


# ---------------------------------------------------------------------------------------------- Markdown → ADF


def to_adf(markdown: str) -> Node:
    """An ADF document for the editor's text; the caller validates it against the schema before storing it."""
    tree = SyntaxTreeNode(_PARSER.parse(markdown.replace("\r\n", "\n").replace(_HARD_BREAK, "")))
    ids = iter(range(1, 10**6))
    return nodes.doc(*_adf_blocks(tree.children, ids))


def _adf_blocks(children: list[SyntaxTreeNode], ids: Any) -> list[Node]:
    return [block for node in children if (block := _adf_block(node, ids)) is not None]


def _adf_block(node: SyntaxTreeNode, ids: Any) -> Node | None:
    kind = node.type
    if kind == "paragraph":
        return nodes.paragraph(_adf_inline(node.children[0]) if node.children else [])
    if kind == "heading":
        return nodes.heading(_adf_inline(node.children[0]) if node.children else [], int(node.tag[1]))
    if kind == "bullet_list":
        items = node.children
        if items and all(_task_state(item) for item in items):
            return _task_list(items, ids)
        return nodes.bullet_list([_adf_list_item(item, ids) for item in items])
    if kind == "ordered_list":
        start = int(node.attrs.get("start", 1) or 1)
        return nodes.ordered_list([_adf_list_item(item, ids) for item in node.children], start)
    if kind == "blockquote":
        return _quote_block(node, ids)
    if kind in ("fence", "code_block"):
        return nodes.code_block(node.content.rstrip("\n"), node.info.strip().split()[0] if node.info.strip() else "")
    if kind == "hr":
        return nodes.rule()
    if kind == "table":
        return _adf_table(node)
    if kind == "html_block":
        return nodes.paragraph(nodes.text(node.content.rstrip("\n")))
    return None


def _adf_list_item(item: SyntaxTreeNode, ids: Any) -> Node:
    return nodes.list_item(*(_adf_blocks(item.children, ids) or [nodes.paragraph()]))


def _task_state(item: SyntaxTreeNode) -> str | None:
    first = item.children[0] if item.children else None
    if first is None or first.type != "paragraph" or not first.children:
        return None
    found = _TASK.match(first.children[0].content)
    return None if found is None else ("DONE" if found.group(1) in "xX" else "TODO")


def _task_list(items: list[SyntaxTreeNode], ids: Any) -> Node | None:
    list_id = f"task-list-{next(ids)}"
    content = []
    for number, item in enumerate(items, start=1):
        source = item.children[0].children[0].content
        text = _TASK.sub("", source, count=1)
        inline = _adf_inline(SyntaxTreeNode(_PARSER.parseInline(text))) if text else []
        content.append(nodes.task_item(f"{list_id}-{number}", inline, done=_task_state(item) == "DONE"))
    return nodes.task_list(list_id, content)


def _quote_block(node: SyntaxTreeNode, ids: Any) -> Node:
    children = list(node.children)
    first = children[0] if children else None
    if first is not None and first.type == "paragraph" and first.children:
        lines = first.children[0].content.split("\n", 1)
        alert = _ALERT.match(lines[0].strip())
        if alert and alert.group(1).lower() in _PANEL_TYPES:
            rest = SyntaxTreeNode(_PARSER.parse(lines[1])).children if len(lines) > 1 else []
            return nodes.panel(
                alert.group(1).lower(), *(_adf_blocks([*rest, *children[1:]], ids) or [nodes.paragraph()])
            )
    return nodes.blockquote(*(_adf_blocks(children, ids) or [nodes.paragraph()]))


def _adf_table(node: SyntaxTreeNode) -> Node:
    rows = []
    for section in node.children:
        for row in section.children:
            cells = [
                nodes.table_cell(
                    nodes.paragraph(_adf_inline(cell.children[0]) if cell.children else []), header=cell.type == "th"
                )
                for cell in row.children
            ]
            rows.append(nodes.table_row(cells))
    return nodes.table(rows)


def _adf_inline(inline: SyntaxTreeNode) -> list[Node]:
    out: list[Node] = []
    _walk_inline(inline.children, [], out)
    while out and out[-1]["type"] == "hardBreak":
        out.pop()
    return out


def _walk_inline(children: list[SyntaxTreeNode], marks: list[Node], out: list[Node]) -> None:
    for node in children:
        kind = node.type
        if kind == "text":
            out.extend(_text_nodes(node.content, marks))
        elif kind in ("softbreak", "hardbreak"):
            out.append(nodes.hard_break())
        elif kind == "code_inline":
            links = [mark for mark in marks if mark["type"] == "link"]  # ADF allows only links beside code
            out.extend(_text_nodes(node.content, [*links, nodes.mark("code")]))
        elif kind in ("strong", "em", "s"):
            mark = {"strong": "strong", "em": "em", "s": "strike"}[kind]
            _walk_inline(node.children, [*marks, nodes.mark(mark)], out)
        elif kind == "link":
            href = str(node.attrs.get("href", ""))
            # `//host/x` takes the scheme of the page showing it and leads to another host without saying so: it
            # stays text. (markdown-it percent-encodes backslashes, so `\\host` is already a harmless relative link.)
            link = [] if href.startswith("//") else [nodes.mark("link", href=href)]
            _walk_inline(node.children, [*marks, *link], out)
        elif kind == "image":
            out.extend(_text_nodes(node.content or str(node.attrs.get("src", "")), marks))
        elif kind == "html_inline":
            if _BREAK_TAG.match(node.content.strip()):
                out.append(nodes.hard_break())
            else:
                out.extend(_text_nodes(node.content, marks))
        else:
            _walk_inline(node.children, marks, out)


def _text_nodes(text: str, marks: list[Node]) -> list[Node]:
    return [node] if (node := nodes.text(text, *marks)) else []
