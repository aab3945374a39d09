"""The ticket types: a draft (everything but the prose) and a finished ticket (draft + prose, as ADF)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from app.generation.citations import RowRef
from app.generation.tables import Table

TicketAction = Literal["build", "change", "remove", "hold"]


@dataclass(frozen=True)
class Attachment:
    """A file that goes with the issue; its content is kept in the ticket record until export."""

    filename: str
    media_type: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class TicketDraft:
    """One deliverable unit before the language model writes its story and criteria.

    `tables` are the configuration tables; `notes` the spec's notes on the ticket's subject; `remarks` sentences we
    add (e.g. which other ticket builds a shared image style); `held` the rows on hold inside a ticket that is not
    on hold itself; `criteria` the success criteria derived from the rows (the writer adds those the notes imply);
    `persona` who the user story is for, chosen from the data; `behat` the Drupal Spec Tool check of what it builds
    (a .feature text, "" when the Spec Tool has no step for it). `kind`, `subject`, `facts` and `machine_names` are
    what the writer's brief is made of. `source` is the rows it delivers by position (for the keyed download),
    `rows` the same rows by identity (what the description cites: positions move when a row is added above).
    """

    key: str
    title: str
    area: str
    action: TicketAction
    labels: tuple[str, ...]
    kind: str
    subject: str
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    persona: str = ""
    behat: str = ""
    on_hold: bool = False
    facts: tuple[str, ...] = ()
    machine_names: tuple[str, ...] = ()
    source: tuple[tuple[str, int], ...] = ()
    rows: tuple[RowRef, ...] = ()
    findings: tuple[dict[str, Any], ...] = ()
    blocked_by: tuple[str, ...] = ()
    relates_to: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # the titles of `blocked_by`, for the writer

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["tables"] = [t.to_dict() for t in self.tables]
        data["source"] = [{"file": file, "record": record} for file, record in self.source]
        data["rows"] = [asdict(row) for row in self.rows]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketDraft:
        """The inverse of `to_dict`, for workers that store drafts and fill in the prose later."""
        values = dict(data)
        values["tables"] = tuple(Table.from_dict(t) for t in data.get("tables", ()))
        values["source"] = tuple((s["file"], s["record"]) for s in data.get("source", ()))
        values["rows"] = tuple(RowRef(**row) for row in data.get("rows", ()))
        values["findings"] = tuple(data.get("findings", ()))
        for name in (
            "labels",
            "notes",
            "remarks",
            "held",
            "criteria",
            "facts",
            "machine_names",
            "blocked_by",
            "relates_to",
            "blockers",
        ):
            values[name] = tuple(data.get(name, ()))
        return cls(**values)


@dataclass(frozen=True)
class Ticket:
    """A finished ticket, ready for review and export. `description` is an ADF document."""

    key: str
    title: str
    area: str
    action: TicketAction
    labels: tuple[str, ...]
    description: dict[str, Any]
    blocked_by: tuple[str, ...] = ()
    relates_to: tuple[str, ...] = ()
    source: tuple[tuple[str, int], ...] = ()
    findings: tuple[dict[str, Any], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    on_hold: bool = False
    prose_flag: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "area": self.area,
            "action": self.action,
            "labels": list(self.labels),
            "description": self.description,
            "blocked_by": list(self.blocked_by),
            "relates_to": list(self.relates_to),
            "source": [{"file": file, "record": record} for file, record in self.source],
            "findings": list(self.findings),
            "attachments": [a.to_dict() for a in self.attachments],
            "on_hold": self.on_hold,
            "prose_flag": self.prose_flag,
            "usage": self.usage,
        }
