"""Validating issue create and edit payloads as Jira does, field by field, with Jira's messages.

@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.adf.normal import as_jira_stores
from app.adf.schema import adf_is_valid
from app.adf.size import MAX_DESCRIPTION, description_size
from app.sandbox.models import ADMIN_USER, LINK_TYPES, CustomField, Issue, IssueType, Project
from app.sandbox.store import FieldChange, NewLink, SandboxStore

SUMMARY_MAX = 255
# Jira's limit for a rich-text field, counted by the same rule as the product's (app/adf/size.py).
DESCRIPTION_MAX = MAX_DESCRIPTION
LABEL_MAX = 255
PROPERTY_KEY_MAX = 255
PROPERTY_VALUE_MAX_BYTES = 32_768
# System fields a create may set; an edit may set these but the project and the issue type, plus custom fields.
SETTABLE_FIELDS = {"project", "issuetype", "summary", "description", "labels", "assignee", "parent"}
EDITABLE_FIELDS = SETTABLE_FIELDS - {"project", "issuetype"}
HISTORY_NAMES = {"parent": "IssueParentAssociation"}
WRONG_HIERARCHY = "Given parent work item does not belong to appropriate hierarchy."


class CreateRejected(Exception):
    """The payload failed; `errors` are field errors, `messages` general ones (an ErrorCollection)."""

    def __init__(self, errors: dict[str, str], messages: list[str] | None = None) -> None:
        super().__init__(json.dumps({"errors": errors, "errorMessages": messages or []}))
        self.errors = errors
        self.messages = messages or []


@dataclass
class _Fields:
    """Checks field values for one project and issue type, collecting Jira's field errors as it goes."""

    store: SandboxStore
    adf_schema: Path
    project: Project
    issue_type: IssueType
    editing: Issue | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def unknown(self, names: set[str], allowed: set[str]) -> None:
        custom = {f.id for f in self.project.custom_fields}
        for name in sorted(names - allowed - custom):
            self.errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."

    def value(self, name: str, value: Any) -> Any:
        """The value to store for field `name` (None when it is refused; the refusal is in `errors`)."""
        check = getattr(self, f"_{name}", None)
        if check is not None:
            return check(value)
        custom = self.project.custom_field(name)
        assert custom is not None  # `unknown` refused every other name
        return self._custom(custom, value)

    def _summary(self, summary: Any) -> Any:
        if not isinstance(summary, str) or not summary.strip():
            self.errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > SUMMARY_MAX:
            self.errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in summary or "\r" in summary:
            self.errors["summary"] = "The summary is invalid because it contains newline characters."
        return summary

    def _description(self, description: Any) -> Any:
        if description is None:
            return None
        if not isinstance(description, dict) or not adf_is_valid(self.adf_schema)(description):
            self.errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        elif description_size(description) > DESCRIPTION_MAX:
            self.errors["description"] = (
                "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
            )
        else:
            return as_jira_stores(description)
        return description

    def _labels(self, labels: Any) -> Any:
        error = _label_error(labels)
        if error:
            self.errors["labels"] = error
            return []
        return list(labels)

    def _assignee(self, assignee: Any) -> str | None:
        if assignee is None:
            return None
        account_id = assignee.get("accountId") if isinstance(assignee, dict) else None
        if not isinstance(account_id, str) or account_id not in self.store.account_ids():
            self.errors["assignee"] = f"User '{account_id}' cannot be assigned issues."
            return None
        return account_id

    def _parent(self, reference: Any) -> str | None:
        """A parent one level up the hierarchy, in the same project (epic over standard, standard over subtask)."""
        if reference is None or (isinstance(reference, dict) and reference.get("none") is True):
            if self.issue_type.subtask:
                self.errors["parent"] = "Could not find valid parent issue"
            return None
        wanted = str(reference.get("id") or reference.get("key") or "") if isinstance(reference, dict) else ""
        parent = self.store.issue(wanted) if wanted else None
        if parent is None or parent.project_id != self.project.id:
            self.errors["parent"] = "Could not find valid parent issue"
            return None
        if self.store.issue_type_of(parent).hierarchy_level != self.issue_type.hierarchy_level + 1 or (
            self.editing is not None and parent.id == self.editing.id
        ):
            self.errors["parent"] = WRONG_HIERARCHY
            return None
        return parent.id

    def _custom(self, custom: CustomField, value: Any) -> Any:
        if value is None:
            return None
        if custom.kind == "option":
            choice = value.get("value") if isinstance(value, dict) else None
            if choice not in custom.options:
                self.errors[custom.id] = f"Specify a valid 'id' or 'name' for {custom.name}"
                return None
            return {"value": choice}
        if not isinstance(value, str) or len(value) > SUMMARY_MAX:
            self.errors[custom.id] = f"{custom.name}: a single line of text of at most 255 characters is expected."
            return None
        return value

    def require_custom(self, values: dict[str, Any]) -> None:
        """Custom fields required on this issue type must have a value."""
        for custom in self.project.custom_fields:
            if self.issue_type.name in custom.required_on and values.get(custom.id) is None:
                self.errors.setdefault(custom.id, f"{custom.name} is required.")


def validate_create(payload: Any, store: SandboxStore, adf_schema: Path) -> tuple[Project, dict[str, Any]]:
    """The project and `Issue` keyword arguments for a valid create payload.

    Raises:
        CreateRejected: with every field error found, as Jira reports them together.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise CreateRejected({}, ["Issue create request must contain a 'fields' object."])
    fields = payload["fields"]
    errors: dict[str, str] = {}

    reference = fields.get("project") or {}
    project = (
        store.project(str(reference.get("id") or reference.get("key") or "")) if isinstance(reference, dict) else None
    )
    if project is None:
        errors["project"] = "Specify a valid project ID or key"

    reference = fields.get("issuetype") or {}
    issue_type = (
        project.issue_type(str(reference.get("id") or reference.get("name") or ""))
        if isinstance(reference, dict) and project is not None
        else None
    )
    if issue_type is None:
        errors["issuetype"] = "Specify a valid issue type" if reference else "Specify an issue type"

    messages = _property_errors(payload.get("properties", []))
    if project is None or issue_type is None:
        raise CreateRejected(errors, messages)
    check = _Fields(store, adf_schema, project, issue_type)
    check.unknown(set(fields), SETTABLE_FIELDS)
    links = _links_on_create(payload.get("update"), project, store, check.errors)
    values = {
        name: check.value(name, fields.get(name))
        for name in ("summary", "description", "assignee", "parent", *(f.id for f in project.custom_fields))
    }
    labels = check.value("labels", fields.get("labels", []))
    check.require_custom(values)
    if check.errors or messages:
        raise CreateRejected(check.errors, messages)
    draft = {
        "issuetype_id": issue_type.id,
        "summary": values["summary"],
        "description": values["description"],
        "labels": labels,
        "reporter_account_id": ADMIN_USER.account_id,
        "assignee_account_id": values["assignee"],
        "parent_id": values["parent"],
        "custom": {f.id: values[f.id] for f in project.custom_fields if values[f.id] is not None},
        "properties": {p["key"]: p["value"] for p in payload.get("properties", [])},
        "links": links,
    }
    return project, draft


def _links_on_create(update: Any, project: Project, store: SandboxStore, errors: dict[str, str]) -> list[NewLink]:
    """`update: {"issuelinks": [{"add": {"type": {...}, "inwardIssue"|"outwardIssue": {...}}}]}` on a create.

    The new issue is the link's other side: naming the `inwardIssue` makes the new issue the outward one. Jira
    takes it only when the create screen has the Linked issues field (create-meta lists `issuelinks`).
    """
    if update is None:
        return []
    if not isinstance(update, dict):
        errors["update"] = "'update' must be an object."
        return []
    for name in sorted(set(update) - {"issuelinks"}):
        errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    operations = update.get("issuelinks")
    if operations is None:
        return []
    if not project.links_on_create_screen:
        errors["issuelinks"] = "Field 'issuelinks' cannot be set. It is not on the appropriate screen, or unknown."
        return []
    links = []
    for operation in operations if isinstance(operations, list) else [None]:
        add = operation.get("add") if isinstance(operation, dict) else None
        sides = [side for side in ("inwardIssue", "outwardIssue") if isinstance(add, dict) and side in add]
        if not isinstance(add, dict) or len(sides) != 1 or not isinstance(add.get("type"), dict):
            errors["issuelinks"] = (
                "Each issue link must 'add' a 'type' and exactly one of 'inwardIssue', 'outwardIssue'."
            )
            return []
        wanted = add["type"]
        link_type = next((t for t in LINK_TYPES if wanted.get("id") == t.id or wanted.get("name") == t.name), None)
        reference = add[sides[0]]
        other = (
            store.issue(str(reference.get("id") or reference.get("key") or "")) if isinstance(reference, dict) else None
        )
        if link_type is None:
            errors["issuelinks"] = f"No issue link type with name '{wanted.get('name') or wanted.get('id')}' found."
        elif other is None:
            errors["issuelinks"] = "The issue to link to does not exist or you do not have permission to see it."
        else:
            links.append(NewLink(link_type.id, other.id, new_is_outward=sides[0] == "inwardIssue"))
    return links


def validate_edit(
    payload: Any, store: SandboxStore, adf_schema: Path, issue: Issue
) -> tuple[list[FieldChange], dict[str, Any]]:
    """The field changes and properties of a valid edit (`fields`, `update` operations, `properties`).

    Raises:
        CreateRejected: with every field error found.
    """
    if not isinstance(payload, dict) or not any(k in payload for k in ("fields", "update", "properties")):
        raise CreateRejected({}, ["Can not instantiate an edit from an empty request body."])
    fields = payload.get("fields") or {}
    updates = payload.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(updates, dict):
        raise CreateRejected({}, ["'fields' and 'update' must be objects."])
    project = store.project_of(issue)
    check = _Fields(store, adf_schema, project, store.issue_type_of(issue), editing=issue)
    check.unknown(set(fields) | set(updates), EDITABLE_FIELDS)
    for name in sorted(set(fields) & set(updates)):
        check.errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
    current = _current_values(issue, project)
    wanted = dict(fields)
    for name, operations in updates.items():
        wanted[name] = _apply_operations(name, operations, current.get(name), check.errors)
    messages = _property_errors(payload.get("properties", []))
    if check.errors or messages:
        raise CreateRejected(check.errors, messages)

    changes = []
    for name, value in wanted.items():
        after = check.value(name, value)
        custom = project.custom_field(name)
        changes.append(
            FieldChange(name, custom.name if custom else HISTORY_NAMES.get(name, name), current.get(name), after)
        )
    check.require_custom(current | {c.field_id: c.after for c in changes})
    if check.errors:
        raise CreateRejected(check.errors)
    return changes, {p["key"]: p["value"] for p in payload.get("properties", [])}


def _current_values(issue: Issue, project: Project) -> dict[str, Any]:
    values: dict[str, Any] = {
        "summary": issue.summary,
        "description": issue.description,
        "labels": list(issue.labels),
        "assignee": issue.assignee_account_id,
        "parent": issue.parent_id,
    }
    return values | {f.id: issue.custom.get(f.id) for f in project.custom_fields}


def _apply_operations(name: str, operations: Any, current: Any, errors: dict[str, str]) -> Any:
    """`update: {name: [{"set"|"add"|"remove": value}, ...]}`: `add`/`remove` for labels, `set` for any field.

    A `set` of `parent` names the parent (`{"key": ...}`) or removes it (`{"none": true}`); the result is what
    `fields` would have held.
    """
    if not isinstance(operations, list) or not all(isinstance(o, dict) and len(o) == 1 for o in operations):
        errors[name] = f"The operations on '{name}' must be a list of single-verb objects."
        return current
    value = current
    if name == "parent" and isinstance(current, str):
        value = {"id": current}
    for operation in operations:
        [(verb, argument)] = operation.items()
        if verb == "set":
            value = argument
        elif verb in ("add", "remove") and name == "labels" and isinstance(argument, str):
            labels = [label for label in value if label != argument]
            value = [*labels, argument] if verb == "add" else labels
        else:
            errors[name] = f"Operation '{verb}' is not supported on field '{name}'."
    return value


def _label_error(labels: Any) -> str | None:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return "The labels must be a list of strings."
    for label in labels:
        if not label or any(c.isspace() for c in label):
            return f"The label '{label}' contains spaces which is invalid."
        if len(label) > LABEL_MAX:
            return f"The label '{label}' exceeds the maximum length for a single label of 255 characters."
    return None


def _property_errors(properties: Any) -> list[str]:
    """Issue properties set in the create call (`properties: [{key, value}]`)."""
    if not isinstance(properties, list):
        return ["The properties must be a list of {key, value} objects."]
    messages = []
    for item in properties:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or "value" not in item:
            messages.append("Each property needs a string 'key' and a 'value'.")
        elif not item["key"] or len(item["key"]) > PROPERTY_KEY_MAX:
            messages.append("The property key must be between 1 and 255 characters long.")
        elif len(json.dumps(item["value"]).encode()) > PROPERTY_VALUE_MAX_BYTES:
            messages.append(f"The value of property '{item['key']}' is too long (maximum 32768 bytes).")
    return messages
