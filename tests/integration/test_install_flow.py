"""The real app and the real sandbox as separate servers: install, open the project page, call the API.

Run on the embedded default (SQLite, in-process worker) and on PostgreSQL with Redis and a `dtg worker` process.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import (
    DTG,
    free_port,
    stack_environment,
    start_process,
    start_stack,
    stop_process,
    wait_for_install,
)

pytestmark = [pytest.mark.integration, pytest.mark.connect, pytest.mark.slow]


@dataclass
class Stack:
    app_url: str
    sandbox_url: str
    env: dict[str, str]


@pytest.fixture(params=["embedded", pytest.param("postgres-redis", marks=pytest.mark.workers)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = stack_environment(tmp_path, app_url=app_url, sandbox_url=sandbox_url)
    processes = []
    if request.param == "postgres-redis":
        env["DTG_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        env["DTG_REDIS_URL"] = request.getfixturevalue("redis_url")
        subprocess.run([*DTG, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
        processes.append(
            start_process([*DTG, "worker", "--processes", "1", "--threads", "2"], env, tmp_path / "worker.log")
        )
    processes.extend(start_stack(env, tmp_path, app_port=app_port, sandbox_port=sandbox_port))
    try:
        yield Stack(app_url, sandbox_url, env)
    finally:
        for process in processes:
            stop_process(process)


def test_install_then_project_page_through_the_sandbox(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:
        wait_for_install(stack.sandbox_url)
        page = client.get(f"{stack.sandbox_url}/projects/DTG")
        assert page.status_code == 200
        src = html.unescape(re.search(r'<iframe class="ap-iframe" src="([^"]+)"', page.text).group(1))
        assert src.startswith(f"{stack.app_url}/jira/project?projectKey=DTG&projectId=10000&")
        assert "&jwt=" in src and "xdm_e=" in src

        frame = client.get(src)
        assert frame.status_code == 200, frame.text
        assert "Project <strong>DTG</strong>" in frame.text
        assert frame.headers["content-security-policy"].endswith(f"frame-ancestors {stack.sandbox_url}")
        assert f'src="{stack.sandbox_url}/atlassian-connect/all.js"' in frame.text
        # The same signed URL cannot open another page.
        assert client.get(src.replace("/jira/project", "/jira/configure")).status_code == 401

        token = client.post(
            f"{stack.sandbox_url}/_sandbox/context-token",
            json={"appKey": "drupal-ticket-generator", "context": {"project": {"key": "DTG"}}},
        ).json()["token"]
        me = client.get(f"{stack.app_url}/api/me", headers={"Authorization": f"JWT {token}"})
        assert me.status_code == 200
        assert me.json()["siteUrl"] == stack.sandbox_url
        assert client.get(f"{stack.app_url}/api/me", headers={"Authorization": "JWT forged"}).status_code == 401

    if "DTG_REDIS_URL" in stack.env:
        check = subprocess.run(
            [*DTG, "check-worker", "--timeout", "60"], env=stack.env, capture_output=True, text=True, timeout=90
        )
        assert check.returncode == 0, check.stderr
