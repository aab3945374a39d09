"""Validating an issue-create payload as Jira does, field by field, with Jira's messages.

@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.adf.schema import validator_for
from app.adf.size import MAX_DESCRIPTION, description_size
from app.sandbox.models import ADMIN_USER, Project
from app.sandbox.store import SandboxStore

SUMMARY_MAX = 255
# Jira's limit for a rich-text field, counted by the same rule as the product's (app/adf/size.py).
DESCRIPTION_MAX = MAX_DESCRIPTION
LABEL_MAX = 255
PROPERTY_KEY_MAX = 255
PROPERTY_VALUE_MAX_BYTES = 32_768
SETTABLE_FIELDS = {"project", "issuetype", "summary", "description", "labels", "assignee"}


class CreateRejected(Exception):
    """The payload failed; `errors` are field errors, `messages` general ones (an ErrorCollection)."""

    def __init__(self, errors: dict[str, str], messages: list[str] | None = None) -> None:
        super().__init__(json.dumps({"errors": errors, "errorMessages": messages or []}))
        self.errors = errors
        self.messages = messages or []


def validate_create(payload: Any, store: SandboxStore, adf_schema: Path) -> tuple[Project, dict[str, Any]]:
    """The project and `Issue` keyword arguments for a valid create payload.

    Raises:
        CreateRejected: with every field error found, as Jira reports them together.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise CreateRejected({}, ["Issue create request must contain a 'fields' object."])
    fields = payload["fields"]
    errors: dict[str, str] = {}
    for name in sorted(set(fields) - SETTABLE_FIELDS):
        errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."

    reference = fields.get("project") or {}
    project = (
        store.project(str(reference.get("id") or reference.get("key") or "")) if isinstance(reference, dict) else None
    )
    if project is None:
        errors["project"] = "Specify a valid project ID or key"

    reference = fields.get("issuetype") or {}
    issue_type = (
        store.issue_type(str(reference.get("id") or reference.get("name") or ""))
        if isinstance(reference, dict)
        else None
    )
    if issue_type is None:
        errors["issuetype"] = "Specify a valid issue type" if reference else "Specify an issue type"

    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = "Summary must be less than 255 characters."
    elif "\n" in summary or "\r" in summary:
        errors["summary"] = "The summary is invalid because it contains newline characters."

    description = fields.get("description")
    if description is not None:
        if not isinstance(description, dict) or not validator_for(adf_schema).is_valid(description):
            errors["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        elif description_size(description) > DESCRIPTION_MAX:
            errors["description"] = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."

    labels = fields.get("labels", [])
    label_error = _label_error(labels)
    if label_error:
        errors["labels"] = label_error

    assignee = fields.get("assignee")
    assignee_id = assignee.get("accountId") if isinstance(assignee, dict) else None
    if assignee is not None and (not isinstance(assignee_id, str) or assignee_id not in store.account_ids()):
        errors["assignee"] = f"User '{assignee_id}' cannot be assigned issues."

    messages = _property_errors(payload.get("properties", []))
    if errors or messages:
        raise CreateRejected(errors, messages)
    assert project is not None and issue_type is not None  # or `errors` would name them
    draft = {
        "issuetype_id": issue_type.id,
        "summary": summary,
        "description": description,
        "labels": list(labels),
        "reporter_account_id": ADMIN_USER.account_id,
        "assignee_account_id": assignee_id,
        "properties": {p["key"]: p["value"] for p in payload.get("properties", [])},
    }
    return project, draft


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
