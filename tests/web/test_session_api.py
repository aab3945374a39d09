"""Upload sessions through the project page's API: open, list, resume, upload within limits, file types, panels."""

from __future__ import annotations

import io

import openpyxl
import pytest

from app.pipeline.intake import LIMITS
from tests.support import UWEC
from tests.web.conftest import AppUnderTest
from tests.web.project import PROJECT, director

pytestmark = [pytest.mark.unit, pytest.mark.web]


def test_sessions_are_listed_newest_first_with_their_stage_and_expiry(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    first, second = me.new_session(), me.new_session()
    me.upload_uwec(first)

    listed = me.get("/api/sessions").json()

    assert [s["id"] for s in listed["sessions"]] == [first, second]
    assert listed["sessions"][0]["stage"] == "validate"
    assert listed["retentionDays"] == 7
    assert listed["sessions"][0]["expiresAt"] > listed["sessions"][0]["lastActivityAt"]


def test_a_session_of_another_tenant_or_project_is_not_found(app_under_test: AppUnderTest) -> None:
    owner, stranger = director(app_under_test), director(app_under_test)
    session_id = owner.new_session()

    assert stranger.get(f"/api/sessions/{session_id}").status_code == 404
    assert stranger.get(f"/api/sessions/{session_id}/panels/upload").status_code == 404
    other_project = {"jira": {"project": {"key": "OTHER", "id": "2"}}}
    response = app_under_test.client.get(f"/api/sessions/{session_id}", headers=owner.headers(other_project))
    assert response.status_code == 404
    assert stranger.get("/api/sessions").json()["sessions"] == []


def test_the_api_refuses_module_tokens_and_calls_without_a_project(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    iframe_url = me.jira.signed_path("/api/sessions")

    assert app_under_test.client.get(iframe_url).status_code == 401
    assert app_under_test.client.get("/api/sessions", headers=me.headers(project=None)).status_code == 400


def test_uploading_the_uwec_export_stores_every_file_and_reports_types(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()

    stored = me.upload_uwec(session_id)
    report = me.get(f"/api/sessions/{session_id}/intake").json()

    assert stored.status_code == 201
    assert stored.json()["stored"] == sorted(p.name for p in UWEC.glob("*.csv"))
    assert report["blocking"] is False
    assert {f["kind"] for f in report["files"]} >= {"bundles", "fields", "views"}
    panel = me.get(f"/api/sessions/{session_id}/panels/upload")
    assert panel.status_code == 200 and "UWEC_Fields.csv" in panel.text and "% sure" in panel.text
    # Each file's confidence and, where another kind came close, the runner-up are shown.
    transitions = next(f for f in report["files"] if f["name"] == "UWEC_Workflowtransitions.csv")
    assert (transitions["confidence"], transitions["runner_up"]) == (1.0, "workflow_states")
    assert "100% sure" in panel.text and "runner-up: workflow states" in panel.text


def test_an_oversized_upload_is_refused_with_413_before_it_is_stored(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    big = b"ID,Name\n" + b"x" * (LIMITS.max_file_bytes + 10)

    one_file = me.post(f"/api/sessions/{session_id}/files", files=[("files", ("big.csv", big, "text/csv"))])
    whole_body = me.post(
        f"/api/sessions/{session_id}/files",
        files=[("files", (f"f{n}.csv", big, "text/csv")) for n in range(26)],
    )

    assert one_file.status_code == 413
    assert "2,097,152" in one_file.json()["error"]["message"]
    assert whole_body.status_code == 413
    assert "50 MB in all" in whole_body.json()["error"]["message"]
    assert me.get(f"/api/sessions/{session_id}/intake").json()["files"] == []


def test_an_upload_that_is_not_multipart_is_refused_with_415(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()

    response = me.post(
        f"/api/sessions/{session_id}/files", content=b"ID,Name\n1,x\n", headers={"Content-Type": "text/csv"}
    )
    empty = me.post(f"/api/sessions/{session_id}/files", files=[("other", ("a.txt", b"", "text/plain"))])

    assert response.status_code == 415
    assert empty.status_code == 400


def test_a_file_type_can_be_overridden_and_a_file_replaced_or_removed(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    overridden = me.put(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv/kind", json={"kind": "menus"})
    unknown = me.put(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv/kind", json={"kind": "nonsense"})
    not_json = me.put(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv/kind", content=b"kind=menus")
    files = {f["name"]: f for f in me.get(f"/api/sessions/{session_id}/intake").json()["files"]}
    assert overridden.status_code == 200 and files["UWEC_Userroles.csv"]["kind"] == "menus"
    assert unknown.status_code == 400 and "Unknown file type" in unknown.json()["error"]["message"]
    assert not_json.status_code == 415

    removed = me.delete(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv")
    again = me.delete(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv")
    names = [f["name"] for f in me.get(f"/api/sessions/{session_id}/intake").json()["files"]]
    assert removed.status_code == 204 and again.status_code == 400
    assert "UWEC_Userroles.csv" not in names


def test_a_file_without_its_key_column_blocks_and_the_panel_says_what_to_fix(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.post(f"/api/sessions/{session_id}/files", files=[("files", ("mystery.csv", b"Foo,Bar\n1,2\n", "text/csv"))])

    report = me.get(f"/api/sessions/{session_id}/intake").json()
    panel = me.get(f"/api/sessions/{session_id}/panels/upload").text
    generate = me.post(f"/api/sessions/{session_id}/generate", json={})

    assert report["blocking"] is True
    assert "blocking problem" in panel and "upload it here" in panel
    assert generate.status_code in (400, 409, 422)
    assert "error" in generate.json()


def test_the_project_page_and_the_sessions_panel_render(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    me.new_session()

    page = app_under_test.client.get(me.jira.signed_path("/jira/project?projectKey=DTG&projectId=10000"))
    panel = me.get("/api/panels/sessions")

    assert page.status_code == 200 and "project.js" in page.text and "<script>" not in page.text
    assert panel.status_code == 200 and "kept 7 days" in panel.text and "Resume" in panel.text


def test_the_audit_trail_records_opening_and_uploading(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    events = me.get(f"/api/sessions/{session_id}/audit").json()["events"]
    panel = me.get(f"/api/sessions/{session_id}/panels/activity")

    assert [e["action"] for e in events] == ["uploaded", "opened"]
    assert events[0]["accountId"] == "5b10ac8d8" and "UWEC_Fields.csv" in events[0]["detail"]["files"]
    assert panel.status_code == 200 and "uploaded" in panel.text


def test_project_context_comes_from_the_token_not_the_url(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()

    listed = app_under_test.client.get("/api/sessions?projectKey=OTHER", headers=me.headers(PROJECT))

    assert [s["id"] for s in listed.json()["sessions"]] == [session_id]
    assert listed.json()["sessions"][0]["projectKey"] == "DTG"


def test_sessions_are_named_after_their_files_with_the_stage_their_data_shows(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    drafted, empty = me.generated_session(), me.new_session()

    listed = {s["id"]: s for s in me.get("/api/sessions").json()["sessions"]}
    panel = me.get("/api/panels/sessions").text

    assert listed[drafted]["name"] == "UWEC spec" and listed[drafted]["files"] == 11
    assert listed[empty]["name"] == f"Session {empty} (no files yet)" and listed[empty]["files"] == 0
    assert "UWEC spec" in panel and "In review" in panel and "by you" in panel
    assert "Checking files" not in panel  # the stored stage says so after a re-check; the drafts say review


def test_a_deleted_session_is_gone_with_its_files_and_tickets(app_under_test: AppUnderTest) -> None:
    me, stranger = director(app_under_test), director(app_under_test)
    kept, deleted = me.new_session(), me.generated_session()

    refused = stranger.delete(f"/api/sessions/{deleted}")
    answer = me.delete(f"/api/sessions/{deleted}")

    assert refused.status_code == 404
    assert answer.status_code == 204
    assert me.get(f"/api/sessions/{deleted}").status_code == 404
    assert me.get(f"/api/sessions/{deleted}/tickets").status_code == 404
    assert [s["id"] for s in me.get("/api/sessions").json()["sessions"]] == [kept]
    assert me.delete(f"/api/sessions/{deleted}").status_code == 404


def test_a_workbook_upload_lists_its_tabs_and_is_removed_whole(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    book = openpyxl.Workbook()
    book.active.title = "User roles"
    for line in (UWEC / "UWEC_Userroles.csv").read_text("utf-8").splitlines():
        book.active.append(line.split(","))
    book.create_sheet("Overview").append(["Specification", "Done"])
    buffer = io.BytesIO()
    book.save(buffer)
    stored = me.post(f"/api/sessions/{session_id}/files", files=[("files", ("spec.xlsx", buffer.getvalue()))])
    assert stored.status_code == 201 and stored.json()["stored"] == ["spec.xlsx"]
    files = {f["name"]: f for f in me.get(f"/api/sessions/{session_id}/intake").json()["files"]}
    assert files["spec.xlsx [User roles]"]["kind"] == "roles" and files["spec.xlsx [User roles]"]["workbook"]
    panel = me.get(f"/api/sessions/{session_id}/panels/upload").text
    assert 'data-action="remove-file" data-name="spec.xlsx [User roles]"' not in panel  # a tab is no stored file
    assert 'data-action="remove-file" data-name="spec.xlsx"' in panel
    assert me.delete(f"/api/sessions/{session_id}/files/spec.xlsx").status_code == 204
    assert me.get(f"/api/sessions/{session_id}/intake").json()["files"] == []


def test_a_typed_name_replaces_the_one_from_the_files_until_it_is_cleared(app_under_test: AppUnderTest) -> None:
    me, stranger = director(app_under_test), director(app_under_test)
    session_id = me.new_session()
    me.upload_uwec(session_id)

    renamed = me.patch(f"/api/sessions/{session_id}", json={"name": "  Eau Claire rebuild, phase 1 "})
    listed = me.get("/api/panels/sessions").text
    too_long = me.patch(f"/api/sessions/{session_id}", json={"name": "x" * 121})
    not_theirs = stranger.patch(f"/api/sessions/{session_id}", json={"name": "Mine"})
    cleared = me.patch(f"/api/sessions/{session_id}", json={"name": ""})

    assert renamed.status_code == 200 and renamed.json()["name"] == "Eau Claire rebuild, phase 1"
    assert "Eau Claire rebuild, phase 1" in listed
    assert too_long.status_code == 400 and "name" in too_long.json()["error"]["message"]
    assert not_theirs.status_code == 404
    assert cleared.json()["name"] == "UWEC spec" and cleared.json()["typedName"] is None
    events = me.get(f"/api/sessions/{session_id}/audit").json()["events"]
    assert [e["detail"]["name"] for e in events if e["action"] == "renamed"] == [None, "Eau Claire rebuild, phase 1"]


def test_a_workbook_tab_type_is_set_kept_and_validated_again(app_under_test: AppUnderTest) -> None:
    me = director(app_under_test)
    session_id = me.new_session()
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"  # a name that says nothing, and headers that fit several kinds
    for row in (["Name", "Machine name", "X"], ["Main navigation", "main-navigation", "a"]):
        book.active.append(row)
    book.create_sheet("Overview").append(["Specification", "Done"])
    buffer = io.BytesIO()
    book.save(buffer)
    me.post(f"/api/sessions/{session_id}/files", files=[("files", ("spec.xlsx", buffer.getvalue()))])
    tab = f"/api/sessions/{session_id}/files/spec.xlsx%20%5BSheet1%5D/kind"

    def report() -> dict[str, dict[str, object]]:
        return {f["name"]: f for f in me.get(f"/api/sessions/{session_id}/intake").json()["files"]}

    guessed = report()["spec.xlsx [Sheet1]"]
    assert me.put(tab, json={"kind": "menus"}).json() == {"name": "spec.xlsx [Sheet1]", "kind": "menus"}
    # Kept with the workbook and read again: the tab is now the menus file, and the menu name's hyphen is fine there.
    menus = report()["spec.xlsx [Sheet1]"]
    assert (menus["kind"], menus["basis"], menus["used"]) == ("menus", "override", True)
    assert guessed["kind"] != "menus" or guessed["basis"] != "override"
    panel = me.get(f"/api/sessions/{session_id}/panels/upload").text
    assert '<select class="dtg-kind" data-name="spec.xlsx [Sheet1]"' in panel
    assert '<option value="menus" selected>' in panel and "set by you" in panel
    # Another tab of the same workbook can be set too; the first keeps its type.
    overview = f"/api/sessions/{session_id}/files/spec.xlsx%20%5BOverview%5D/kind"
    assert me.put(overview, json={"kind": "roles"}).is_success
    both = report()
    assert (both["spec.xlsx [Sheet1]"]["kind"], both["spec.xlsx [Overview]"]["kind"]) == ("menus", "roles")
    audit = [e for e in me.get(f"/api/sessions/{session_id}/audit").json()["events"] if e["action"] == "file_type_set"]
    assert [e["detail"]["file"] for e in audit] == ["spec.xlsx [Overview]", "spec.xlsx [Sheet1]"]  # newest first
    # Back to detection, and no such tab.
    assert me.put(tab, json={"kind": None}).is_success and report()["spec.xlsx [Sheet1]"]["basis"] != "override"
    missing = me.put(f"/api/sessions/{session_id}/files/spec.xlsx%20%5BNope%5D/kind", json={"kind": "menus"})
    assert missing.status_code == 400 and "No file or workbook tab named spec.xlsx [Nope]" in missing.text
    # A new upload of the workbook is recognised afresh, as a replaced CSV file is.
    me.post(f"/api/sessions/{session_id}/files", files=[("files", ("spec.xlsx", buffer.getvalue()))])
    assert report()["spec.xlsx [Overview]"]["basis"] != "override"


def test_the_sessions_list_says_when_an_exported_sessions_spec_changed_after_its_export(
    app_under_test: AppUnderTest,
) -> None:
    me = director(app_under_test)
    changed, kept, drafted = me.generated_session(), me.generated_session(), me.generated_session()
    me.mark_in_jira(changed, me.tickets(changed))
    me.mark_in_jira(kept, me.tickets(kept), first=1000)
    before = me.get("/api/panels/sessions").text
    for session_id in (changed, drafted):
        assert me.delete(f"/api/sessions/{session_id}/files/UWEC_Userroles.csv").status_code == 204
    after = me.get("/api/panels/sessions").text

    def row(panel: str, session_id: int) -> str:
        return panel[panel.index(f'data-session-row="{session_id}"') :].split("</tr>", 1)[0]

    assert "spec-changed" not in before
    assert "Exported" in row(after, changed) and "· spec changed since" in row(after, changed)
    assert "Exported" in row(after, kept) and "spec-changed" not in row(after, kept)
    # Not in Jira: its own banners say the drafts are out of date, and the list stays as it was.
    assert "In review" in row(after, drafted) and "spec-changed" not in row(after, drafted)
