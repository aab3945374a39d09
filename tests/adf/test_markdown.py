"""Markdown <-> ADF for the review editor: real descriptions survive the round trip, every table cell intact."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pytest

from app.adf import nodes
from app.adf.html import adf_to_html
from app.adf.markdown import to_adf, to_markdown
from app.generation import MAX_DESCRIPTION, adf, draft_tickets, finish_ticket
from app.generation.briefs import brief_for
from app.intake import UploadedFile, intake_files
from app.llm import compose
from tests.support import UWEC

pytestmark = [pytest.mark.unit, pytest.mark.generation]


@lru_cache(maxsize=1)
def uwec_descriptions() -> tuple[dict[str, Any], ...]:
    result = intake_files([UploadedFile(p.name, p.read_bytes()) for p in sorted(UWEC.glob("*.csv"))])
    drafts = draft_tickets(result).drafts
    return tuple(
        finish_ticket(d, compose(brief_for(d, site_name="", site_description=""))).to_dict()["description"]
        for d in drafts
    )


def cells(node: dict[str, Any]) -> list[str]:
    if node.get("type") in ("tableCell", "tableHeader"):
        return [adf.plain_text(node)]
    return [text for child in node.get("content") or [] for text in cells(child)]


def test_every_generated_description_round_trips_with_every_table_cell() -> None:
    documents = uwec_descriptions()

    for document in documents:
        markdown = to_markdown(document)
        back = to_adf(markdown)
        assert adf.validate(back) == []
        assert cells(back) == cells(document)
        assert to_markdown(back) == markdown
        # A no-op edit must stay saveable: it may not push a description near the limit over Jira's 32,767.
        if adf.size(document) <= MAX_DESCRIPTION:
            assert adf.size(back) <= MAX_DESCRIPTION
    assert sum(len(cells(d)) for d in documents) > 1000


def test_spec_text_that_looks_like_markup_comes_back_as_written() -> None:
    tricky = "<p>Help</p> | a*b* _x_ [y](z) &amp; field_name `code`\n- not a list\n1. not ordered\n# not a heading"
    cell = {"type": "tableCell", "attrs": {}, "content": [nodes.paragraph(nodes.inline(tricky))]}
    table = {"type": "table", "content": [{"type": "tableRow", "content": [cell]}]}
    document = nodes.doc(nodes.paragraph(nodes.inline(tricky)), table)

    back = to_adf(to_markdown(document))

    assert adf.plain_text(back["content"][0]) == tricky
    assert cells(back) == [tricky]


def test_gfm_tables_tasks_panels_and_marks_become_adf() -> None:
    markdown = (
        "## Plan\n\nSome **bold** and *em* and ~~gone~~ and `code` and [a link](https://example.com).\n\n"
        "| Name | Type |\n| --- | --- |\n| title | text<br>line two |\n\n"
        "- [ ] first\n- [x] second\n\n> [!WARNING]\n> Careful\n\n1. one\n2. two\n"
    )

    document = to_adf(markdown)
    html = str(adf_to_html(document))

    assert adf.validate(document) == []
    kinds = [node["type"] for node in document["content"]]
    assert kinds == ["heading", "paragraph", "table", "taskList", "panel", "orderedList"]
    assert document["content"][3]["content"][1]["attrs"]["state"] == "DONE"
    assert document["content"][4]["attrs"]["panelType"] == "warning"
    assert "<th><p>Name</p></th>" in html and "text<br>line two" in html and "<strong>bold</strong>" in html
    assert "<s>gone</s>" in html and "href='https://example.com'" in html


def test_a_newline_in_a_paragraph_is_a_line_break_and_empty_text_is_an_empty_document() -> None:
    assert to_adf("one\ntwo")["content"][0]["content"][1] == {"type": "hardBreak"}
    assert to_adf("") == {"version": 1, "type": "doc", "content": []}
    assert to_markdown({"version": 1, "type": "doc", "content": []}) == ""


def test_html_is_escaped_when_rendered() -> None:
    html = str(adf_to_html(to_adf("<script>alert(1)</script>\n\n| <b>x</b> |\n| --- |\n| y |")))

    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_a_pipe_in_code_inside_a_table_cell_survives_two_saves() -> None:
    markdown = "| pattern | use |\n| --- | --- |\n| `^(a\\|b)$` | x |\n"
    once = to_adf(markdown)
    twice = to_adf(to_markdown(once))
    assert cells(twice) == cells(once) == ["pattern", "use", "^(a|b)$", "x"]


@pytest.mark.parametrize("href", ["//evil.example/login", "//evil.example", "//evil.example:8443/x?y=1"])
def test_links_to_another_host_without_a_scheme_stay_text(href: str) -> None:
    document = to_adf(f"Read [the guide]({href}) first, or [the docs](https://www.drupal.org/docs).")
    marks = [mark for node in document["content"][0]["content"] for mark in node.get("marks", [])]
    assert marks == [{"type": "link", "attrs": {"href": "https://www.drupal.org/docs"}}]
    assert "the guide" in str(document)
