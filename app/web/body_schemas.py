"""One JSON Schema per request body, checked before a handler reads a field, so a wrong type or a huge value is a
400 naming the field instead of a crash further in. Handlers pass theirs to `json_body(request, SCHEMA)`.

    check(body, EDIT_TICKET)          # raises BodyError: "assignee: must be an object or null"

Sizes are bounded here too, before anything converts a value (a 600 KB Markdown edit is refused at once, not
converted first): no description that fits Jira's 32,767-character limit needs more Markdown than `MAX_MARKDOWN`.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from app.errors import AppError

MAX_MARKDOWN = 100_000
MAX_TEXT = 1_000
MAX_KEYS = 500

_TEXT: dict[str, Any] = {"type": "string", "maxLength": MAX_TEXT}
_TEXTS: dict[str, Any] = {"type": "array", "items": _TEXT, "maxItems": MAX_KEYS}
_PERSON: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "accountId": {"type": ["string", "null"], "maxLength": 128},
        "name": {"type": ["string", "null"], "maxLength": 255},
    },
}
_NAME_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "maxLength": 64}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


EDIT_TICKET = _object(
    {
        "version": {"type": "integer", "minimum": 0, "maximum": 2**31},
        "title": {"type": ["string", "null"], "maxLength": MAX_TEXT},
        "markdown": {"type": ["string", "null"], "maxLength": MAX_MARKDOWN},
        "labels": {"type": ["array", "null"], "items": _TEXT, "maxItems": 100},
        "assignee": _PERSON,
        "onHold": {"type": ["boolean", "null"]},
        "excluded": {"type": ["boolean", "null"]},
    },
    required=("version",),
)
BULK = _object(
    {
        "keys": {**_TEXTS, "minItems": 1},
        "action": {"enum": ["label", "assign", "exclude", "include"]},
        "add": {**_TEXTS, "type": ["array", "null"]},
        "remove": {**_TEXTS, "type": ["array", "null"]},
        "assignee": _PERSON,
    },
    required=("keys", "action"),
)
ADD_LINK = _object({"blockedBy": _TEXT}, required=("blockedBy",))
MARK_REVIEWED = _object({"reviewed": {"type": "boolean"}})  # missing: the handler says "must be true or false"
RENAME_SESSION = _object({"name": {"type": ["string", "null"], "maxLength": 120}}, required=("name",))
SET_FILE_KIND = _object({"kind": _NAME_OR_NULL})
CHOOSE_PROVIDER = _object({"provider": _NAME_OR_NULL})
REVISION_CHOICE = _object(
    {
        "ticketKey": {"type": "string", "minLength": 1, "maxLength": 255},
        "choice": {"enum": ["keep", "overwrite", "comment"]},
    },
    required=("ticketKey", "choice"),
)

# The configure page's forms. Types and outer sizes only: the use cases (app/pipeline/configuration.py,
# export_settings.py) say in the admin's words what is wrong with a value of the right type.
_OPTIONAL_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": MAX_TEXT}
LLM_CHOICE_FIELDS: dict[str, Any] = {
    "provider": _OPTIONAL_TEXT,
    "model": _OPTIONAL_TEXT,
    "baseUrl": {"type": ["string", "null"], "maxLength": 2048},
    "apiKey": _OPTIONAL_TEXT,
    "removeApiKey": {"type": "boolean"},
}
CHECK_CONNECTION = _object(LLM_CHOICE_FIELDS)
SETTINGS = _object(
    {
        **LLM_CHOICE_FIELDS,
        "statusMapping": {
            "type": "array",
            "maxItems": 100,
            "items": _object({"status": _TEXT, "action": _TEXT}),
        },
        "labels": {"type": ["array", "null"], "items": _TEXT, "maxItems": 100},
    }
)
EXPORT_SETTINGS = _object(
    {
        "ticketIssueType": _TEXT,
        "areaIssueType": _TEXT,
        "epicsEnabled": {"type": "boolean"},
        "fieldDefaults": {
            "type": ["object", "null"],
            "maxProperties": 100,
            "additionalProperties": {"type": "string", "maxLength": MAX_TEXT},
        },
    }
)

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


class BodyError(AppError):
    """The JSON body does not fit the route's schema; the message names the field."""


def check(body: Any, schema: dict[str, Any]) -> None:
    """Raises: BodyError naming the first field that does not fit `schema`, and how."""
    error = best_match(_validator(schema).iter_errors(body))
    if error is not None:
        raise BodyError(f"{_field(error)}: {_reason(error)}.")


_VALIDATORS: dict[int, Draft202012Validator] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Built once per schema (the schemas are module constants, so their ids are stable)."""
    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = Draft202012Validator(schema)
    return _VALIDATORS[id(schema)]


def _field(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "a field"
        return f"{path}.{missing}" if path else missing
    return path or "the body"


def _reason(error: ValidationError) -> str:
    match error.validator:
        case "type":
            wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
            return "must be " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)
        case "maxLength":
            return f"is longer than {error.validator_value:,} characters"
        case "maxItems" | "maxProperties":
            return f"has more than {error.validator_value:,} items"
        case "minItems":
            return "needs at least one item"
        case "enum" if isinstance(error.validator_value, list):
            return "must be one of " + ", ".join(str(v) for v in error.validator_value)
        case "required":
            return "is required"
        case "minimum" | "maximum":
            return "is out of range"
        case _:
            return "is not valid"
