"""Generation and export through the project page's API: providers, estimate, start, live progress, cancel, export."""

from __future__ import annotations

import asyncio
import io
import json
import re
import zipfile

import pytest

from app.db.exports import ExportRepository
from app.intake.status import SPEC_TOOL_LEGEND
from app.llm import LLMConfig, build_writer
from app.pipeline.configuration import SettingsForm, save_settings
from app.pipeline.generation import run_generation
from tests.web.conftest import AppUnderTest
from tests.web.project import director

pytestmark = [pytest.mark.unit, pytest.mark.web]


def test_estimate_start_and_a_second_start_conflicts(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    providers = me.get("/api/providers").json()["providers"]
    estimate = me.get(f"/api/sessions/{session_id}/estimate?provider=offline").json()
    unknown = me.get(f"/api/sessions/{session_id}/estimate?provider=openai")
    started = me.post(f"/api/sessions/{session_id}/generate", json={"provider": "offline"})
    again = me.post(f"/api/sessions/{session_id}/generate", json={"provider": "offline"})

    assert [p["name"] for p in providers] == ["offline"]
    assert estimate["tickets"] > 50 and estimate["costUsd"] == 0
    assert unknown.status_code == 400
    assert started.status_code == 202 and app_under_test.queue.generations == [started.json()["taskId"]]
    assert again.status_code == 409
    assert me.get(f"/api/sessions/{session_id}").json()["stage"] == "generate"
    panel = me.get(f"/api/sessions/{session_id}/panels/generate").text
    assert f'data-task="{started.json()["taskId"]}"' in panel and 'data-active="true"' in panel


def test_the_progress_stream_sends_the_current_state_and_ends_with_the_task(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)
    task_id = me.post(f"/api/sessions/{session_id}/generate", json={}).json()["taskId"]
    tasks = app_under_test.services.tasks
    tasks.progress(task_id, done=3, total=10, current="Content model: Build Page")
    tasks.finish(task_id, "10 tickets drafted.")

    with app_under_test.client.stream("GET", f"/api/tasks/{task_id}/events", headers=me.headers()) as response:
        body = "".join(response.iter_text())
    polled = me.get(f"/api/tasks/{task_id}").json()

    events = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events[-1]["state"] == "done" and events[-1]["done"] == 10
    assert polled["state"] == "done" and polled["message"] == "10 tickets drafted."


def test_cancel_and_other_tenants_tasks(app_under_test: AppUnderTest) -> None:
    me, stranger = director(app_under_test), director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)
    task_id = me.post(f"/api/sessions/{session_id}/generate", json={}).json()["taskId"]

    assert stranger.post(f"/api/tasks/{task_id}/cancel").status_code == 404
    assert stranger.get(f"/api/tasks/{task_id}/events").status_code == 404
    # The same site, another project: its people see neither the task nor can they cancel it.
    other_project = {
        "Authorization": me.headers({"jira": {"project": {"key": "OTHER", "id": "10001"}}})["Authorization"]
    }
    assert me.get(f"/api/tasks/{task_id}", headers=other_project).status_code == 404
    assert me.post(f"/api/tasks/{task_id}/cancel", headers=other_project).status_code == 404
    assert me.post(f"/api/tasks/{task_id}/cancel").json() == {"cancelRequested": True}
    # The use cases audit their own steps, and a refused cancel leaves no trace.
    events = me.get(f"/api/sessions/{session_id}/audit").json()["events"]
    assert [(e["action"], e["detail"]) for e in events[:2]] == [
        ("cancelled", {"kind": "generate", "task": task_id}),
        ("generated", {"task": task_id, "provider": "offline"}),
    ]


def test_export_readiness_refuses_before_generation_and_says_what_to_do(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    ready = me.get(f"/api/sessions/{session_id}/readiness").json()
    refused = me.post(f"/api/sessions/{session_id}/export")

    codes = {c["code"] for c in ready["checks"]}
    assert ready["ready"] is False and "no_tickets" in codes
    assert "jira_unreachable" in codes  # the test's Jira answers nothing; a warning, not a failure
    assert refused.status_code == 409 and "Generate the tickets first" in refused.json()["error"]["message"]
    assert app_under_test.queue.exports == []


def test_export_starts_when_ready_and_results_and_csvs_can_be_fetched(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()

    started = me.post(f"/api/sessions/{session_id}/export")
    results = me.get(f"/api/sessions/{session_id}/export").json()
    archive = me.get(f"/api/sessions/{session_id}/export/spec.zip")
    panel = me.get(f"/api/sessions/{session_id}/panels/export")

    assert started.status_code == 202 and app_under_test.queue.exports == [started.json()["taskId"]]
    assert results["state"] == "queued" and results["tickets"]
    assert archive.headers["content-type"] == "application/zip"
    assert "UWEC_Fields.csv" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert panel.status_code == 200 and "Results" in panel.text
    assert me.get(f"/api/sessions/{session_id}").json()["stage"] == "export"
    assert "exported" in [e["action"] for e in me.get(f"/api/sessions/{session_id}/audit").json()["events"]]


def test_the_sessions_spec_downloads_as_one_behat_feature_for_its_project_only(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    response = me.get(f"/api/sessions/{session_id}/acceptance.feature")
    other_project = me.get(
        f"/api/sessions/{session_id}/acceptance.feature",
        headers=me.headers({"jira": {"project": {"key": "OTHER", "id": "10001"}}}),
    )
    stranger = director(app_under_test).get(f"/api/sessions/{session_id}/acceptance.feature")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/x-gherkin")
    assert 'filename="DTG-acceptance.feature"' in response.headers["content-disposition"]
    text = response.text
    assert text.startswith("@api\nFeature: ") and text.count("  Scenario: ") == 9
    assert "    Then exactly the following fields should exist\n      | Bundle " in text
    assert re.search(r"\| Academic Program \(Content type\) +\| Degree Level +\| field_degree_level +\|", text)
    assert other_project.status_code == 404 and stranger.status_code == 404


def test_drafts_are_out_of_date_once_a_file_changes_and_the_export_waits_for_generate_again(
    app_under_test: AppUnderTest,
) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    current = me.get(f"/api/sessions/{session_id}/readiness").json()
    fresh_review = me.get(f"/api/sessions/{session_id}/panels/review").text

    assert me.delete(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv").status_code == 204
    stale = me.get(f"/api/sessions/{session_id}/readiness").json()
    refused = me.post(f"/api/sessions/{session_id}/export")
    review = me.get(f"/api/sessions/{session_id}/panels/review").text
    generate = me.get(f"/api/sessions/{session_id}/panels/generate").text

    assert (
        "drafts_out_of_date" not in {c["code"] for c in current["checks"]}
        and 'data-field="out-of-date"' not in fresh_review
    )
    check = next(c for c in stale["checks"] if c["code"] == "drafts_out_of_date")
    assert stale["ready"] is False and check["blocking"] and "Generate again" in check["todo"]
    assert refused.status_code == 409 and app_under_test.queue.exports == []
    assert 'data-field="out-of-date"' in review and "Generate again" in review
    assert 'data-field="out-of-date"' in generate
    again = me.post(f"/api/sessions/{session_id}/generate", json={"provider": "offline"})
    asyncio.run(run_generation(app_under_test.services, again.json()["taskId"], writer=build_writer(LLMConfig())))
    assert "drafts_out_of_date" not in {
        c["code"] for c in me.get(f"/api/sessions/{session_id}/readiness").json()["checks"]
    }


def test_after_the_export_readiness_stops_asking_for_review_and_a_changed_file_leads_to_a_revision(
    app_under_test: AppUnderTest,
) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    services = app_under_test.services
    tenant = services.tenants.find(me.jira.client_key)
    assert tenant is not None and tenant.id is not None
    tickets = services.tickets.list(tenant_id=tenant.id, session_id=session_id)
    exported = {t.key: (f"DTG-{n}", str(10000 + n)) for n, t in enumerate(tickets[:-1], start=1)}
    ExportRepository(services.db).record_issues(tenant_id=tenant.id, session_id=session_id, issues=exported)

    partly = me.get(f"/api/sessions/{session_id}/readiness").json()
    ExportRepository(services.db).record_issues(
        tenant_id=tenant.id, session_id=session_id, issues={tickets[-1].key: ("DTG-999", "19999")}
    )
    done = me.get(f"/api/sessions/{session_id}/readiness").json()
    done_panel = me.get(f"/api/sessions/{session_id}/panels/export").text
    assert me.delete(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv").status_code == 204
    stale = me.get(f"/api/sessions/{session_id}/readiness").json()
    review = me.get(f"/api/sessions/{session_id}/panels/review").text
    generate = me.get(f"/api/sessions/{session_id}/panels/generate").text

    # Only the ticket not in Jira yet is still to review; once all are there, nothing nags.
    [unreviewed] = [c for c in partly["checks"] if c["code"] == "unreviewed"]
    assert unreviewed["tickets"] == [tickets[-1].key]
    assert unreviewed["message"] == "1 of 1 tickets not in Jira yet are not marked reviewed yet."
    assert "unreviewed" not in {c["code"] for c in done["checks"]}
    assert "Nothing left to export: every ticket went to Jira" in done_panel
    assert "tickets are ready for Jira" not in done_panel
    # A changed file: the way to Jira is a revision, not another generation of the exported session.
    check = next(c for c in stale["checks"] if c["code"] == "drafts_out_of_date")
    assert check["blocking"] and "Revise this spec" in check["todo"] and "Generate again" not in check["todo"]
    for panel in (review, generate):
        banner = panel[panel.index('data-field="out-of-date"') :].split("</div>", 1)[0]
        assert 'data-action="revise"' in banner and "Generate again" not in banner


def test_the_readiness_list_names_tickets_by_title(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()
    tickets = me.get(f"/api/sessions/{session_id}/tickets").json()["tickets"]

    panel = me.get(f"/api/sessions/{session_id}/panels/export").text

    first = tickets[0]
    assert "tickets are not marked reviewed yet" in panel
    assert f'data-key="{first["key"]}">{first["title"]}</a>' in panel.replace("&#39;", "'")
    assert f">{first['key']}</a>" not in panel


def test_finding_counts_read_as_words_one_finding_and_many_warnings(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.generated_session()

    review = me.get(f"/api/sessions/{session_id}/panels/review").text
    upload = me.get(f"/api/sessions/{session_id}/panels/upload").text

    assert ">1 finding</span>" in review and ">1 findings<" not in review
    assert re.search(r">\d*[02-9] warnings</span>", upload) and not re.search(r">\d*[02-9] warning</span>", upload)


def test_a_setting_that_shapes_the_drafts_makes_them_out_of_date_and_the_export_waits(
    app_under_test: AppUnderTest,
) -> None:
    """The status mapping decides which rows become tickets and how; the existing-site setting what rows marked d
    remove. Drafts made before the admin changed either are out of date, with the setting named, in every session
    of the site that still has drafts to export, until "Generate again"; an exported session is left alone."""
    me = director(app_under_test)
    services = app_under_test.services
    drafting, exported = me.generated_session(), me.generated_session()
    installation = services.tenants.find(me.jira.client_key)
    assert installation is not None
    tenant_id = installation.id
    *first, last = services.tickets.list(tenant_id=tenant_id, session_id=exported)
    issues = {t.key: (f"DTG-{n}", str(n)) for n, t in enumerate(first, 1)}
    ExportRepository(services.db).record_issues(tenant_id=tenant_id, session_id=exported, issues=issues)
    legend = [{"status": code, "action": str(action)} for code, action in SPEC_TOOL_LEGEND.items()]

    def configure(**changes: object) -> None:
        """What the configure page's Save does (tests/web/test_admin.py drives the page itself)."""
        body = {"provider": "offline", "statusMapping": legend, "labels": [], **changes}
        save_settings(services, tenant_id=tenant_id, account_id="admin", form=SettingsForm.from_json(body))

    def out_of_date(session_id: int) -> str | None:
        checks = me.get(f"/api/sessions/{session_id}/readiness").json()["checks"]
        return next((c["message"] for c in checks if c["code"] == "drafts_out_of_date"), None)

    # The legend saved as it is, and labels (which the export adds itself): the drafts stay current.
    configure(labels=["drupal"])
    assert out_of_date(drafting) is None and out_of_date(exported) is None

    configure(statusMapping=[m | {"action": "build"} if m["status"] == "w" else m for m in legend])
    assert (
        out_of_date(drafting)
        == "The drafts are out of date: the status mapping changed after the tickets were generated."
    )
    # One ticket still to export: it would be drafted again; once every ticket is in Jira, a setting changes nothing.
    assert out_of_date(exported) == out_of_date(drafting)
    ExportRepository(services.db).record_issues(
        tenant_id=tenant_id, session_id=exported, issues={last.key: ("DTG-0", "0")}
    )
    assert out_of_date(exported) is None
    assert me.post(f"/api/sessions/{drafting}/export").status_code == 409 and app_under_test.queue.exports == []
    review = me.get(f"/api/sessions/{drafting}/panels/review").text
    generate = me.get(f"/api/sessions/{drafting}/panels/generate").text
    assert "the status mapping changed after they were generated, so the export waits" in review
    assert "the status mapping changed after the tickets were generated" in generate

    configure(statusMapping=[m | {"action": "build"} if m["status"] == "w" else m for m in legend], existingSite=True)
    assert "the status mapping and the existing-site setting changed" in (out_of_date(drafting) or "")

    again = me.post(f"/api/sessions/{drafting}/generate", json={"provider": "offline"})
    asyncio.run(run_generation(services, again.json()["taskId"], writer=build_writer(LLMConfig())))
    assert out_of_date(drafting) is None
    assert 'data-field="out-of-date"' not in me.get(f"/api/sessions/{drafting}/panels/review").text
