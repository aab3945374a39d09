"""Helpers for the project page's API tests: a tenant on a project, its headers, a session with the UWEC spec."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.db.exports import ExportRepository
from app.db.models import TicketRecord
from app.llm import LLMConfig, build_writer
from app.pipeline.generation import run_generation
from tests.support import UWEC
from tests.web.conftest import AppUnderTest, Jira

PROJECT = {"jira": {"project": {"key": "DTG", "id": "10000"}}}


@dataclass
class Director:
    """A signed-in person on project DTG of one Jira site."""

    app: AppUnderTest
    jira: Jira

    def headers(self, project: dict[str, Any] | None = PROJECT) -> dict[str, str]:
        claims = {"context": project} if project is not None else {}
        return {"Authorization": f"JWT {self.jira.context_token(**claims)}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.app.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str) -> httpx.Response:
        return self.call("DELETE", path)

    def new_session(self) -> int:
        response = self.post("/api/sessions")
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def upload_uwec(self, session_id: int) -> httpx.Response:
        files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(UWEC.glob("*.csv"))]
        return self.post(f"/api/sessions/{session_id}/files", files=files)

    def generated_session(self) -> int:
        """A session with the UWEC spec and its tickets drafted by the offline writer (run in place of a worker)."""
        session_id = self.new_session()
        assert self.upload_uwec(session_id).status_code == 201
        started = self.post(f"/api/sessions/{session_id}/generate", json={"provider": "offline"})
        assert started.status_code == 202, started.text
        services = self.app.services
        asyncio.run(run_generation(services, started.json()["taskId"], writer=build_writer(LLMConfig())))
        return session_id

    def tenant_id(self) -> int:
        tenant = self.app.services.tenants.find(self.jira.client_key)
        assert tenant is not None and tenant.id is not None
        return tenant.id

    def tickets(self, session_id: int) -> list[TicketRecord]:
        return self.app.services.tickets.list(tenant_id=self.tenant_id(), session_id=session_id)

    def mark_in_jira(self, session_id: int, tickets: Sequence[TicketRecord], *, first: int = 1) -> None:
        """Record the tickets' issues as an export would: DTG-first, DTG-first+1..."""
        issues = {t.key: (f"DTG-{n}", str(10000 + n)) for n, t in enumerate(tickets, start=first)}
        ExportRepository(self.app.services.db).record_issues(
            tenant_id=self.tenant_id(), session_id=session_id, issues=issues
        )


def director(app: AppUnderTest, **jira: Any) -> Director:
    site = app.jira(**jira)
    site.install()
    return Director(app, site)
