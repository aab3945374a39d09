"""ADF as Jira gives it back, and one normal form to compare documents by.

Jira does not store an ADF document exactly as it was sent: it gives tables their default attributes
(`isNumberColumnEnabled`, `layout`) and a `localId`, and may replace the `localId` of task lists and items. So a
document read back from an untouched issue differs from the one we sent; compared raw, every issue would look
edited in Jira. `normal_form` drops what Jira adds or renames (every `localId`, attributes at their default, empty
`attrs` and `marks`), and is applied to both sides before hashing. `as_jira_stores` is what the sandbox does.

Others call::

    normal_form(document) -> document      # for hashing and comparing
    as_jira_stores(document) -> document   # the sandbox, on every description it stores
"""

from __future__ import annotations

import uuid
from typing import Any

# Attribute values Jira fills in when a node is sent without them (the ADF schema's defaults).
DEFAULT_ATTRS: dict[str, dict[str, Any]] = {
    "table": {"isNumberColumnEnabled": False, "layout": "default"},
    "tableCell": {"colspan": 1, "rowspan": 1},
    "tableHeader": {"colspan": 1, "rowspan": 1},
}
# Nodes Jira gives a `localId` of its own.
LOCAL_ID_NODES = {"table", "taskList", "taskItem"}


def normal_form(node: Any) -> Any:
    """The document without what Jira adds or renames, so that sent and read-back documents compare equal."""
    if isinstance(node, list):
        return [normal_form(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    defaults = DEFAULT_ATTRS.get(str(node.get("type")), {})
    for name, value in node.items():
        if name == "attrs" and isinstance(value, dict):
            kept = {k: v for k, v in value.items() if k != "localId" and not (k in defaults and defaults[k] == v)}
            if kept:
                result[name] = normal_form(kept)
        elif name == "marks" and value == []:
            continue
        else:
            result[name] = normal_form(value)
    return result


def as_jira_stores(node: Any) -> Any:
    """The document as Jira Cloud returns it after storing it: default table attributes and fresh `localId`s."""
    if isinstance(node, list):
        return [as_jira_stores(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {name: as_jira_stores(value) for name, value in node.items()}
    kind = str(node.get("type"))
    if kind == "table":
        result["attrs"] = {**DEFAULT_ATTRS[kind], **(result.get("attrs") or {})}
    if kind in LOCAL_ID_NODES:
        result["attrs"] = {**(result.get("attrs") or {}), "localId": str(uuid.uuid4())}
    return result
