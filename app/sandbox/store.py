"""The sandbox's state and the single place it changes: one object, one asyncio lock, optional JSON persistence.

Reads are plain method calls (the event loop never switches inside them); every change goes through an
`async` method that holds the lock and then saves, so a restart with the same state dir keeps issues and
installations (and our app's stored shared secret stays valid). Installations are written at once; issue changes
are written at most every `SAVE_EVERY_SECONDS`, in a thread: writing the whole state after each of an export's
hundreds of calls blocked the sandbox's event loop for most of a minute.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.sandbox.models import (
    ADMIN_USER,
    USERS,
    Attachment,
    ChangeGroup,
    Comment,
    Installation,
    Issue,
    IssueLink,
    IssueType,
    Project,
    SandboxUser,
    jira_timestamp,
    user_actor,
)

STATE_FILE = "sandbox-state.json"
FIRST_ISSUE_ID = 10001
FIRST_LINK_ID = 10000
FIRST_ATTACHMENT_ID = 10000


@dataclass(frozen=True)
class FieldChange:
    """One field of an edit: its id, the name history shows, and the value before and after."""

    field_id: str
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class NewLink:
    """A link an issue create carries: its type, the existing issue, and on which side the new issue sits."""

    type_id: str
    other_id: str
    new_is_outward: bool


SAVE_EVERY_SECONDS = 0.5


class SandboxStore:
    def __init__(self, projects: list[Project], state_dir: Path | None = None) -> None:
        self._lock = asyncio.Lock()
        self._writing = asyncio.Lock()  # one write at a time, in the order the states were taken
        self._save_pending = False
        self._state_dir = state_dir
        self.projects: dict[str, Project] = {project.key: project for project in projects}
        self.installations: dict[str, Installation] = {}
        self._clear_issues()
        if state_dir is not None:
            self._load(state_dir)

    def _clear_issues(self) -> None:
        self.issues: dict[str, Issue] = {}
        self.links: list[IssueLink] = []
        self.attachments: dict[str, Attachment] = {}
        self._contents: dict[str, bytes] = {}
        self._next_id = FIRST_ISSUE_ID
        self._next_number: dict[str, int] = {}
        # Counters, not list lengths: links can be deleted and ids are never reused.
        self._next_link_id = FIRST_LINK_ID
        self._next_record_id = FIRST_ISSUE_ID
        self._next_attachment_id = FIRST_ATTACHMENT_ID

    # Reads ---------------------------------------------------------------------------------------------

    def project(self, key_or_id: str) -> Project | None:
        return next((p for p in self.projects.values() if key_or_id in (p.key, p.id)), None)

    def custom_field_ids(self) -> tuple[str, ...]:
        return tuple(f.id for p in self.projects.values() for f in p.custom_fields)

    def project_of(self, issue: Issue) -> Project:
        project = self.project(issue.project_id)
        assert project is not None  # issues are only created in existing projects
        return project

    def issue_type_of(self, issue: Issue) -> IssueType:
        issue_type = self.project_of(issue).issue_type(issue.issuetype_id)
        assert issue_type is not None  # validated on create
        return issue_type

    def account_ids(self) -> set[str]:
        return {u.account_id for u in USERS}

    def user(self, account_id: str) -> SandboxUser:
        return next((u for u in USERS if u.account_id == account_id), ADMIN_USER)

    def issue(self, id_or_key: str) -> Issue | None:
        found = self.issues.get(id_or_key)
        if found is None:
            found = next((i for i in self.issues.values() if i.key == id_or_key.upper()), None)
        return found

    def project_issues(self, project: Project) -> list[Issue]:
        return [i for i in self.issues.values() if i.project_id == project.id]

    def links_of(self, issue: Issue) -> list[IssueLink]:
        return [link for link in self.links if issue.id in (link.inward_issue_id, link.outward_issue_id)]

    def installation_by_client_key(self, client_key: str) -> Installation | None:
        return next((i for i in self.installations.values() if i.client_key == client_key), None)

    def attachment_content(self, attachment_id: str) -> bytes | None:
        return self._contents.get(attachment_id)

    # Changes -------------------------------------------------------------------------------------------

    async def save_installation(self, installation: Installation) -> None:
        async with self._lock:
            self.installations[installation.app_key] = installation
            self._write(self._state())

    async def create_issues(self, drafts: list[tuple[Project, dict[str, Any]]]) -> list[Issue]:
        """Create issues from validated drafts (keyword arguments of `Issue` minus id, key and project, plus the
        `links` the create carries), each issue with its links at once."""
        async with self._lock:
            created = []
            for project, draft in drafts:
                number = self._next_number.get(project.key, 0) + 1
                self._next_number[project.key] = number
                values = {name: value for name, value in draft.items() if name != "links"}
                issue = Issue(id=str(self._next_id), key=f"{project.key}-{number}", project_id=project.id, **values)
                self._next_id += 1
                self.issues[issue.id] = issue
                for new in draft.get("links", ()):
                    inward, outward = (new.other_id, issue.id) if new.new_is_outward else (issue.id, new.other_id)
                    self.links.append(IssueLink(str(self._next_link_id), new.type_id, inward, outward))
                    self._next_link_id += 1
                created.append(issue)
            self._save()
            return created

    async def set_property(self, issue: Issue, key: str, value: Any) -> bool:
        """Set an issue property; True when it did not exist before."""
        async with self._lock:
            created = key not in issue.properties
            issue.properties[key] = value
            self._save()
            return created

    async def add_link(self, type_id: str, inward: Issue, outward: Issue) -> IssueLink:
        """Add a link; a duplicate answers the existing one, as Jira does."""
        async with self._lock:
            for link in self.links:
                if (link.type_id, link.inward_issue_id, link.outward_issue_id) == (type_id, inward.id, outward.id):
                    return link
            link = IssueLink(str(self._next_link_id), type_id, inward.id, outward.id)
            self._next_link_id += 1
            self.links.append(link)
            self._save()
            return link

    async def delete_link(self, link: IssueLink) -> None:
        async with self._lock:
            self.links.remove(link)
            self._save()

    async def edit_issue(
        self, issue: Issue, changes: list[FieldChange], properties: dict[str, Any], author: dict[str, str]
    ) -> None:
        """Apply validated field changes and properties; fields that really changed go into the history."""
        async with self._lock:
            items = []
            for change in changes:
                if change.before == change.after:
                    continue
                _assign(issue, change.field_id, change.after)
                items.append(
                    {
                        "field": change.name,
                        "fieldId": change.field_id,
                        "fromString": _history_string(change.before),
                        "toString": _history_string(change.after),
                    }
                )
            issue.properties.update(properties)
            if items:
                issue.updated = jira_timestamp()
                issue.changelog.append(ChangeGroup(self._record_id(), author, items, issue.updated))
            self._save()

    async def add_comment(self, issue: Issue, body: dict[str, Any], author: dict[str, str]) -> Comment:
        async with self._lock:
            comment = Comment(self._record_id(), author, body)
            issue.comments.append(comment)
            self._save()
            return comment

    def _record_id(self) -> str:
        """Ids of comments and history entries (one sequence, as Jira's are unique site-wide)."""
        record_id = str(self._next_record_id)
        self._next_record_id += 1
        return record_id

    async def add_attachment(
        self, issue: Issue, filename: str, mime_type: str, content: bytes, author: dict[str, str]
    ) -> Attachment:
        async with self._lock:
            attachment = Attachment(
                id=str(self._next_attachment_id),
                issue_id=issue.id,
                filename=filename,
                mime_type=mime_type,
                size=len(content),
                author=author,
            )
            self._next_attachment_id += 1
            self.attachments[attachment.id] = attachment
            self._contents[attachment.id] = content
            issue.attachment_ids.append(attachment.id)
            if self._state_dir is not None:
                (self._state_dir / "attachments").mkdir(parents=True, exist_ok=True)
                (self._state_dir / "attachments" / attachment.id).write_bytes(content)
            self._save()
            return attachment

    async def delete_attachment(self, attachment: Attachment, author: dict[str, str]) -> bool:
        """Remove the file from its issue (Jira keeps no copy); the issue's history records it, as Jira's does.
        False when it was gone already: looked for under the lock, as a concurrent delete may have just taken it."""
        async with self._lock:
            if self.attachments.pop(attachment.id, None) is None:
                return False
            self._contents.pop(attachment.id, None)
            issue = self.issues[attachment.issue_id]
            issue.attachment_ids.remove(attachment.id)
            item = {"field": "Attachment", "fieldId": "attachment", "fromString": attachment.filename, "toString": None}
            issue.updated = jira_timestamp()
            issue.changelog.append(ChangeGroup(self._record_id(), author, [item], issue.updated))
            if self._state_dir is not None:
                (self._state_dir / "attachments" / attachment.id).unlink(missing_ok=True)
            self._save()
            return True

    async def reset_issues(self) -> None:
        """Forget issues, links and attachments; installations stay."""
        async with self._lock:
            self._clear_issues()
            self._save()

    # Persistence ---------------------------------------------------------------------------------------

    def _save(self) -> None:
        """Called holding the lock after a change: one write of the state within `SAVE_EVERY_SECONDS`."""
        if self._state_dir is None or self._save_pending:
            return
        self._save_pending = True
        asyncio.get_running_loop().call_later(SAVE_EVERY_SECONDS, lambda: asyncio.ensure_future(self.flush()))

    async def flush(self) -> None:
        """Write the state now if a change is waiting (also at shutdown)."""
        async with self._writing:
            async with self._lock:
                if not self._save_pending:
                    return
                self._save_pending = False
                state = self._state()
            await asyncio.to_thread(self._write, state)

    def _state(self) -> dict[str, Any]:
        return {
            "installations": [asdict(i) for i in self.installations.values()],
            "issues": [asdict(i) for i in self.issues.values()],
            "links": [asdict(link) for link in self.links],
            "attachments": [asdict(a) for a in self.attachments.values()],
            "next_id": self._next_id,
            "next_number": self._next_number,
            "next_link_id": self._next_link_id,
            "next_record_id": self._next_record_id,
            "next_attachment_id": self._next_attachment_id,
        }

    def _write(self, state: dict[str, Any]) -> None:
        if self._state_dir is None:
            return
        self._state_dir.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash mid-write never leaves a truncated state file.
        path = self._state_dir / STATE_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        os.replace(temporary, path)

    def _load(self, state_dir: Path) -> None:
        path = state_dir / STATE_FILE
        if not path.exists():
            return
        state = json.loads(path.read_text())
        self.installations = {i["app_key"]: Installation(**i) for i in state["installations"]}
        self.issues = {i["id"]: Issue(**i) for i in state["issues"]}
        self.links = [IssueLink(**link) for link in state["links"]]
        self.attachments = {a["id"]: Attachment(**_attachment_state(a)) for a in state["attachments"]}
        self._contents = {
            a_id: (state_dir / "attachments" / a_id).read_bytes()
            for a_id in self.attachments
            if (state_dir / "attachments" / a_id).exists()
        }
        self._next_id = state["next_id"]
        self._next_number = state["next_number"]
        self._next_link_id = state.get("next_link_id", FIRST_LINK_ID + len(self.links))
        self._next_record_id = state.get("next_record_id", FIRST_ISSUE_ID)
        # A state written before attachments could be deleted: ids were the count, from FIRST_ATTACHMENT_ID.
        self._next_attachment_id = state.get("next_attachment_id", FIRST_ATTACHMENT_ID + len(self.attachments))


def _assign(issue: Issue, field_id: str, value: Any) -> None:
    if field_id.startswith("customfield_"):
        if value is None:
            issue.custom.pop(field_id, None)
        else:
            issue.custom[field_id] = value
    elif field_id == "parent":
        issue.parent_id = value
    elif field_id == "assignee":
        issue.assignee_account_id = value
    else:
        setattr(issue, field_id, value)


def _history_string(value: Any) -> str | None:
    """How history shows a value: text as is, labels space-separated, documents and options as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value)
    return json.dumps(value, sort_keys=True)


def _attachment_state(saved: dict[str, Any]) -> dict[str, Any]:
    """A saved attachment; a state folder from before attachments kept their author had the admin attach them all."""
    legacy = saved.pop("author_account_id", None)
    if "author" not in saved:
        saved["author"] = user_actor(next((u for u in USERS if u.account_id == legacy), ADMIN_USER))
    return saved
