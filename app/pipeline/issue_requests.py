"""The create requests we send to Jira, built in one place so the export sends exactly what the dry run shows.

A ticket becomes an issue of the type the admin chose (its id in this project, as create-meta gave it), with
the admin's default labels and field defaults, `parent` set to its area's epic when epics are on, and the
`dtg-ticket` issue property that lets any later run find it. An area becomes an epic the same way.

The property also holds `sentHash`, the hash of the summary and description we sent, so a revision can tell an
issue someone edited in Jira since (its hash differs) from one that still shows what we sent; and
`attachmentsHash`, the hash of the files the ticket attaches, so a revision that changes only a table kept as an
attachment plans that ticket as changed.

`parent` takes the epic's key in company- and team-managed projects alike in Jira Cloud's current API.
@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.adf import nodes
from app.adf.normal import normal_form
from app.generation.naming import slug
from app.pipeline.project_fit import ProjectFit

PROPERTY_KEY = "dtg-ticket"
REMOVALS = "Removals"
EPIC_KEY_PREFIX = "epic:"


class Ticket(Protocol):
    """The parts of a ticket a create request needs (`TicketRecord` has them)."""

    key: str
    session_id: int
    title: str
    area: str
    action: str
    labels: list[str]
    description: dict[str, Any]
    assignee_account_id: str | None
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class CreateTarget:
    """Where and how issues are created: the project, what the project check found, the admin's labels."""

    project_key: str
    fit: ProjectFit
    default_labels: list[str]
    fallback_type: str = "Task"

    def issue_type(self, *, epic: bool) -> dict[str, str]:
        chosen = self.fit.area_type if epic else self.fit.ticket_type
        return {"id": chosen.id} if chosen is not None else {"name": self.fallback_type}

    def base_fields(self, *, epic: bool) -> dict[str, Any]:
        issue_type = self.issue_type(epic=epic)
        extra = self.fit.fields_for(issue_type["id"]) if "id" in issue_type else {}
        return {"project": {"key": self.project_key}, "issuetype": issue_type, **extra}

    def labels(self, own: list[str]) -> list[str]:
        # Sorted, so a re-run sends the same payload.
        return sorted({*own, *self.default_labels})


def epic_area(ticket: Ticket) -> str:
    """The epic a ticket goes under: its area, except that removal work has an epic of its own."""
    return REMOVALS if ticket.action == "remove" else ticket.area


def epic_key(area: str) -> str:
    """The stable key an area's epic carries in its issue property (never the key of a ticket)."""
    return EPIC_KEY_PREFIX + slug(area)


def ticket_request(ticket: Ticket, target: CreateTarget, *, export_id: str, parent_key: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **target.base_fields(epic=False),
        "summary": ticket.title,
        "labels": target.labels(ticket.labels),
    }
    if ticket.assignee_account_id:
        fields["assignee"] = {"accountId": ticket.assignee_account_id}
    if ticket.description:
        fields["description"] = ticket.description
    if parent_key:
        fields["parent"] = {"key": parent_key}
    request = _with_property(fields, ticket.key, ticket.session_id, export_id)
    request["properties"][0]["value"]["attachmentsHash"] = attachments_hash(ticket.attachments)
    return request


def epic_request(area: str, target: CreateTarget, *, session_id: int, export_id: str) -> dict[str, Any]:
    text = f"The {area.lower()} work of this Drupal site build: every ticket of the area is a child of this epic."
    fields = {
        **target.base_fields(epic=True),
        "summary": area,
        "labels": target.labels([slug(area)]),
        "description": nodes.doc(nodes.paragraph(nodes.text(text))),
    }
    return _with_property(fields, epic_key(area), session_id, export_id)


def content_hash(summary: str, description: dict[str, Any] | None) -> str:
    """What we compare to tell whether an issue still shows what we sent: summary and description, canonical, the
    description in ADF's normal form (Jira adds attributes and ids to what it stores: `app.adf.normal`)."""
    document = normal_form(description) if description else None
    canonical = json.dumps({"summary": summary, "description": document}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def attachments_hash(attachments: Sequence[Mapping[str, Any]]) -> str:
    """What we compare to tell whether a ticket's files changed since we sent them: each file's name and content."""
    files = sorted((a["filename"], hashlib.sha256(attachment_bytes(a)).hexdigest()) for a in attachments)
    return hashlib.sha256(json.dumps(files, separators=(",", ":")).encode()).hexdigest()


def attachment_bytes(attachment: Mapping[str, Any]) -> bytes:
    content = attachment["content"]
    return content.encode() if isinstance(content, str) else bytes(content)


def _with_property(fields: dict[str, Any], key: str, session_id: int, export_id: str) -> dict[str, Any]:
    value = {
        "ticketKey": key,
        "sessionId": str(session_id),
        "exportId": export_id,
        "sentHash": content_hash(fields["summary"], fields.get("description")),
    }
    return {"fields": fields, "properties": [{"key": PROPERTY_KEY, "value": value}]}
