"""Review through the project page's API: tickets, edits with versions, links without cycles, bulk changes."""

from __future__ import annotations

import pytest

from tests.web.conftest import AppUnderTest
from tests.web.project import PROJECT, Director, director

pytestmark = [pytest.mark.unit, pytest.mark.web]


@pytest.fixture
def reviewed(app_under_test: AppUnderTest) -> tuple[Director, int, list[dict]]:
    me = director(app_under_test)
    session_id = me.generated_session()
    tickets = me.get(f"/api/sessions/{session_id}/tickets").json()["tickets"]
    return me, session_id, tickets


def test_tickets_render_as_jira_shows_them_with_their_markdown(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, tickets = reviewed
    key = next(t["key"] for t in tickets if "content type" in t["title"])

    ticket = me.get(f"/api/sessions/{session_id}/tickets/{key}").json()
    panel = me.get(f"/api/sessions/{session_id}/panels/tickets/{key}")
    review = me.get(f"/api/sessions/{session_id}/panels/review")

    assert len(tickets) > 50
    assert "<table>" in ticket["html"] and "| --- |" in ticket["markdown"]
    assert panel.status_code == 200 and f'data-version="{ticket["version"]}"' in panel.text
    assert review.status_code == 200 and "Content model" in review.text


def test_an_edit_saves_and_a_stale_version_gets_409_with_the_other_change(
    reviewed: tuple[Director, int, list[dict]],
) -> None:
    me, session_id, tickets = reviewed
    key, version = tickets[0]["key"], tickets[0]["version"]
    path = f"/api/sessions/{session_id}/tickets/{key}"

    edit = {"version": version, "title": "Build it", "markdown": "Hello **there**", "labels": ["a"]}
    saved = me.patch(path, json=edit)
    stale = me.patch(path, json={"version": version, "title": "Mine"})

    assert saved.status_code == 200
    assert saved.json()["version"] == version + 1 and saved.json()["title"] == "Build it"
    assert "<strong>there</strong>" in saved.json()["html"]
    assert stale.status_code == 409
    assert stale.json()["error"]["current"]["title"] == "Build it"
    overwrite = me.patch(path, json={"version": stale.json()["error"]["current"]["version"], "title": "Mine"})
    assert overwrite.status_code == 200 and overwrite.json()["title"] == "Mine"
    events = me.get(f"/api/sessions/{session_id}/audit").json()["events"]
    assert events[0]["action"] == "edited" and events[0]["detail"]["ticket"] == key


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "  "}, "needs a title"),
        ({"labels": ["has space"]}, "cannot contain spaces"),
        ({"markdown": "- item\n\n  | a |\n  | - |\n  | b |\n"}, "cannot be saved for Jira"),
        ({"onHold": "yes"}, "true or false"),
        ({}, None),
    ],
)
def test_edits_jira_would_refuse_get_400_with_what_to_fix(
    reviewed: tuple[Director, int, list[dict]], body: dict, message: str | None
) -> None:
    me, session_id, tickets = reviewed
    path = f"/api/sessions/{session_id}/tickets/{tickets[0]['key']}"
    response = me.patch(path, json={"version": 1, **body} if message else {"title": "no version"})

    assert response.status_code == 400
    assert (message or "version") in response.json()["error"]["message"]


def test_a_link_that_closes_a_cycle_is_refused_naming_the_cycle(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, tickets = reviewed
    blockers = {k for t in tickets for k in t["blockedBy"]}
    a, b, c = [t["key"] for t in tickets if not t["blockedBy"] and t["key"] not in blockers][:3]
    links = f"/api/sessions/{session_id}/tickets/{{}}/links"

    assert me.post(links.format(a), json={"blockedBy": b}).status_code == 200
    assert me.post(links.format(b), json={"blockedBy": c}).status_code == 200
    refused = me.post(links.format(c), json={"blockedBy": a})
    itself = me.post(links.format(a), json={"blockedBy": a})
    unknown = me.post(links.format(a), json={"blockedBy": "nope"})

    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["cycle"] == [c, a, b, c]
    assert " → ".join([c, a, b, c]) in refused.json()["error"]["message"]
    assert itself.status_code == 400 and unknown.status_code == 404
    removed = me.delete(f"/api/sessions/{session_id}/tickets/{b}/links/{c}")
    assert removed.status_code == 200 and c not in removed.json()["blockedBy"]
    assert me.post(links.format(c), json={"blockedBy": a}).status_code == 200
    actions = [e["action"] for e in me.get(f"/api/sessions/{session_id}/audit").json()["events"]]
    assert actions[:2] == ["linked", "unlinked"]


def test_bulk_label_assign_and_exclude(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, tickets = reviewed
    keys = [t["key"] for t in tickets[:3]]
    bulk = f"/api/sessions/{session_id}/bulk"

    labelled = me.post(bulk, json={"keys": keys, "action": "label", "add": ["sprint-1"]})
    assigned = me.post(bulk, json={"keys": keys, "action": "assign", "assignee": {"accountId": "u1", "name": "Ann"}})
    excluded = me.post(bulk, json={"keys": keys[:1], "action": "exclude"})
    refused = me.post(bulk, json={"keys": keys, "action": "label", "add": ["two words"]})

    assert all("sprint-1" in t["labels"] for t in labelled.json()["tickets"])
    assert all(t["assignee"] == {"accountId": "u1", "name": "Ann"} for t in assigned.json()["tickets"])
    assert excluded.json()["tickets"][0]["excluded"] is True
    assert refused.status_code == 400
    included = me.post(bulk, json={"keys": keys[:1], "action": "include"})
    assert included.json()["tickets"][0]["excluded"] is False
    assert me.post(bulk, json={"keys": [], "action": "exclude"}).status_code == 400


def test_the_dependency_graph_is_an_svg_with_every_ticket(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, tickets = reviewed

    svg = me.get(f"/api/sessions/{session_id}/graph.svg")
    panel = me.get(f"/api/sessions/{session_id}/panels/graph")

    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.count("class='dtg-node") == len(tickets)
    assert "dtg-edge-relates" in svg.text  # the UWEC bundle cycle, broken by "relates to" links
    assert panel.status_code == 200 and "<svg" in panel.text


def test_another_tenant_cannot_read_or_edit_the_tickets(
    app_under_test: AppUnderTest, reviewed: tuple[Director, int, list[dict]]
) -> None:
    _, session_id, tickets = reviewed
    stranger = director(app_under_test)
    path = f"/api/sessions/{session_id}/tickets/{tickets[0]['key']}"

    assert stranger.get(path).status_code == 404
    assert stranger.patch(path, json={"version": 1, "title": "x"}).status_code == 404
    assert stranger.get(f"/api/sessions/{session_id}/graph.svg").status_code == 404


def test_marking_reviewed_is_counted_per_area_and_readiness_warns_about_the_rest(
    reviewed: tuple[Director, int, list[dict]],
) -> None:
    me, session_id, tickets = reviewed
    first, second = tickets[0], tickets[1]
    path = f"/api/sessions/{session_id}/tickets"

    marked = me.put(f"{path}/{first['key']}/reviewed", json={"reviewed": True})
    me.put(f"{path}/{second['key']}/reviewed", json={"reviewed": True})
    taken_back = me.put(f"{path}/{second['key']}/reviewed", json={"reviewed": False})
    review = me.get(f"/api/sessions/{session_id}/panels/review").text
    ready = me.get(f"/api/sessions/{session_id}/readiness").json()

    assert marked.status_code == 200 and marked.json()["reviewed"] is True
    assert marked.json()["version"] == first["version"] + 1  # an open editor sees the mark as a change
    assert taken_back.json()["reviewed"] is False
    assert f"1 of {len(tickets)} reviewed" in review
    in_area = [t for t in tickets if t["area"] == first["area"]]
    assert f"1 of {len(in_area)} reviewed" in review
    warning = next(c for c in ready["checks"] if c["code"] == "unreviewed")
    assert ready["ready"] is True and warning["blocking"] is False
    assert first["key"] not in warning["tickets"] and second["key"] in warning["tickets"]
    assert f"{len(tickets) - 1} of {len(tickets)} tickets are not marked reviewed" in warning["message"]
    events = me.get(f"/api/sessions/{session_id}/audit").json()["events"]
    assert [e["action"] for e in events[:2]] == ["unreviewed", "reviewed"]


@pytest.mark.parametrize("body", [{}, {"reviewed": "yes"}, {"reviewed": None}])
def test_a_reviewed_mark_must_be_true_or_false(reviewed: tuple[Director, int, list[dict]], body: dict) -> None:
    me, session_id, tickets = reviewed
    answer = me.put(f"/api/sessions/{session_id}/tickets/{tickets[0]['key']}/reviewed", json=body)
    after = me.get(f"/api/sessions/{session_id}/tickets/{tickets[0]['key']}").json()
    assert answer.status_code == 400 and "true or false" in answer.json()["error"]["message"]
    assert after["reviewed"] is False and after["version"] == tickets[0]["version"]


def test_a_reviewed_mark_on_an_unknown_ticket_is_404(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, _ = reviewed
    answer = me.put(f"/api/sessions/{session_id}/tickets/no-such-ticket/reviewed", json={"reviewed": True})
    assert answer.status_code == 404


def test_panels_come_as_json_for_a_front_that_asks_for_json(reviewed: tuple[Director, int, list[dict]]) -> None:
    me, session_id, tickets = reviewed
    as_json = me.get(f"/api/sessions/{session_id}/panels/review", headers={"Accept": "application/json"})
    as_html = me.get(f"/api/sessions/{session_id}/panels/review", headers={"Accept": "text/html"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["html"] == as_html.text
    assert tickets[0]["title"] in as_json.json()["html"]


def test_a_conflict_names_who_saved_the_ticket_meanwhile(
    reviewed: tuple[Director, int, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    me, session_id, tickets = reviewed
    key, version = tickets[0]["key"], tickets[0]["version"]
    path = f"/api/sessions/{session_id}/tickets/{key}"
    names = {"pat-account": "Pat Developer"}

    async def display_names(installation: object, account_ids: list[str | None]) -> dict[str, str]:
        return {a: names[a] for a in account_ids if a in names}

    monkeypatch.setattr(me.app.services.display_names, "names", display_names)
    pat = {"Authorization": f"JWT {me.jira.context_token(context=PROJECT, sub='pat-account')}"}
    assert me.patch(path, json={"version": version, "title": "Pat's title"}, headers=pat).status_code == 200
    by_pat = me.patch(path, json={"version": version, "title": "Mine"})
    assert me.patch(path, json={"version": version + 1, "title": "Mine"}).status_code == 200
    by_me = me.patch(path, json={"version": version + 1, "title": "From my other tab"})

    assert by_pat.status_code == 409 and by_pat.json()["error"]["current"]["changedBy"] == "Pat Developer"
    assert by_me.status_code == 409 and by_me.json()["error"]["current"]["changedBy"] == "you"
