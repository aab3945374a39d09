"""Validating ADF against the @atlaskit/adf-schema JSON schema fast enough for table-heavy descriptions.

Stock draft-04 `anyOf` descends into every alternative, and each descends again: seconds to a minute for one
description with large tables. An alternative whose `type` enum excludes the node's own type can never match, so
skipping it changes no verdict, only which errors are listed. That validator lists errors; `adf_is_valid` only
says yes or no, from the schema compiled to Python once (fastjsonschema), about 14 times faster on UWEC's
descriptions. The Jira sandbox checks every description it is sent with it, and the generation lists errors only
for a description it says no to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
from jsonschema.protocols import Validator

# The one copy of ../shared/schemas/adf-full.schema.json, shipped with the app because production has no shared
# folder (a test checks the two are equal).
SCHEMA_PATH = Path(__file__).with_name("adf-full.schema.json")


def _node_types(schema: dict[str, Any], definitions: dict[str, Any]) -> frozenset[str] | None:
    """The node types (`type` enum) an alternative accepts, following $ref and allOf; None when unconstrained."""
    if "$ref" in schema:
        return _node_types(definitions[schema["$ref"].rsplit("/", 1)[1]], definitions)
    enum = schema.get("properties", {}).get("type", {}).get("enum")
    if isinstance(enum, list) and all(isinstance(value, str) for value in enum):
        return frozenset(enum)
    for part in schema.get("allOf", ()):
        if (types := _node_types(part, definitions)) is not None:
            return types
    return None


@lru_cache(maxsize=4)
def validator_for(schema_path: Path) -> Validator:
    """A draft-04 validator for the schema file, built once (compiling the 70 kB schema is costly too)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    definitions = schema.get("definitions", {})
    stock = jsonschema.Draft4Validator.VALIDATORS["anyOf"]
    types: dict[int, frozenset[str] | None] = {}

    def any_of(validator: Any, alternatives: list[Any], instance: Any, node_schema: Any) -> Iterator[Any]:
        kind = instance.get("type") if isinstance(instance, dict) else None
        if isinstance(kind, str):
            for alternative in alternatives:
                if id(alternative) not in types:
                    types[id(alternative)] = _node_types(alternative, definitions)
            fitting = [a for a in alternatives if (found := types[id(a)]) is None or kind in found]
            alternatives = fitting or alternatives
        yield from stock(validator, alternatives, instance, node_schema)

    cls = jsonschema.validators.extend(jsonschema.Draft4Validator, {"anyOf": any_of})
    validator: Validator = cls(schema)
    return validator


@lru_cache(maxsize=4)
def adf_is_valid(schema_path: Path) -> Callable[[Any], bool]:
    """Whether a document is valid against the schema file: the same verdict as `validator_for`, compiled once."""
    compiled = fastjsonschema.compile(json.loads(schema_path.read_text(encoding="utf-8")))

    def is_valid(document: Any) -> bool:
        try:
            compiled(document)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return is_valid
