"""The export's test world: our app's database and services, and the Jira sandbox with the app installed in it.

The installation is made on both sides directly (the sandbox's store and our tenants table share one secret),
which is what a signed install leaves behind; the install handshake itself is tested in tests/sandbox and
tests/web.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import random
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.adf.normal import normal_form
from app.connect.descriptor import render_descriptor
from app.container import Services, build_services
from app.db.export_settings import StoredExportSettings
from app.db.migrate import upgrade
from app.db.models import TicketRecord
from app.domain.installation import InstallPayload
from app.pipeline.export import PROPERTY_KEY, start_export
from app.pipeline.export.plan import BLOCKS, plan_export
from app.pipeline.generation import run_generation, start_generation, writer_for_task
from app.pipeline.intake import IncomingFile, add_files, open_session
from app.pipeline.issue_requests import EPIC_KEY_PREFIX, epic_area, epic_key
from app.pipeline.ports import SYSTEM, Scope
from app.retries import RetryPolicy
from app.sandbox import SandboxConfig, create_sandbox_app
from app.sandbox.models import Installation as SandboxInstallation
from app.sandbox.runtime import SandboxRuntime
from app.sandbox.store import SandboxStore
from tests.support import UWEC, RecordingQueue, free_port, make_settings, remember_secret

SANDBOX_URL = "http://jira.test"
APP_URL = "http://app.test"


# Retries as the product does them, without the waits.
FAST = RetryPolicy(attempts=8, base_delay=0.001, max_delay=0.01)


async def no_sleep(seconds: float) -> None:
    return None


class Crash(Exception):
    """The worker died."""


@dataclass
class Queue:
    exports: list[int]

    def enqueue_ping(self, task_id: int) -> None:
        raise AssertionError("not expected")

    def enqueue_generation(self, task_id: int) -> None:
        raise AssertionError("not expected")

    def enqueue_export(self, task_id: int) -> None:
        self.exports.append(task_id)


def adf(text: str) -> dict[str, Any]:
    """A small but real ADF document: a heading, a paragraph and a bullet list."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "User story"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": text}]},
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}]}
                    for t in ("Configured as in the spec", "Reviewed by QA")
                ],
            },
        ],
    }


def synthetic_tickets(count: int, *, seed: int = 7, attachments_every: int = 10) -> list[dict[str, Any]]:
    """Drafts with dependencies on earlier tickets, a 3-ticket cycle, relates links and some attachments."""
    rng = random.Random(seed)
    drafts = []
    for i in range(count):
        key = f"t-{i:04d}"
        blocked_by = sorted({f"t-{rng.randrange(i):04d}" for _ in range(rng.randint(0, 2))}) if i else []
        relates = [f"t-{rng.randrange(count):04d}"] if i % 7 == 3 else []
        attachments = (
            [{"filename": f"fields-{i}.csv", "media_type": "text/csv", "content": f"machine_name\nfield_{i}\n"}]
            if attachments_every and i % attachments_every == 5
            else []
        )
        drafts.append(
            {
                "key": key,
                # Review order differs from dependency order, so the export has to sort.
                "position": count - i,
                "title": f"Content model: Build bundle {i}",
                "area": "content-model",
                "action": "build",
                "labels": ["content-model", "dtg"],
                "description": adf(f"As an editor I can manage bundle {i}."),
                "blocked_by": blocked_by,
                "relates_to": [r for r in relates if r != key],
                "source": [{"file": "bundles.csv", "record": i + 1}],
                "attachments": attachments,
            }
        )
    if count >= 6:  # t-0001 -> t-0002 -> t-0003 -> t-0001
        for blocked, blocker in (("t-0002", "t-0001"), ("t-0003", "t-0002"), ("t-0001", "t-0003")):
            drafts[int(blocked[2:])]["blocked_by"] = sorted({*drafts[int(blocked[2:])]["blocked_by"], blocker})
    return drafts


class World:
    """Our services on a fresh database, a tenant installed in an in-process sandbox, one upload session."""

    def __init__(self, tmp_path: Path, *, database_url: str | None = None, **sandbox: Any) -> None:
        overrides = {"DTG_JIRA_REQUESTS_PER_SECOND": "1000"}
        if database_url:
            overrides["DTG_DATABASE_URL"] = database_url
        self.settings = make_settings(tmp_path, **overrides)
        upgrade(self.settings.database_url)
        self.queue = Queue([])
        self.services: Services = build_services(self.settings, self.queue)
        self.config = SandboxConfig(base_url=SANDBOX_URL, app_url=APP_URL, **sandbox)
        self.sandbox_app = create_sandbox_app(self.config, http_client=httpx.AsyncClient())
        self.runtime: SandboxRuntime = self.sandbox_app.state.sandbox
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.sandbox_app))
        self.secret = remember_secret(uuid.uuid4().hex * 2)
        self.client_key = f"jira:{uuid.uuid4()}"
        tenant = self.services.tenants.save_installed(
            InstallPayload(client_key=self.client_key, shared_secret=self.secret, base_url=SANDBOX_URL)
        )
        self.tenant_id = tenant.id
        upload = self.services.sessions.create(tenant_id=tenant.id, project_key="DTG")
        assert upload.id is not None
        self.session_id = upload.id

    async def install(self) -> None:
        descriptor = render_descriptor(base_url=APP_URL, app_key=self.settings.app_key)
        await self.runtime.store.save_installation(
            SandboxInstallation(self.settings.app_key, self.client_key, self.secret, APP_URL, descriptor)
        )

    def epics_off(self) -> None:
        """The admin turned epics off: tickets are created without a parent."""
        self.services.export_settings.save(self.tenant_id, StoredExportSettings(epics_enabled=False))

    def add_tickets(self, drafts: list[dict[str, Any]]) -> None:
        self.services.tickets.save_drafts(tenant_id=self.tenant_id, session_id=self.session_id, drafts=drafts)

    def start(self) -> int:
        return start_export(self.services, self.tenant_id, self.session_id)

    def tickets(self) -> list[TicketRecord]:
        return self.services.tickets.list(tenant_id=self.tenant_id, session_id=self.session_id)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.services.aclose()


class ToLoopback(httpx.AsyncBaseTransport):
    """Sends the tenant's `http://jira.test` requests to the sandbox's real socket on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._http = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


@contextlib.asynccontextmanager
async def sandbox_in_a_thread(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The world's sandbox served by uvicorn in a thread of its own, over a real socket: its work (a bulk create
    checks every description against the ADF schema) stays off the caller's event loop, as Jira's would."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(world.sandbox_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.05)
    http = httpx.AsyncClient(transport=ToLoopback(port), base_url=SANDBOX_URL, timeout=30)
    try:
        yield http
    finally:
        await http.aclose()
        server.should_exit = True
        thread.join(10)


def jira_issues_by_ticket(store: SandboxStore) -> Counter[str]:
    """How many sandbox issues carry each ticket key in our property (epics not counted)."""
    keys = (i.properties[PROPERTY_KEY]["ticketKey"] for i in store.issues.values())
    return Counter(key for key in keys if not key.startswith(EPIC_KEY_PREFIX))


def jira_epics(store: SandboxStore) -> Counter[str]:
    """How many sandbox issues carry each epic key in our property."""
    keys = (i.properties[PROPERTY_KEY]["ticketKey"] for i in store.issues.values())
    return Counter(key for key in keys if key.startswith(EPIC_KEY_PREFIX))


def assert_exported_exactly(
    store: SandboxStore, tickets: list[TicketRecord], *, failed: frozenset[str] = frozenset(), epics: bool = True
) -> None:
    """One issue per exported ticket, the recorded keys match, and links and attachments are exactly the plan;
    with `epics`, one epic per area of the exported tickets, each ticket's issue a child of its area's epic."""
    exported = [t for t in tickets if not t.excluded]
    counts = jira_issues_by_ticket(store)
    assert {k for k, n in counts.items() if n > 1} == set(), "duplicate issues"
    assert set(counts) == {t.key for t in exported} - failed, "missing or extra issues"
    epic_counts = jira_epics(store)
    assert {k for k, n in epic_counts.items() if n > 1} == set(), "duplicate epics"
    areas = {epic_key(epic_area(t)) for t in exported if t.key not in failed}
    assert set(epic_counts) == (areas if epics else set()), "missing or extra epics"
    epic_ids = {i.properties[PROPERTY_KEY]["ticketKey"]: i.id for i in store.issues.values()}
    by_issue_key = {i.key: i for i in store.issues.values()}
    for ticket in exported:
        if ticket.key in failed:
            assert ticket.jira_key is None and ticket.export_error
            continue
        issue = by_issue_key[ticket.jira_key or ""]
        assert issue.properties[PROPERTY_KEY]["ticketKey"] == ticket.key
        assert issue.parent_id == (epic_ids[epic_key(epic_area(ticket))] if epics else None)
        # Jira stores a description in its own way (table attributes, ids): compared in ADF's normal form.
        assert (issue.summary, issue.labels) == (ticket.title, ticket.labels)
        assert normal_form(issue.description) == normal_form(ticket.description or None)
        names = sorted(store.attachments[a].filename for a in issue.attachment_ids)
        assert names == sorted(a["filename"] for a in ticket.attachments)
    assert sandbox_links(store) == planned_links(exported, failed=failed)


def sandbox_links(store: SandboxStore) -> Counter[tuple[str, str, str]]:
    """Each link the sandbox holds, as (type, inward ticket, outward ticket)."""
    ticket_of = {i.id: i.properties[PROPERTY_KEY]["ticketKey"] for i in store.issues.values()}
    type_name = {"10000": "Blocks", "10003": "Relates"}
    return Counter(
        (type_name[link.type_id], ticket_of[link.inward_issue_id], ticket_of[link.outward_issue_id])
        for link in store.links
    )


def planned_links(
    tickets: list[TicketRecord], *, failed: frozenset[str] = frozenset()
) -> Counter[tuple[str, str, str]]:
    """The links the export plans for `tickets` (none to a failed one), as `sandbox_links` counts them."""
    # A posted link reads "<inward> blocks <outward>": for "A is blocked by B" B is inward, A outward.
    return Counter(
        ("Blocks", link.to_key, link.from_key) if link.kind == BLOCKS else ("Relates", link.from_key, link.to_key)
        for link in plan_export(tickets).links
        if link.from_key not in failed and link.to_key not in failed
    )


def generate_uwec_tickets(services: Services, tenant_id: int) -> int:
    """A session on the sandbox project with the UWEC files and its tickets drafted offline, in this process."""
    upload = open_session(services, tenant_id, SYSTEM, project_key="DTG", project_id="10000")
    assert upload.id is not None
    generate_tickets(services, Scope(tenant_id, upload.id), UWEC)
    return upload.id


def start_uwec_generation(services: Services, tenant_id: int) -> int:
    """A session on the sandbox project with the UWEC files and its generation task started, not run (the caller
    runs it with the writer it wants); `services.jobs` receives the task."""
    upload = open_session(services, tenant_id, SYSTEM, project_key="DTG", project_id="10000")
    assert upload.id is not None
    files = [IncomingFile(p.name, p.read_bytes()) for p in sorted(UWEC.glob("*.csv"))]
    add_files(services, Scope(tenant_id, upload.id), SYSTEM, files)
    return start_generation(services, tenant_id=tenant_id, session_id=upload.id)


def generate_tickets(services: Services, scope: Scope, folder: Path) -> None:
    """Upload the folder's CSV files to the session and draft its tickets offline, in this process."""
    asyncio.run(draft_tickets(services, scope, folder))


async def draft_tickets(services: Services, scope: Scope, folder: Path) -> None:
    """`generate_tickets` for a test that runs in an event loop already."""
    files = [IncomingFile(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]
    add_files(services, scope, SYSTEM, files)
    in_process = dataclasses.replace(services, jobs=RecordingQueue())
    task_id = start_generation(in_process, tenant_id=scope.tenant_id, session_id=scope.session_id)
    writer = writer_for_task(in_process, task_id)  # the offline writer: the default provider
    assert writer is not None
    try:
        await run_generation(in_process, task_id, writer=writer)
    finally:
        await writer.provider.aclose()


RENAMED = "Site announcement (Content type)"


def revised_uwec(folder: Path) -> Path:
    """A revised UWEC spec in `folder`, as a director's next version of the spreadsheet would be: a field retyped
    (Job's field_job_id), one removed (College's first), one added (Department), one moved to another bundle
    (Profile's field_athena_id to Job), a bundle deleted with its fields (Hours Library), a bundle and its fields
    marked `d` (Fact Library), a bundle renamed (Announcement, its machine name kept) and a view display added
    (Facts: Latest)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in UWEC.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())

    def edit(name: str, change: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
        path = folder / name
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns, rows = list(reader.fieldnames or []), list(reader)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(change(rows))

    def fields(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        college = next(r for r in rows if r["Bundle"] == "College (Content type)" and r["Machine name"] != "-")
        result = []
        for row in rows:
            if row is college or row["Bundle"] == "Hours Library (Content type)":
                continue
            if row["Bundle"] == "Job (Content type)" and row["Machine name"] == "field_job_id":
                row["Field type"] = "Number (integer)"
            if row["Bundle"] == "Profile (Content type)" and row["Machine name"] == "field_athena_id":
                row["Bundle"], row["Bundle machine name"] = "Job (Content type)", "job"
            if row["Bundle"] == "Fact Library (Content type)":
                row["X"] = "d"
            if row["Bundle"] == "Announcement (Content type)":
                row["Bundle"] = RENAMED
            result.append(row)
        department = next(i for i, r in enumerate(result) if r["Bundle"] == "Department (Content type)")
        added = {**result[department], "Field label": "Revision note", "Machine name": "field_revision_note"}
        added.update({"Field type": "Text (plain)", "Reused Field": "n", "Req'd": "n", "Vals.": "1", "X": "a"})
        return [*result[: department + 1], added, *result[department + 1 :]]

    def bundles(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in rows:
            if row["Name"] == "Fact Library":
                row["X"] = "d"
            if row["Name"] == "Announcement":
                row["Name"] = RENAMED.removesuffix(" (Content type)")
        return [row for row in rows if row["Name"] != "Hours Library"]

    def displays(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        facts = next(r for r in rows if r["View ID"] == "facts")
        return [*rows, {**facts, "Title": "Latest", "Machine name": "latest", "X": "a", "Display plugin": "Block"}]

    edit("UWEC_Fields.csv", fields)
    edit("UWEC_Bundles.csv", bundles)
    edit("UWEC_CustomViewsDisplays.csv", displays)
    return folder
