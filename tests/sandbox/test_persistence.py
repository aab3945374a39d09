"""With a state dir (the interactive `dtg demo`), the sandbox keeps issues across a restart, and an export's hundreds
of changes cost a few writes of the state, not one each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.sandbox.app import create_sandbox_app
from app.sandbox.config import SandboxConfig
from app.sandbox.store import SandboxStore
from tests.sandbox.conftest import APP_URL, SANDBOX_URL, FakeApp
from tests.sandbox.test_rest_issues import create

pytestmark = [pytest.mark.unit, pytest.mark.export]


@pytest.fixture
def config(tmp_path: Path) -> SandboxConfig:
    return SandboxConfig(base_url=SANDBOX_URL, app_url=APP_URL, state_dir=tmp_path)


@pytest.mark.anyio
async def test_many_changes_are_written_in_a_few_writes_and_kept_across_a_restart(
    jira: httpx.AsyncClient, sandbox_app: Starlette, config: SandboxConfig, fake_app: FakeApp, monkeypatch: Any
) -> None:
    writes: list[int] = []
    write = SandboxStore._write

    def counted(store: SandboxStore, state: dict[str, Any]) -> None:
        writes.append(len(state["issues"]))
        write(store, state)

    monkeypatch.setattr(SandboxStore, "_write", counted)
    keys = []
    for number in range(30):
        key = (await create(jira, summary=f"Ticket {number}"))["key"]
        assert (await jira.put(f"/rest/api/3/issue/{key}/properties/dtg-ticket", json={"n": number})).status_code
        keys.append(key)
    await sandbox_app.state.sandbox.store.flush()

    assert writes and writes[-1] == 30
    assert len(writes) < 10  # 60 changes; one write per change would be 60

    to_app = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_app.asgi()))
    restarted = create_sandbox_app(config, http_client=to_app).state.sandbox.store
    assert sorted(i.key for i in restarted.issues.values()) == sorted(keys)
    assert restarted.issue(keys[-1]) is not None and restarted.issue(keys[-1]).properties["dtg-ticket"] == {"n": 29}
    await to_app.aclose()
