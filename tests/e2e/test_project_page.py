"""The project page end to end in headless Chromium, framed by the Jira sandbox: upload, generate, review, export.

`dtg serve` and `dtg sandbox` run as processes on free ports; screenshots of each step go to test-artifacts/e2e/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import REPO, UWEC, free_port, stack_environment, start_stack, stop_process, wait_for_install

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.web]

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "test-artifacts" / "e2e"
WAIT_MS = 60_000


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[str]:
    """The app and the sandbox (which installs the app); yields the sandbox URL."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed at /usr/bin/chromium; .ci/run must install it")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    env = {**stack_environment(tmp_path, app_url=app_url, sandbox_url=sandbox_url), "DTG_LLM_PROVIDER": "offline"}
    env.pop("DTG_DATABASE_URL", None)
    env.pop("DTG_REDIS_URL", None)
    processes = start_stack(env, tmp_path, app_port=app_port, sandbox_port=sandbox_port)
    try:
        wait_for_install(sandbox_url)
        yield sandbox_url
    finally:
        for process in processes:
            stop_process(process)


def test_a_director_goes_from_csv_to_jira_issues_on_the_project_page(stack: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            _walk_through(page, stack)
        finally:
            page.screenshot(path=str(SHOTS / "last.png"), full_page=True)
            browser.close()
        assert errors == []

    stats = httpx.get(f"{stack}/_sandbox/stats", timeout=10).json()
    assert stats["issuesCreated"] > 50
    issues = httpx.get(f"{stack}/projects/DTG/issues", timeout=10)
    assert "Edited by the end-to-end test" in issues.text


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _walk_through(page, sandbox_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{sandbox_url}/projects/DTG", wait_until="domcontentloaded")
    frame = page.frame_locator("iframe.ap-iframe")
    frame.get_by_text("Connected to").wait_for(timeout=WAIT_MS)
    _shot(page, "01-start")

    # Upload: a new session, the whole UWEC export at once; nothing blocks, so nothing needs fixing.
    frame.get_by_role("button", name="New upload session").click()
    frame.locator("#dtg-file-input").set_input_files(sorted(str(p) for p in UWEC.glob("*.csv")))
    frame.get_by_text("Nothing blocks.").wait_for(timeout=WAIT_MS)
    assert frame.locator("select.dtg-kind").count() == 11
    _shot(page, "02-uploaded")

    # Generate offline and watch the progress until the tickets are ready.
    frame.get_by_role("button", name="Continue to Generate").click()
    frame.locator("#dtg-provider").select_option("offline")
    frame.get_by_text("tokens, no cost").wait_for(timeout=WAIT_MS)
    _shot(page, "03-generate")
    frame.get_by_role("button", name="Generate tickets").click()
    frame.get_by_role("button", name="Review the").wait_for(timeout=WAIT_MS)
    _shot(page, "04-generated")

    # Review: find tickets with the filter, then edit one ticket's title and see it saved.
    frame.get_by_role("button", name="Review the").click()
    frame.locator("#dtg-filter-text").wait_for(timeout=WAIT_MS)
    total = frame.locator(".dtg-ticket-row").count()
    frame.locator("#dtg-filter-text").fill("workflow")
    frame.get_by_text(f"of {total} tickets shown").wait_for(timeout=WAIT_MS)
    assert 0 < frame.locator(".dtg-ticket-row:visible").count() < total
    frame.locator("#dtg-filter-text").fill("")
    frame.locator(".dtg-ticket-row a").first.click()
    editor = frame.locator("form.dtg-editor")
    editor.wait_for(timeout=WAIT_MS)
    title = editor.locator("input[name=title]")
    title.fill("Edited by the end-to-end test: build the Academic Program content type")
    frame.locator("[data-field='save-state'][data-kind='saved']").wait_for(timeout=WAIT_MS)
    _shot(page, "05-edited")

    # Links: add one "blocked by" link in the editor, then remove it again.
    chips = editor.locator(".dtg-chip").count()
    editor.locator("[data-field='new-blocker']").select_option(index=5)
    editor.get_by_role("button", name="Add link").click()
    frame.get_by_text("Link added.").wait_for(timeout=WAIT_MS)
    editor = frame.locator("form.dtg-editor")
    assert editor.locator(".dtg-chip").count() == chips + 1
    _shot(page, "06-linked")
    editor.locator(".dtg-chip-x").last.click()
    frame.get_by_text("Link removed.").wait_for(timeout=WAIT_MS)
    assert frame.locator("form.dtg-editor .dtg-chip").count() == chips

    frame.get_by_role("tab", name="4. Dependencies").click()
    frame.locator("svg.dtg-graph").wait_for(timeout=WAIT_MS)
    _shot(page, "07-dependencies")

    # Export: readiness, start, live progress, results with links to the issues.
    frame.get_by_role("tab", name="5. Export").click()
    frame.get_by_role("button", name="Export").first.wait_for(timeout=WAIT_MS)
    _shot(page, "08-readiness")
    frame.locator("[data-action='export']").click()
    frame.locator(".dtg-task .dtg-lozenge-success").wait_for(timeout=WAIT_MS * 3)
    frame.get_by_text(re.compile(r"^(\d+) of \1 tickets are in Jira\.$")).first.wait_for(timeout=WAIT_MS)
    assert frame.locator("a[href*='/browse/DTG-']").count() > 50
    _shot(page, "09-exported")

    frame.get_by_role("tab", name="Activity").click()
    frame.get_by_text("exported").first.wait_for(timeout=WAIT_MS)
    _shot(page, "10-activity")
