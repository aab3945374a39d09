"""The parts of Jira's answers we use, parsed into small typed models (unknown fields are ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JiraModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class JiraUser(JiraModel):
    account_id: str = Field(alias="accountId")
    display_name: str = Field(default="", alias="displayName")
    account_type: str = Field(default="", alias="accountType")


class JiraProject(JiraModel):
    id: str
    key: str
    name: str = ""


class LinkType(JiraModel):
    id: str
    name: str
    inward: str = ""
    outward: str = ""


class CreatedIssue(JiraModel):
    id: str
    key: str


class BulkElementError(JiraModel):
    """One refused element of a bulk create; `index` is its position in the request (`failedElementNumber`)."""

    index: int
    status: int = 400
    messages: list[str] = Field(default_factory=list)
    field_errors: dict[str, str] = Field(default_factory=dict)


class BulkCreateResult(JiraModel):
    """Created issues in request order (refused elements skipped) and the refused elements."""

    issues: list[CreatedIssue]
    errors: list[BulkElementError]

    def created_by_index(self, count: int) -> dict[int, CreatedIssue]:
        """Request position -> created issue: Jira lists created issues in request order, failures left out."""
        failed = {error.index for error in self.errors}
        succeeded = [index for index in range(count) if index not in failed]
        return dict(zip(succeeded, self.issues, strict=False))


class IssueLinkRef(JiraModel):
    """A link as seen from one issue: the partner and which side of the link type it is on."""

    id: str
    type_name: str
    inward_issue_key: str | None = None
    outward_issue_key: str | None = None


class AttachmentRef(JiraModel):
    id: str
    filename: str
    size: int = 0
    author: JiraUser | None = None  # who attached it: the app replaces or removes only its own files


class JiraIssue(JiraModel):
    id: str
    key: str
    links: list[IssueLinkRef] = Field(default_factory=list)
    attachments: list[AttachmentRef] = Field(default_factory=list)


class FoundIssue(JiraModel):
    """A search hit with the issue properties (and fields) we asked for."""

    id: str
    key: str
    properties: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)


class CreateMetaIssueType(JiraModel):
    """An issue type a project offers for creating; `hierarchy_level` 1 is an epic, 0 standard, -1 a subtask."""

    id: str
    name: str
    hierarchy_level: int = Field(default=0, alias="hierarchyLevel")
    subtask: bool = False


class FieldSchema(JiraModel):
    type: str
    items: str | None = None
    system: str | None = None
    custom: str | None = None


class CreateMetaField(JiraModel):
    """A field of a create screen: whether it must be given, whether Jira fills it itself, what it accepts."""

    field_id: str = Field(alias="fieldId")
    name: str
    required: bool
    has_default_value: bool = Field(default=False, alias="hasDefaultValue")
    schema_: FieldSchema = Field(alias="schema")
    allowed_values: list[dict[str, Any]] = Field(default_factory=list, alias="allowedValues")

    def allowed_names(self) -> list[str]:
        """What a person picks from: each allowed value's `value` or `name`."""
        return [str(v.get("value") or v.get("name")) for v in self.allowed_values if v.get("value") or v.get("name")]
