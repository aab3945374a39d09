"""What a revised spec changes in Jira, ticket by ticket, decided before anything is written (pure; no I/O).

Tickets are matched by their stable keys (the `ticketKey` of the `dtg-ticket` property on every issue we made):
- new: in the revision, not in Jira yet -> create it;
- changed: in both, and what we would send differs from what we sent -> update it, with a readable diff of the
  title and of the description (its tables and success criteria, as Markdown lines);
- unchanged: in both, the same -> nothing;
- gone: in Jira, but no longer a ticket of the revision (deleted from the spec, or marked `d` there, which makes
  it removal work instead) -> a comment on the issue and a label, never a deletion;
- conflict: changed, but someone edited the issue in Jira since we sent it (its summary and description no
  longer hash to the `sentHash` we stored) -> never overwritten silently: the director keeps Jira's, takes the
  spec's, or adds the spec's change as a comment.

Others call::

    plan_revision(previous, revised, in_jira) -> RevisionPlan
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.adf.markdown import to_markdown
from app.pipeline.issue_requests import content_hash

NEW = "new"
CHANGED = "changed"
UNCHANGED = "unchanged"
GONE = "gone"
CONFLICT = "conflict"
# A diff this long is cut: the page shows the start and says how much more there is.
MAX_DIFF_LINES = 200


class PlanTicket(Protocol):
    """A ticket as the plan compares it (`TicketRecord` has these)."""

    key: str
    title: str
    description: dict[str, Any]
    jira_key: str | None


@dataclass(frozen=True)
class JiraState:
    """An issue as Jira holds it now: its key, the hash we stored when we sent it, the hash of what it shows."""

    issue_key: str
    sent_hash: str | None
    current_hash: str

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


@dataclass(frozen=True)
class RevisionPlan:
    changes: list[PlannedChange]

    def counts(self) -> Counter[str]:
        return Counter(change.kind for change in self.changes)

    def of_kind(self, kind: str) -> list[PlannedChange]:
        return [change for change in self.changes if change.kind == kind]


def plan_revision(
    previous: Sequence[PlanTicket], revised: Sequence[PlanTicket], in_jira: Mapping[str, JiraState]
) -> RevisionPlan:
    """`previous`: the tickets of the exported session (with their issue keys); `revised`: the new session's;
    `in_jira`: per ticket key, its issue as Jira holds it now (tickets whose issue Jira no longer shows are new)."""
    before = {t.key: t for t in previous}
    changes: list[PlannedChange] = []
    for ticket in revised:
        old = before.get(ticket.key)
        state = in_jira.get(ticket.key)
        if old is None or state is None:
            changes.append(PlannedChange(ticket.key, NEW, ticket.title))
            continue
        if content_hash(ticket.title, ticket.description) == content_hash(old.title, old.description):
            changes.append(PlannedChange(ticket.key, UNCHANGED, ticket.title, state.issue_key))
            continue
        kind = CONFLICT if state.edited_in_jira else CHANGED
        changes.append(PlannedChange(ticket.key, kind, ticket.title, state.issue_key, readable_diff(old, ticket)))
    kept = {t.key for t in revised}
    changes += [
        PlannedChange(t.key, GONE, t.title, in_jira[t.key].issue_key)
        for t in previous
        if t.key not in kept and t.key in in_jira
    ]
    return RevisionPlan(changes)


def readable_diff(old: PlanTicket, new: PlanTicket) -> list[str]:
    """A unified diff of the title and the description as Markdown (tables as rows, criteria as checklist items)."""
    before = [f"# {old.title}", *to_markdown(old.description).splitlines()]
    after = [f"# {new.title}", *to_markdown(new.description).splitlines()]
    lines = list(difflib.unified_diff(before, after, "in Jira", "in the revised spec", lineterm="", n=1))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return lines
