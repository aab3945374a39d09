"""The Forge front end to end: the Custom UI built, the sandbox installs the Forge app and frames its project page
with its @forge/bridge stand-in; a director uploads, generates and exports, and the issues are in the sandbox.
Kept short: the Connect walk-through (test_project_page.py) covers the page itself in depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.forge.custom_ui import build
from tests.e2e.test_project_page import ARGS, CHROMIUM, RECORD_FLAGS, SHOTS, WAIT_MS, downloaded_roles, flag_closed_with
from tests.support import UWEC, free_port, stack_environment, start_stack, stop_process, wait_for_install

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.web, pytest.mark.forge]

# The UWEC files of the images, roles and workflows: 21 tickets, so the walk stays short.
SPEC = [
    UWEC / f"UWEC_{name}.csv"
    for name in (
        "Imagestyles",
        "ResponsiveImageStyles",
        "Userroles",
        "Workflows",
        "Workflowstates",
        "Workflowtransitions",
    )
]

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def forge_stack(tmp_path: Path) -> Iterator[str]:
    """`dtg serve` and `dtg sandbox` (which installs the Connect app too) with the Custom UI built; the sandbox
    installs the Forge app through its lifecycle trigger. Yields the sandbox URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed at /usr/bin/chromium; .ci/run must install it")
    build()  # build/forge-ui/..., where the sandbox finds the manifest's resources
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = {
        **stack_environment(tmp_path, app_url=app_url, sandbox_url=sandbox_url),
        "DTG_LLM_PROVIDER": "offline",
        "DTG_FORGE_JWKS_URL": f"{sandbox_url}/_sandbox/forge/jwks.json",
        "DTG_FORGE_API_HOSTS": "127.0.0.1",
        "DTG_JIRA_REQUESTS_PER_SECOND": "1000",
    }
    env.pop("DTG_DATABASE_URL", None)
    env.pop("DTG_REDIS_URL", None)
    processes = start_stack(env, tmp_path, app_port=app_port, sandbox_port=sandbox_port)
    try:
        wait_for_install(sandbox_url)
        installed = httpx.post(f"{sandbox_url}/_sandbox/forge/install", timeout=10)
        assert installed.status_code == 200, installed.text
        yield sandbox_url
    finally:
        for process in processes:
            stop_process(process)


def test_a_director_exports_through_the_forge_front(forge_stack: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            # The site has both fronts installed; `?app=forge` shows the Forge app's project page.
            page.goto(f"{forge_stack}/projects/DTG?app=forge", wait_until="domcontentloaded")
            frame = page.frame_locator("iframe.forge-iframe")
            frame.get_by_text("Connected to").wait_for(timeout=WAIT_MS)
            assert page.locator("iframe.ap-iframe").count() == 0
            page.evaluate(RECORD_FLAGS)

            frame.get_by_role("button", name="New upload session").click()
            frame.locator("#dtg-file-input").set_input_files([str(path) for path in SPEC])
            frame.get_by_text("Nothing blocks.").wait_for(timeout=WAIT_MS)
            assert frame.locator("select.dtg-kind").count() == len(SPEC)  # every file of the FormData arrived
            uploaded = page.locator("#ap-flags .ap-flag", has_text=f"Uploaded {len(SPEC)} files")
            uploaded.wait_for(timeout=WAIT_MS)
            page.screenshot(path=str(SHOTS / "forge-01-uploaded.png"))
            # Flags through showFlag: an error stays until dismissed, a success closes itself (Jira's 8 s).
            frame.locator("body").evaluate("() => DTGHost.flag({ type: 'error', title: 'An error to dismiss' })")
            uploaded.wait_for(state="detached", timeout=12_000)
            error = page.locator("#ap-flags .ap-flag.error", has_text="An error to dismiss")
            assert error.is_visible()
            error.get_by_role("button", name="Dismiss").click()
            error.wait_for(state="detached", timeout=WAIT_MS)

            frame.get_by_role("button", name="Continue to Generate").click()
            frame.get_by_role("button", name="Generate tickets").click()
            frame.get_by_role("button", name="Review the").wait_for(timeout=WAIT_MS)
            page.locator("#ap-flags .ap-flag", has_text="Tickets drafted").wait_for(timeout=WAIT_MS)
            flag_closed_with(page, "Drafting the tickets", "Tickets drafted")  # a sticky flag, closed by the outcome

            frame.get_by_role("tab", name="5. Export").click()
            frame.locator("[data-action='export']").click()
            frame.locator(".dtg-task .dtg-lozenge-success").wait_for(timeout=WAIT_MS * 3)
            done = frame.get_by_text(re.compile(r"^(\d+) of \1 tickets are in Jira\.$")).first
            done.wait_for(timeout=WAIT_MS)
            exported = int(done.inner_text().split()[0])
            page.screenshot(path=str(SHOTS / "forge-02-exported.png"))
            roles = downloaded_roles(page, frame)  # the spec zip through requestRemote, saved by the page
        finally:
            page.screenshot(path=str(SHOTS / "forge-last.png"))
            browser.close()
        assert errors == []

    assert exported == 21
    assert re.search(r"^DTG-\d+,Site Admin,site_admin,a,", roles, re.M)  # a role built: its row has its key
    assert re.search(r"^,Administrator,administrator,x,", roles, re.M)  # implemented already: no ticket, no key
    issues = httpx.get(f"{forge_stack}/projects/DTG/issues", timeout=10).text
    assert len(set(re.findall(r"/browse/(DTG-\d+)", issues))) >= exported
    stats = httpx.get(f"{forge_stack}/_sandbox/stats", timeout=10).json()
    assert stats["issuesCreated"] >= exported and stats["unauthorized"] == 0
