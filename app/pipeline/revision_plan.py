"""What a revised spec changes in Jira, ticket by ticket, decided before anything is written (pure; no I/O).

Tickets are matched by their stable keys (the `ticketKey` of the `dtg-ticket` property on every issue we made,
whichever session of the spec's lineage made it):
- new: in the revision, not in Jira yet -> create it;
- changed: in both, and what we would send now differs from what we last sent (the property's `sentHash`, and
  `attachmentsHash` for the files: a table kept as an attachment) -> update it, with a readable diff of the title,
  the description (tables and success criteria, as Markdown) and the attached files;
- unchanged: in both, and what we would send is what we sent -> nothing (so applying a plan twice changes nothing);
- gone: in Jira, but no longer a ticket of the revision (deleted from the spec, or marked `d` there, which makes it
  removal work instead) -> a comment on the issue and the `FLAG_LABEL` label, never a deletion; once the label is
  on the issue it is `flagged` already and nothing more is done;
- conflict: changed, but someone edited the issue in Jira since we sent it (its summary and description no longer
  hash to the `sentHash`) -> never overwritten silently: the director keeps Jira's (the default), takes the
  spec's (`overwrite`), or adds the spec's change as a comment.
A field that left one ticket's data for another's (moved to another bundle) is listed in `moves`.

Others call::

    plan_revision(previous, revised, in_jira) -> RevisionPlan
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.adf.markdown import to_markdown
from app.pipeline.issue_requests import EPIC_KEY_PREFIX, attachment_bytes, attachments_hash, content_hash

NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
GONE = "gone"
CONFLICT = "conflict"
# The label a gone ticket's issue gets (with a comment); never a deletion.
FLAG_LABEL = "dtg-removed-from-spec"
# What the director may choose for a conflict.
KEEP_JIRA, OVERWRITE, COMMENT = "keep", "overwrite", "comment"
CHOICES = (KEEP_JIRA, OVERWRITE, COMMENT)
# A diff this long is cut: the page shows the start and says how much more there is.
MAX_DIFF_LINES = 200


class PlanTicket(Protocol):
    """A ticket as the plan compares it (`TicketRecord` has these)."""

    key: str
    title: str
    description: dict[str, Any]
    jira_key: str | None
    draft: dict[str, Any]
    action: str
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class JiraState:
    """An issue as Jira holds it now: its key and id, the hash we stored when we last sent it, the hash of what it
    shows, its summary and labels, and the hash of the files we last attached (None on issues made before)."""

    issue_key: str
    sent_hash: str | None
    current_hash: str
    issue_id: str = ""
    summary: str = ""
    labels: tuple[str, ...] = ()
    sent_attachments: str | None = None

    @property
    def edited_in_jira(self) -> bool:
        return self.sent_hash is not None and self.sent_hash != self.current_hash


@dataclass(frozen=True)
class PlannedChange:
    ticket_key: str
    kind: str
    title: str
    issue_key: str | None = None
    diff: list[str] = field(default_factory=list)
    # gone: the issue has the flag label already, so nothing is left to do.
    flagged: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticketKey": self.ticket_key,
            "kind": self.kind,
            "title": self.title,
            "issueKey": self.issue_key,
            "diff": self.diff,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class Move:
    """A machine name (a field) that left the data of one ticket for another's."""

    name: str
    from_key: str
    to_key: str


@dataclass(frozen=True)
class RevisionPlan:
    changes: list[PlannedChange]
    moves: list[Move] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(change.kind for change in self.changes)

    def of_kind(self, kind: str) -> list[PlannedChange]:
        return [change for change in self.changes if change.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts()),
            "changes": [change.to_dict() for change in self.changes],
            "moves": [{"name": m.name, "from": m.from_key, "to": m.to_key} for m in self.moves],
        }


def plan_revision(
    previous: Sequence[PlanTicket],
    revised: Sequence[PlanTicket],
    in_jira: Mapping[str, JiraState],
    *,
    left_out: frozenset[str] = frozenset(),
) -> RevisionPlan:
    """`previous`: the tickets of the session revised (for the diffs and the moves); `revised`: the new session's
    tickets to export; `in_jira`: per ticket key, its issue as Jira holds it now (tickets whose issue Jira does not
    show are new); `left_out`: tickets the director left out of this export, whose issues are left alone (they are
    still in the spec, so never flagged as gone)."""
    before = {t.key: t for t in previous}
    changes: list[PlannedChange] = []
    for ticket in revised:
        old = before.get(ticket.key)
        state = in_jira.get(ticket.key)
        if state is None:
            changes.append(PlannedChange(ticket.key, NEW, ticket.title))
            continue
        baseline = state.sent_hash
        if baseline is None:  # made before issues carried sentHash: what the revised session had is the baseline
            baseline = content_hash(old.title, old.description or None) if old else state.current_hash
        files = attachments_hash(ticket.attachments)
        files_baseline = state.sent_attachments  # likewise for issues made before they carried attachmentsHash
        if files_baseline is None:
            files_baseline = attachments_hash(old.attachments) if old else files
        if content_hash(ticket.title, ticket.description or None) == baseline and files == files_baseline:
            changes.append(PlannedChange(ticket.key, UNCHANGED, ticket.title, state.issue_key))
            continue
        kind = CONFLICT if state.edited_in_jira else CHANGED
        changes.append(PlannedChange(ticket.key, kind, ticket.title, state.issue_key, readable_diff(old, ticket)))
    kept = {t.key for t in revised}
    for key, state in in_jira.items():
        if key in kept or key in left_out or key.startswith(EPIC_KEY_PREFIX):
            continue
        title = before[key].title if key in before else state.summary
        changes.append(PlannedChange(key, GONE, title, state.issue_key, flagged=FLAG_LABEL in state.labels))
    return RevisionPlan(changes, moves(previous, revised))


def moves(previous: Sequence[PlanTicket], revised: Sequence[PlanTicket]) -> list[Move]:
    """Machine names that left one ticket and joined another, each once (a field moved to another bundle).

    Removal work is not a destination: what a bundle marked `d` had is not moved, it goes with the bundle."""

    def names(tickets: Sequence[PlanTicket]) -> dict[str, set[str]]:
        return {t.key: set(t.draft.get("machine_names") or ()) for t in tickets if t.action != "remove"}

    before, after = names(previous), names(revised)
    left = {(name, key) for key, found in before.items() for name in found - after.get(key, set())}
    joined = {(name, key) for key, found in after.items() for name in found - before.get(key, set())}
    found: list[Move] = []
    for name, to_key in sorted(joined):
        origins = sorted(from_key for other, from_key in left if other == name)
        if origins:
            found.append(Move(name, origins[0], to_key))
    return found


def readable_diff(old: PlanTicket | None, new: PlanTicket) -> list[str]:
    """A unified diff of the title and the description as Markdown (tables as rows, criteria as checklist items),
    then one line per attached file, with a short hash of its content (a revised table shows as its file's line).

    A table row reads the same whether the table is a table or, in a description near Jira's limit, a text summary
    in a code block: a field added to a large table then shows as that one row, not as the whole table twice."""
    before = [f"# {old.title}", *_rows(to_markdown(old.description)), *_files(old)] if old else []
    after = [f"# {new.title}", *_rows(to_markdown(new.description)), *_files(new)]
    lines = list(difflib.unified_diff(before, after, "in Jira", "in the revised spec", lineterm="", n=1))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return lines


def _rows(markdown: str) -> list[str]:
    """The Markdown's lines, a table row (a Markdown one or a text summary's) as "| cell | cell |", without the
    tables' header rules ("| --- |", "----+----") and bare code fences."""
    lines = []
    for line in markdown.splitlines():
        bare = line.strip()
        if bare == "```" or (bare and set(bare) <= set("|:+- ") and "-" in bare and ("|" in bare or "+" in bare)):
            continue
        if " | " in line or bare.startswith("|"):
            line = "| " + " | ".join(cell.strip() for cell in bare.strip("|").split("|")) + " |"
        lines.append(line)
    return lines


def _files(ticket: PlanTicket) -> list[str]:
    return [
        f"Attached: {a['filename']} (content {hashlib.sha256(attachment_bytes(a)).hexdigest()[:8]})"
        for a in sorted(ticket.attachments, key=lambda a: str(a["filename"]))
    ]
