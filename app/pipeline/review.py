"""Review: the director's edits to drafted tickets, each guarded by the ticket's version (compare-and-set).

Descriptions are edited as Markdown and stored as ADF only if the result validates against the ADF schema and fits
Jira's size limit. "Blocked by" links are kept acyclic, so the export always finds an order: a link that would
close a cycle is refused with the cycle named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from app.adf.markdown import to_adf
from app.db.models import TicketRecord
from app.db.tickets import StaleTicketError, TicketRepository
from app.domain.jira_limits import LABEL_MAX, SUMMARY_MAX, label_problem
from app.errors import AppError, ConflictError
from app.generation import MAX_DESCRIPTION, adf
from app.pipeline.activity import record_step
from app.pipeline.ports import Actor, AuditPorts, ReviewPorts, Scope

# Jira's limit on a description, counted on the serialised ADF.
MAX_TITLE = SUMMARY_MAX
MAX_LABEL = LABEL_MAX
# How often a bulk change re-reads a ticket that another tab saved in between before giving up.
_BULK_ATTEMPTS = 3


class InvalidEditError(AppError):
    """An edit Jira would refuse (empty title, label with a space, description that is not valid ADF)."""


class LinkCycleError(ConflictError):
    """The link would make tickets block each other in a circle; `cycle` lists them in order."""

    def __init__(self, cycle: list[str]) -> None:
        chain = " → ".join(cycle)
        super().__init__(
            f"That link would close a cycle: {chain} (each is blocked by the next). "
            "Remove one of these links first, or link the tickets as related instead."
        )
        self.cycle = cycle
        self.details = {"cycle": cycle}


class EditConflictError(StaleTicketError):
    """Someone saved the ticket after the editor read it: `current` is their version, `changed_by` their account
    (None when the trail does not say), so the page can show the other change and offer to reload or overwrite."""

    def __init__(self, message: str, current: TicketRecord, changed_by: str | None) -> None:
        super().__init__(message)
        self.current = current
        self.changed_by = changed_by


@dataclass(frozen=True)
class TicketEdit:
    """The fields one save changes; None leaves a field as it is. `assignee` is (account id, name) or ("", "")."""

    title: str | None = None
    markdown: str | None = None
    labels: list[str] | None = None
    assignee: tuple[str, str] | None = None
    on_hold: bool | None = None
    excluded: bool | None = None


def clean_title(title: str) -> str:
    value = " ".join(title.split())
    if not value:
        raise InvalidEditError("A ticket needs a title; Jira refuses an issue without a summary.")
    if len(value) > MAX_TITLE:
        raise InvalidEditError(f"The title has {len(value)} characters; Jira allows at most {MAX_TITLE}.")
    return value


def clean_labels(labels: Iterable[str]) -> list[str]:
    """Labels without duplicates, in the given order. Raises: InvalidEditError for a label Jira refuses."""
    cleaned: list[str] = []
    for label in labels:
        value = label.strip()
        if not value:
            continue
        if (problem := label_problem(value)) is not None:
            raise InvalidEditError(problem)
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def description_problems(document: dict[str, Any]) -> list[str]:
    """Why Jira would refuse this description: schema violations and the size limit (empty when it is fine)."""
    problems = adf.validate(document)
    if adf.size(document) > MAX_DESCRIPTION:
        problems.append(
            f"it is {adf.size(document):,} characters long as Jira counts it; the limit is {MAX_DESCRIPTION:,}"
        )
    return problems


def description_from_markdown(markdown: str) -> dict[str, Any]:
    """Raises: InvalidEditError naming what Jira would refuse in the converted description."""
    document = to_adf(markdown)
    problems = description_problems(document)
    if problems:
        raise InvalidEditError(
            f"The description cannot be saved for Jira: {problems[0]}. "
            "Check the Markdown near that place (lists inside tables and headings inside lists are not possible)."
        )
    return document


def edit_ticket(
    ports: ReviewPorts, scope: Scope, actor: Actor, *, key: str, expected_version: int, edit: TicketEdit
) -> TicketRecord:
    """Apply one save from the editor; audited as "edited" with the fields it changed (the editor sends them all).

    Raises:
        InvalidEditError: a value Jira would refuse; nothing is stored.
        NotFoundError: no such ticket in this session.
        EditConflictError: someone saved the ticket since `expected_version`.
    """
    before = ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=key)
    try:
        ticket = _edit(ports.tickets, scope, key=key, expected_version=expected_version, edit=edit)
    except StaleTicketError as exc:
        latest = ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=key)
        raise EditConflictError(exc.message, latest, last_changed_by(ports, scope, key)) from exc
    sent = [name for name, value in vars(edit).items() if value is not None]
    changed = [name for name in sent if _stored(before, name) != _stored(ticket, name)]
    record_step(ports, scope, actor, "edited", ticket=key, fields=changed, version=ticket.version)
    return ticket


def last_changed_by(ports: AuditPorts, scope: Scope, key: str) -> str | None:
    """The account of the newest audited change of ticket `key` (one edit, or a bulk change that included it)."""
    events = ports.audit.list_for_session(tenant_id=scope.tenant_id, session_id=scope.session_id, limit=100)
    return next(
        (e.account_id for e in events if e.detail.get("ticket") == key or key in e.detail.get("tickets", [])), None
    )


def _stored(ticket: TicketRecord, field: str) -> Any:
    """What a `TicketEdit` field sets, as the ticket holds it."""
    columns = {"markdown": "description", "assignee": "assignee_account_id"}
    return getattr(ticket, columns.get(field, field))


def _edit(
    tickets: TicketRepository, scope: Scope, *, key: str, expected_version: int, edit: TicketEdit
) -> TicketRecord:
    changes: dict[str, Any] = {}
    if edit.title is not None:
        changes["title"] = clean_title(edit.title)
    if edit.markdown is not None:
        changes["description"] = description_from_markdown(edit.markdown)
    if edit.labels is not None:
        changes["labels"] = clean_labels(edit.labels)
    if edit.assignee is not None:
        account_id, name = edit.assignee
        changes["assignee_account_id"], changes["assignee_name"] = (account_id[:128] or None, name[:255] or None)
    if edit.on_hold is not None:
        changes["on_hold"] = edit.on_hold
    if edit.excluded is not None:
        changes["excluded"] = edit.excluded
    if not changes:
        return tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=key)
    return tickets.update(
        tenant_id=scope.tenant_id,
        session_id=scope.session_id,
        key=key,
        expected_version=expected_version,
        changes=changes,
    )


def _blocking_graph(records: Iterable[TicketRecord]) -> nx.DiGraph[str]:
    """Ticket -> the tickets it is blocked by."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for record in records:
        graph.add_node(record.key)
        graph.add_edges_from((record.key, blocker) for blocker in record.blocked_by)
    return graph


def _change(
    tickets: TicketRepository, scope: Scope, key: str, compute: Callable[[TicketRecord], dict[str, Any]]
) -> TicketRecord:
    """Apply `compute(current)` to the ticket's latest version; re-read and retry when another save came between."""
    for attempt in range(_BULK_ATTEMPTS):
        current = tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=key)
        changes = compute(current)
        if not changes:
            return current
        try:
            return tickets.update(
                tenant_id=scope.tenant_id,
                session_id=scope.session_id,
                key=key,
                expected_version=current.version,
                changes=changes,
            )
        except StaleTicketError:
            if attempt == _BULK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def add_link(ports: ReviewPorts, scope: Scope, actor: Actor, *, key: str, blocked_by: str) -> TicketRecord:
    """Record that `key` is blocked by `blocked_by`; audited as "linked".

    Raises:
        InvalidEditError: a ticket cannot block itself.
        NotFoundError: either ticket is not in this session.
        LinkCycleError: `blocked_by` already waits, directly or not, for `key`.
    """
    if key == blocked_by:
        raise InvalidEditError("A ticket cannot be blocked by itself.")
    tickets = ports.tickets
    tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key=blocked_by)
    graph = _blocking_graph(tickets.list(tenant_id=scope.tenant_id, session_id=scope.session_id))
    _refuse_cycle(graph, key, blocked_by)
    record = _change(
        tickets,
        scope,
        key,
        lambda current: {} if blocked_by in current.blocked_by else {"blocked_by": [*current.blocked_by, blocked_by]},
    )
    # Two people linking A to B and B to A at the same moment both pass the check above: look again after the
    # write, and take this link back if it closed a cycle (at worst both are refused, never both kept).
    try:
        _refuse_cycle(
            _blocking_graph(tickets.list(tenant_id=scope.tenant_id, session_id=scope.session_id)), key, blocked_by
        )
    except LinkCycleError:
        _unlink(tickets, scope, key=key, blocked_by=blocked_by)
        raise
    record_step(ports, scope, actor, "linked", ticket=key, blocked_by=blocked_by)
    return record


def _refuse_cycle(graph: nx.DiGraph[str], key: str, blocked_by: str) -> None:
    """Raises: LinkCycleError when `blocked_by` already waits, directly or not, for `key`."""
    if graph.has_node(blocked_by) and graph.has_node(key) and nx.has_path(graph, blocked_by, key):
        raise LinkCycleError([key, *nx.shortest_path(graph, blocked_by, key)])


def remove_link(ports: ReviewPorts, scope: Scope, actor: Actor, *, key: str, blocked_by: str) -> TicketRecord:
    """Take the link back; audited as "unlinked". Raises: NotFoundError when the ticket is not in this session."""
    record = _unlink(ports.tickets, scope, key=key, blocked_by=blocked_by)
    record_step(ports, scope, actor, "unlinked", ticket=key, blocked_by=blocked_by)
    return record


def _unlink(tickets: TicketRepository, scope: Scope, *, key: str, blocked_by: str) -> TicketRecord:
    return _change(
        tickets,
        scope,
        key,
        lambda current: (
            {"blocked_by": [k for k in current.blocked_by if k != blocked_by]}
            if blocked_by in current.blocked_by
            else {}
        ),
    )


def set_reviewed(ports: ReviewPorts, scope: Scope, actor: Actor, *, key: str, reviewed: bool) -> TicketRecord:
    """Mark a ticket reviewed (by `actor`) or not; audited as "reviewed" or "unreviewed".

    Raises: NotFoundError when it is not in this session.
    """
    reviewer = (actor.account_id or "")[:128] or None
    changes = {"reviewed": reviewed, "reviewed_by": reviewer if reviewed else None}
    record = _change(
        ports.tickets,
        scope,
        key,
        lambda current: {} if (current.reviewed, current.reviewed_by) == tuple(changes.values()) else changes,
    )
    record_step(ports, scope, actor, "reviewed" if reviewed else "unreviewed", ticket=key)
    return record


def bulk_label(
    ports: ReviewPorts,
    scope: Scope,
    actor: Actor,
    *,
    keys: list[str],
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> list[TicketRecord]:
    """Add and remove labels on many tickets; audited as one bulk "edited".

    Raises: InvalidEditError for a label Jira refuses.
    """
    add, remove = list(add), list(remove)
    added, removed = clean_labels(add), set(clean_labels(remove))

    def compute(current: TicketRecord) -> dict[str, Any]:
        labels = [label for label in clean_labels([*current.labels, *added]) if label not in removed]
        return {"labels": labels} if labels != list(current.labels) else {}

    changed = [_change(ports.tickets, scope, key, compute) for key in keys]
    record_step(ports, scope, actor, "edited", bulk="label", tickets=keys, add=add, remove=remove)
    return changed


def bulk_assign(
    ports: ReviewPorts, scope: Scope, actor: Actor, *, keys: list[str], account_id: str, name: str
) -> list[TicketRecord]:
    """Assign many tickets to one person (an empty account id unassigns them); audited as one bulk "edited"."""
    changes = {
        "assignee_account_id": account_id[:128] or None,
        "assignee_name": (name[:255] or None) if account_id else None,
    }
    changed = [_change(ports.tickets, scope, key, lambda current: changes) for key in keys]
    record_step(ports, scope, actor, "edited", bulk="assign", tickets=keys, assignee=account_id or None)
    return changed


def set_excluded(
    ports: ReviewPorts, scope: Scope, actor: Actor, *, keys: list[str], excluded: bool
) -> list[TicketRecord]:
    """Leave tickets out of the export, or put them back; audited as one bulk "edited" (exclude or include)."""
    changed = [
        _change(
            ports.tickets, scope, key, lambda current: {"excluded": excluded} if current.excluded != excluded else {}
        )
        for key in keys
    ]
    record_step(ports, scope, actor, "edited", bulk="exclude" if excluded else "include", tickets=keys)
    return changed
