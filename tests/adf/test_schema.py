"""The compiled ADF check gives the same verdicts as the error-listing validator, on real and broken documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.adf.schema import SCHEMA_PATH, adf_is_valid, validator_for
from app.generation.adf import validate
from tests.export.helpers import adf

pytestmark = [pytest.mark.unit, pytest.mark.generation]


def _table(rows: int) -> dict[str, Any]:
    cell = {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]}
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "table", "content": [{"type": "tableRow", "content": [cell, cell]}] * rows}],
    }


def _broken() -> list[Any]:
    unknown_node = adf("text")
    unknown_node["content"][1]["content"][0]["type"] = "blink"
    text_without_text = adf("text")
    del text_without_text["content"][1]["content"][0]["text"]
    heading_level_9 = adf("text")
    heading_level_9["content"][0]["attrs"]["level"] = 9
    row_in_paragraph = copy.deepcopy(_table(1))
    row_in_paragraph["content"] = [{"type": "paragraph", "content": row_in_paragraph["content"][0]["content"]}]
    return [unknown_node, text_without_text, heading_level_9, row_in_paragraph, {"type": "doc"}, [], "text"]


@pytest.mark.parametrize("document", [adf("As an editor I can publish."), _table(1), _table(60), *_broken()])
def test_the_compiled_check_agrees_with_the_validator(document: Any) -> None:
    assert adf_is_valid(SCHEMA_PATH)(document) == validator_for(SCHEMA_PATH).is_valid(document)


def test_valid_documents_list_no_errors_and_broken_ones_list_theirs() -> None:
    assert validate(_table(60)) == []
    assert all(validate(document) for document in _broken() if isinstance(document, dict))
    assert not any(adf_is_valid(SCHEMA_PATH)(document) for document in _broken())
