"""ADF's normal form: a document Jira stored and gave back hashes as the one we sent; an edit does not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.adf.markdown import to_adf
from app.adf.normal import as_jira_stores, normal_form
from app.pipeline.issue_requests import content_hash

pytestmark = [pytest.mark.unit, pytest.mark.export]

MARKDOWN = """### Fields

| Machine name | Type |
| --- | --- |
| field_body | text_long |

### Success criteria

- [ ] The Article content type exists
- [ ] Its fields are as in the table
"""


def sent() -> dict[str, Any]:
    document = to_adf(MARKDOWN)
    assert any(node["type"] == "table" for node in document["content"])
    return document


def test_a_document_jira_stored_differs_raw_but_has_the_same_normal_form_and_hash() -> None:
    document = sent()
    stored = as_jira_stores(copy.deepcopy(document))
    assert stored != document  # a raw comparison would take every untouched issue for an edited one
    table = next(node for node in stored["content"] if node["type"] == "table")
    assert table["attrs"]["layout"] == "default" and table["attrs"]["localId"]
    assert normal_form(stored) == normal_form(document)
    assert content_hash("Build Article", stored) == content_hash("Build Article", document)


def test_an_edit_in_jira_changes_the_hash_however_it_was_stored() -> None:
    document = sent()
    edited = as_jira_stores(copy.deepcopy(document))
    table = next(node for node in edited["content"] if node["type"] == "table")
    table["content"][1]["content"][1]["content"][0]["content"][0]["text"] = "text_with_summary"
    assert content_hash("Build Article", edited) != content_hash("Build Article", document)
    assert content_hash("Build Article (edited)", document) != content_hash("Build Article", document)


def test_attributes_that_are_not_defaults_are_kept() -> None:
    document = {"type": "doc", "version": 1, "content": [{"type": "table", "attrs": {"layout": "wide"}, "content": []}]}
    assert normal_form(document)["content"][0]["attrs"] == {"layout": "wide"}
