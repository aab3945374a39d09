"""A tiny JQL: the clauses our export searches with, joined by AND, plus ORDER BY.

Supported: `project = KEY`, `key IN (A-1, A-2)`, `labels = x`, `issuetype = Task`,
`issue.property[propKey].path = "value"` and `… IN ("a", "b")`, with `=`, `!=`, `IN`, `NOT IN`.
@see https://developer.atlassian.com/cloud/jira/platform/jira-entity-properties/#searching-for-properties-with-jql
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.sandbox.models import Issue

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|=|\(|\)|,)
      | (?P<word>issue\.property\[[^\]]+\](?:\.[\w.-]+)?|[\w.-]+)
    )""",
    re.VERBOSE,
)
_PROPERTY = re.compile(r"issue\.property\[(?P<key>[^\]]+)\](?:\.(?P<path>[\w.-]+))?$")
FIELDS = ("project", "key", "issuekey", "labels", "issuetype", "id", "parent")


class JqlError(ValueError):
    """The query cannot be run; the message is Jira's wording."""


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)


def _tokens(jql: str) -> list[str]:
    tokens, position = [], 0
    while position < len(jql.rstrip()):
        match = _TOKEN.match(jql, position)
        if match is None or match.end() == position:
            raise JqlError(
                f"Error in the JQL Query: The character '{jql[position:].strip()[:1]}' is a reserved "
                f"JQL character. (line 1, character {position + 1})"
            )
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


def _unquote(token: str) -> str:
    if token[:1] in ("'", '"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def parse(jql: str) -> Query:
    """Parse the supported subset.

    Raises:
        JqlError: a syntax error or an operator/keyword outside the subset (OR, ~, functions…).
    """
    tokens = _tokens(jql)
    clauses: list[Clause] = []
    order_by: list[tuple[str, bool]] = []
    position = 0

    def expect(what: str) -> str:
        nonlocal position
        if position >= len(tokens):
            raise JqlError(f"Error in the JQL Query: Expecting {what} but reached the end of the query.")
        position += 1
        return tokens[position - 1]

    while position < len(tokens):
        if tokens[position].upper() == "ORDER":
            break
        if clauses and expect("'AND'").upper() != "AND":
            raise JqlError(
                f"Error in the JQL Query: Expecting 'AND' but got '{tokens[position - 1]}'. "
                "(the sandbox supports AND only)"
            )
        field = expect("a field name")
        operator = expect("an operator").upper()
        if operator == "NOT":
            operator = "NOT " + expect("'IN'").upper()
        if operator in ("IN", "NOT IN"):
            if expect("'('") != "(":
                raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
            values = [_unquote(expect("a value"))]
            while (separator := expect("',' or ')'")) == ",":
                values.append(_unquote(expect("a value")))
            if separator != ")":
                raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{separator}'.")
        elif operator in ("=", "!="):
            values = [_unquote(expect("a value"))]
        else:
            raise JqlError(f"Error in the JQL Query: The operator '{operator}' is not supported by the sandbox.")
        clauses.append(Clause(field, operator, tuple(values)))
    if position < len(tokens):  # at ORDER
        position += 1
        if expect("'BY'").upper() != "BY":
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        while True:
            field = expect("a field name").lower()
            descending = False
            if position < len(tokens) and tokens[position].upper() in ("ASC", "DESC"):
                descending = expect("ASC or DESC").upper() == "DESC"
            order_by.append((field, descending))
            if position >= len(tokens):
                break
            if expect("','") != ",":
                raise JqlError("Error in the JQL Query: Expecting ',' between ORDER BY fields.")
    return Query(tuple(clauses), tuple(order_by))


def property_path(field: str) -> tuple[str, str] | None:
    """`issue.property[key].a.b` → ("key", "a.b"); None for other fields."""
    match = _PROPERTY.match(field)
    return (match.group("key"), match.group("path") or "") if match else None


def _property_values(issue: Issue, key: str, path: str) -> list[str]:
    value: Any = issue.properties.get(key)
    for part in filter(None, path.split(".")):
        value = value.get(part) if isinstance(value, dict) else None
    # Jira indexes each element of an array; values compare as strings.
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values if v is not None]


def matcher(clause: Clause, field_values: Callable[[Issue, str], list[str]]) -> Callable[[Issue], bool]:
    """A predicate for one clause; `field_values(issue, field)` gives an issue's values of a plain field."""
    prop = property_path(clause.field)
    wanted = set(clause.values)

    def values_of(issue: Issue) -> list[str]:
        return _property_values(issue, *prop) if prop else field_values(issue, clause.field.lower())

    if clause.operator in ("=", "IN"):
        return lambda issue: bool(wanted.intersection(values_of(issue)))
    return lambda issue: not wanted.intersection(values_of(issue))
