"""Atlassian Document Format to readable HTML, the way Jira shows it: every text escaped, tables kept.

@see https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

# Node type → HTML tag for nodes that simply wrap their content.
_BLOCKS = {
    "paragraph": "p",
    "bulletList": "ul",
    "orderedList": "ol",
    "listItem": "li",
    "blockquote": "blockquote",
    "table": "table",
    "tableRow": "tr",
    "tableHeader": "th",
    "tableCell": "td",
    "taskList": "ul",
    "decisionList": "ul",
    "decisionItem": "li",
    "panel": "aside",
    "expand": "details",
    "nestedExpand": "details",
    "mediaSingle": "figure",
    "mediaGroup": "figure",
}
_MARKS = {"strong": "strong", "em": "em", "code": "code", "strike": "s", "underline": "u"}


def adf_to_html(document: dict[str, Any] | None) -> Markup:
    return Markup(_node(document)) if document else Markup("<p class='muted'>No description</p>")


def _children(node: dict[str, Any]) -> str:
    return "".join(_node(child) for child in node.get("content") or [])


def _node(node: dict[str, Any]) -> str:
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "doc":
        return _children(node)
    if kind == "text":
        return _text(node)
    if kind == "heading":
        level = min(max(int(attrs.get("level", 1)), 1), 6)
        return f"<h{level}>{_children(node)}</h{level}>"
    if kind == "codeBlock":
        return f"<pre><code>{_children(node)}</code></pre>"
    if kind == "taskItem":
        mark = "☑" if attrs.get("state") == "DONE" else "☐"
        return f"<li class='task'>{mark} {_children(node)}</li>"
    if kind in ("expand", "nestedExpand"):
        return f"<details open><summary>{escape(attrs.get('title', ''))}</summary>{_children(node)}</details>"
    if kind == "panel":
        return f"<aside class='panel panel-{escape(attrs.get('panelType', 'info'))}'>{_children(node)}</aside>"
    if kind in ("tableHeader", "tableCell"):
        tag = _BLOCKS[kind]
        span = "".join(f" {name}='{int(attrs[name])}'" for name in ("colspan", "rowspan") if attrs.get(name))
        return f"<{tag}{span}>{_children(node)}</{tag}>"
    if kind in _BLOCKS:
        return f"<{_BLOCKS[kind]}>{_children(node)}</{_BLOCKS[kind]}>"
    if kind == "hardBreak":
        return "<br>"
    if kind == "rule":
        return "<hr>"
    if kind == "media":
        return f"<span class='muted'>[attachment {escape(attrs.get('alt') or attrs.get('id', ''))}]</span>"
    if kind in ("mention", "emoji", "status", "date", "inlineCard", "blockCard"):
        label = attrs.get("text") or attrs.get("shortName") or attrs.get("url") or attrs.get("timestamp", "")
        return f"<span class='inline-{escape(kind)}'>{escape(label)}</span>"
    return _children(node)


def _text(node: dict[str, Any]) -> str:
    html = str(escape(node.get("text", "")))
    for mark in node.get("marks") or []:
        kind = mark.get("type")
        if kind in _MARKS:
            html = f"<{_MARKS[kind]}>{html}</{_MARKS[kind]}>"
        elif kind == "link":
            href = str((mark.get("attrs") or {}).get("href", ""))
            if href.startswith(("http://", "https://", "mailto:", "/")):
                html = f"<a href='{escape(href)}' rel='noopener'>{html}</a>"
    return html
