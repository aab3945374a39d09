"""Applying a revision: the export of a revised session updates, flags and relinks the issues of its lineage.

Runs inside the export (`run.py`), before and around its steps, on the same `ExportContext` and retry policy:
- `prepare`: one search for the lineage's issues; each revised ticket already in Jira gets its issue key written
  back (so the export's create step skips it), and the lineage's epics are reused; the plan is computed from what
  Jira holds now, so a resumed or repeated run plans only what is left (a PUT made moves its `sentHash`, a gone
  ticket's issue carries the flag label).
- `apply`: a PUT of summary, description and labels with the new `sentHash` in the same request (idempotent) for
  each changed ticket and each conflict the director chose to overwrite; a comment (with a marker, looked for
  before posting, so a retry finds it) plus the flag label for each gone one, never a deletion; a comment with
  the spec's change for a conflict the director chose to comment.
- `retired_attachments`: the files a revised ticket no longer has, for the attachment step to delete; `held`: the
  conflicts not overwritten, whose files the attachment step leaves alone too.
- `match_links` (after the creates): links the revision keeps are marked done; links of the revised session's plan
  that the revision no longer has are removed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from app.adf import nodes
from app.db.models import TicketRecord
from app.jira.errors import JiraNotFoundError
from app.jira.models import LinkType
from app.pipeline.export.context import ExportContext
from app.pipeline.export.plan import BLOCKS, PlannedLink, plan_export
from app.pipeline.issue_requests import PROPERTY_KEY, attachments_hash, content_hash
from app.pipeline.revision_plan import (
    CHANGED,
    COMMENT,
    CONFLICT,
    FLAG_LABEL,
    GONE,
    KEEP_JIRA,
    NEW,
    OVERWRITE,
    UNCHANGED,
    PlannedChange,
    RevisionPlan,
)
from app.pipeline.revisions import SEARCH_FIELDS as FIELDS
from app.pipeline.revisions import JiraView, jira_view, lineage_ids, plan_from, previous_tickets

MARKER = "dtg-revision"


class RevisionStep:
    def __init__(self, context: ExportContext, revision: dict[str, Any]) -> None:
        self._context = context
        self._revision = revision
        self.view = JiraView({})
        self.plan = RevisionPlan([])
        self.previous: list[TicketRecord] = []

    async def prepare(self) -> RevisionPlan:
        context = self._context
        upload = await context.db(
            context.services.sessions.get, context.scope["session_id"], tenant_id=context.scope["tenant_id"]
        )
        conditions: dict[str, Any] = {"sessionId": [str(s) for s in lineage_ids(upload)]}
        found = await context.read(context.client.search_by_property, PROPERTY_KEY, conditions, fields=FIELDS)
        self.view = jira_view(found)
        self.previous = await context.db(previous_tickets, context.services, upload)
        written_back = {
            key: (issue.issue_key, issue.issue_id)
            for key, issue in self.view.issues.items()
            if key in context.tickets and key not in context.issues
        }
        await context.db(context.repo.record_issues, **context.scope, issues=written_back)
        context.issues.update(written_back)
        await context.db(context.repo.record_epics, **context.scope, epics=self.view.epics())
        self.plan = plan_from(self.previous, list(context.tickets.values()), self.view)
        context.counts["existed"] = len(context.issues)
        return self.plan

    def choice(self, ticket_key: str) -> str:
        return str((self._revision.get("choices") or {}).get(ticket_key, KEEP_JIRA))

    async def apply(self) -> None:
        context = self._context
        for change in self.plan.changes:
            if change.kind in (NEW, UNCHANGED) or (change.kind == GONE and change.flagged):
                continue  # nothing to write (a new ticket is the create step's)
            await context.stop_if_cancelled()
            if change.kind == CHANGED or (change.kind == CONFLICT and self.choice(change.ticket_key) == OVERWRITE):
                await self.update(context.tickets[change.ticket_key])
                context.count("updated")
            elif change.kind == CONFLICT and self.choice(change.ticket_key) == COMMENT:
                if await self.comment_once(change, _change_comment(change, self.marker(change, "change"))):
                    context.count("commented")
            elif change.kind == GONE and not change.flagged:
                await self.comment_once(change, _gone_comment(change, self.marker(change, "gone")))
                assert change.issue_key is not None
                await context.read(
                    context.client.edit_issue, change.issue_key, update={"labels": [{"add": FLAG_LABEL}]}
                )
                context.count("flagged")
            await context.report("Updating issues", **self.progress())

    def progress(self) -> dict[str, int]:
        counts = self._context.counts
        return {name: counts.get(name, 0) for name in ("updated", "flagged", "commented")}

    def marker(self, change: PlannedChange, what: str) -> str:
        ticket = self._context.tickets.get(change.ticket_key)
        version = content_hash(ticket.title, ticket.description or None)[:12] if ticket else ""
        return f"[{MARKER}:{what}:{change.ticket_key}:{self._context.scope['session_id']}:{version}]"

    async def update(self, ticket: TicketRecord) -> None:
        """One PUT: the spec's summary, description and labels, and the property's new `sentHash`."""
        context = self._context
        assert context.target is not None
        issue = self.view.issues[ticket.key]
        fields: dict[str, Any] = {"summary": ticket.title}
        if ticket.description:
            fields["description"] = ticket.description
        # Labels are added, not set: a label someone gave the issue in Jira (a sprint, a team) stays.
        labels = {"labels": [{"add": label} for label in context.target.labels(ticket.labels)]}
        value = {
            **issue.property,
            "sentHash": content_hash(ticket.title, ticket.description or None),
            "attachmentsHash": attachments_hash(ticket.attachments),  # the attachment step sends them next
            "revisedIn": str(context.scope["session_id"]),
        }
        await context.read(
            context.client.edit_issue, issue.issue_key, fields=fields, update=labels, properties={PROPERTY_KEY: value}
        )

    async def comment_once(self, change: PlannedChange, body: dict[str, Any]) -> bool:
        """Post the comment unless the issue has one with its marker; True if this call posted it."""
        context = self._context
        assert change.issue_key is not None
        issue_key, marker = change.issue_key, _marker_of(body)

        async def present() -> bool:
            bodies = await context.read(context.client.comment_bodies, issue_key)
            return any(marker in _plain(b) for b in bodies)

        if await present():
            return False

        async def post() -> None:
            await context.client.add_comment(issue_key, body)

        await context.retrier.create_once(post, present)
        return True

    async def match_links(self, planned: list[PlannedLink], types: dict[str, LinkType]) -> None:
        """Mark done the planned links Jira has already, and remove those the revision dropped."""
        context = self._context
        present: dict[tuple[str, str, str], str] = {}
        for issue in self.view.issues.values():
            for ref in issue.links:
                if ref.outward_issue_key:  # seen from the inward side
                    present[(ref.type_name, issue.issue_key, ref.outward_issue_key)] = ref.id
                if ref.inward_issue_key:
                    present[(ref.type_name, ref.inward_issue_key, issue.issue_key)] = ref.id
        wanted = {self._sides(link, types) for link in planned if self._known(link)}
        done = [link.id for link in planned if self._known(link) and _in(self._sides(link, types), present)]
        await context.db(context.repo.mark_links, **context.scope, links=done, state="done")
        old_keys = {t.key: t.jira_key for t in self.previous if t.jira_key is not None}
        dropped = {
            sides
            for link in plan_export(self.previous).links
            if link.from_key in old_keys and link.to_key in old_keys
            for sides in [self._sides(link, types, old_keys)]
            if not _in(sides, {s: "" for s in wanted})
        }
        for sides in sorted(dropped):
            link_id = _in(sides, present)
            if not link_id:
                continue
            with contextlib.suppress(JiraNotFoundError):  # removed already (a lost answer, or by someone in Jira)
                await context.read(context.client.delete_link, link_id)
            context.count("links_removed")

    def _known(self, link: PlannedLink) -> bool:
        return link.from_key in self._context.issues and link.to_key in self._context.issues

    def _sides(
        self, link: PlannedLink, types: dict[str, LinkType], keys: dict[str, str] | None = None
    ) -> tuple[str, str, str]:
        """(type name, inward issue, outward issue) of a planned link, as `LinkStep.sides` posts it."""

        def issue(ticket_key: str) -> str:
            if keys is not None:
                return keys[ticket_key]
            return self._context.issues[ticket_key][0]

        if link.kind == BLOCKS:
            return types[BLOCKS].name, issue(link.to_key), issue(link.from_key)
        return types[link.kind].name, issue(link.from_key), issue(link.to_key)

    def retired_attachments(self) -> dict[str, set[str]]:
        """Per revised ticket in Jira, the files its previous version attached that it no longer has."""
        tickets = self._context.tickets
        retired = {
            old.key: {a["filename"] for a in old.attachments} - {a["filename"] for a in tickets[old.key].attachments}
            for old in self.previous
            if old.key in tickets
        }
        return {key: names for key, names in retired.items() if names}

    def held(self) -> set[str]:
        """The tickets whose issues the revision leaves as Jira has them, files included: the conflicts the
        director did not choose to overwrite (kept as Jira's, or commented)."""
        return {c.ticket_key for c in self.plan.of_kind(CONFLICT) if self.choice(c.ticket_key) != OVERWRITE}

    def summary(self) -> dict[str, Any]:
        counts = self.plan.counts()
        return {
            "plan": dict(counts),
            "updated": self._context.counts.get("updated", 0),
            "flagged": self._context.counts.get("flagged", 0),
            "commented": self._context.counts.get("commented", 0),
            "conflicts": counts.get(CONFLICT, 0),
            "conflicts_kept": sum(1 for c in self.plan.of_kind(CONFLICT) if self.choice(c.ticket_key) == KEEP_JIRA),
            "moved": len(self.plan.moves),
            "links_removed": self._context.counts.get("links_removed", 0),
        }


def _in(sides: tuple[str, str, str], links: dict[tuple[str, str, str], str]) -> str | None:
    """The id of the link with these sides (either direction for an unordered type such as Relates), if any."""
    kind, inward, outward = sides
    if sides in links:
        return links[sides] or "present"
    if kind != "Blocks" and (kind, outward, inward) in links:
        return links[(kind, outward, inward)] or "present"
    return None


def _text(*paragraphs: str) -> list[dict[str, Any]]:
    return [nodes.paragraph(nodes.text(p)) for p in paragraphs if p]


def _gone_comment(change: PlannedChange, marker: str) -> dict[str, Any]:
    text = (
        "The revised spec no longer has this ticket (it was removed from the spec, or marked d for deletion, "
        f"which is removal work of its own). Nothing was deleted; the issue is labelled {FLAG_LABEL}."
    )
    return nodes.doc(*_text(text, marker))


def _change_comment(change: PlannedChange, marker: str) -> dict[str, Any]:
    text = "The revised spec changes this ticket, which was edited in Jira since; the change, not applied:"
    return nodes.doc(*_text(text), nodes.code_block("\n".join(change.diff), "diff"), *_text(marker))


def _plain(node: Any) -> str:
    """Every text of an ADF node, joined (a comment's marker is looked for in it)."""
    if isinstance(node, list):
        return " ".join(_plain(item) for item in node)
    if not isinstance(node, dict):
        return ""
    return " ".join([str(node["text"])] if "text" in node else []) + " " + _plain(node.get("content") or [])


def _marker_of(body: dict[str, Any]) -> str:
    last = body["content"][-1]["content"][0]["text"]
    return str(last)
