"""Every description is valid ADF; the fast validator agrees with the stock one."""

from __future__ import annotations

import json

import jsonschema
import pytest

from app.adf.nodes import doc, paragraph, text
from app.adf.schema import SCHEMA_PATH
from app.generation import GenerationResult, validate_adf
from app.generation.adf import checklist, size, table
from app.generation.tables import Cell, Table
from tests.support import SHARED

pytestmark = [pytest.mark.unit, pytest.mark.generation]

SHARED_SCHEMA = SHARED / "schemas" / "adf-full.schema.json"


def test_every_description_validates(uwec_result: GenerationResult) -> None:
    for ticket in uwec_result.tickets:
        assert validate_adf(ticket.description) == [], ticket.key
        assert size(ticket.description) <= 32_767


def test_the_shipped_schema_is_the_shared_one() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(SHARED_SCHEMA.read_text())


SAMPLES = {
    "valid": doc(
        paragraph(text("<b>x</b>")),
        checklist(["a", "b"], "t"),
        table(Table("t", ((Cell("h"),), (Cell("", "f.csv", 1, "h"),), (Cell("a\nb", "f.csv", 2, "h"),)))),
    ),
    "empty text": {
        "version": 1,
        "type": "doc",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}],
    },
    "empty cell": {
        "version": 1,
        "type": "doc",
        "content": [
            {"type": "table", "content": [{"type": "tableRow", "content": [{"type": "tableCell", "content": []}]}]}
        ],
    },
    "task without id": {
        "version": 1,
        "type": "doc",
        "content": [
            {
                "type": "taskList",
                "attrs": {"localId": "a"},
                "content": [{"type": "taskItem", "attrs": {"state": "TODO"}}],
            }
        ],
    },
    "unknown node": {"version": 1, "type": "doc", "content": [{"type": "bogus"}]},
}


@pytest.mark.parametrize("name", SAMPLES)
def test_the_fast_validator_agrees_with_the_stock_one(name: str) -> None:
    stock = jsonschema.Draft4Validator(json.loads(SHARED_SCHEMA.read_text()))
    assert (validate_adf(SAMPLES[name]) == []) is stock.is_valid(SAMPLES[name]) is (name == "valid")


def test_small_real_descriptions_pass_the_stock_validator(uwec_result: GenerationResult) -> None:
    stock = jsonschema.Draft4Validator(json.loads(SHARED_SCHEMA.read_text()))
    # The stock validator takes seconds per table-heavy document; the three smallest keep this test fast.
    for ticket in sorted(uwec_result.tickets, key=lambda t: size(t.description))[:3]:
        assert stock.is_valid(ticket.description), ticket.key
