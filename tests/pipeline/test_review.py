"""Review use cases: edits guarded by versions, labels Jira accepts, links that never close a cycle, bulk changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest
from cryptography.fernet import Fernet

from app.db.audit import AuditRepository
from app.db.engine import create_db_engine, session_factory
from app.db.migrate import upgrade
from app.db.models import TicketRecord
from app.db.sessions import SessionRepository
from app.db.tenants import TenantRepository
from app.db.tickets import StaleTicketError, TicketRepository
from app.domain.installation import InstallPayload
from app.encryption import SecretBox
from app.pipeline import review
from app.pipeline.graph_view import layout, render_svg
from app.pipeline.ports import Actor
from tests.support import make_settings

pytestmark = [pytest.mark.unit, pytest.mark.db]

DIRECTOR = Actor("acc-director")


@dataclass
class Ports:
    tickets: TicketRepository
    sessions: SessionRepository
    audit: AuditRepository


@pytest.fixture
def tickets(tmp_path: Path) -> tuple[Ports, review.Scope]:
    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    db = session_factory(create_db_engine(settings.database_url))
    tenant = TenantRepository(db, SecretBox(Fernet.generate_key().decode())).save_installed(
        InstallPayload(client_key="c", shared_secret="s" * 40, base_url="https://x.atlassian.net")
    )
    assert tenant.id is not None
    upload = SessionRepository(db).create(tenant_id=tenant.id, project_key="DTG")
    ports = Ports(TicketRepository(db), SessionRepository(db), AuditRepository(db))
    drafts = [
        {"key": key, "title": f"Ticket {key}", "area": area, "action": "build", "blocked_by": blocked, "labels": []}
        for key, area, blocked in [
            ("a", "Content", []),
            ("b", "Content", ["a"]),
            ("c", "Views", ["b"]),
            ("d", "Views", []),
        ]
    ]
    ports.tickets.save_drafts(tenant_id=tenant.id, session_id=upload.id, drafts=drafts)
    return ports, review.Scope(tenant.id, upload.id)


def test_an_edit_bumps_the_version_and_a_stale_one_is_refused(tickets: tuple[Ports, review.Scope]) -> None:
    ports, scope = tickets
    edit = review.TicketEdit(title="  New   title ", markdown="| a | b |\n| - | - |\n| 1 | 2 |", labels=["x", "x", "y"])

    saved = review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=1, edit=edit)

    assert (saved.title, saved.version, saved.labels) == ("New title", 2, ["x", "y"])
    assert saved.description["content"][0]["type"] == "table"
    with pytest.raises(StaleTicketError):
        review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=1, edit=review.TicketEdit(title="Other"))


@pytest.mark.parametrize(
    "edit",
    [
        review.TicketEdit(title=""),
        review.TicketEdit(title="x" * 256),
        review.TicketEdit(labels=["two words"]),
        review.TicketEdit(markdown="- item\n\n  ```\n  code\n  ```\n\n  | a |\n  | - |\n  | b |"),
    ],
)
def test_edits_jira_would_refuse_are_not_stored(tickets: tuple[Ports, review.Scope], edit: review.TicketEdit) -> None:
    ports, scope = tickets

    with pytest.raises(review.InvalidEditError):
        review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=1, edit=edit)
    assert ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key="a").version == 1


def test_a_link_closing_a_cycle_is_refused_with_the_cycle_in_order(
    tickets: tuple[Ports, review.Scope],
) -> None:
    ports, scope = tickets

    with pytest.raises(review.LinkCycleError) as refused:
        review.add_link(ports, scope, DIRECTOR, key="a", blocked_by="c")
    linked = review.add_link(ports, scope, DIRECTOR, key="d", blocked_by="c")
    unlinked = review.remove_link(ports, scope, DIRECTOR, key="b", blocked_by="a")

    assert refused.value.cycle == ["a", "c", "b", "a"]
    assert linked.blocked_by == ["c"] and unlinked.blocked_by == []
    assert review.add_link(ports, scope, DIRECTOR, key="a", blocked_by="c").blocked_by == ["c"]


def test_bulk_changes_apply_to_the_latest_version_of_each_ticket(
    tickets: tuple[Ports, review.Scope],
) -> None:
    ports, scope = tickets
    review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=1, edit=review.TicketEdit(title="Edited"))

    labelled = review.bulk_label(ports, scope, DIRECTOR, keys=["a", "b"], add=["sprint-1"])
    unlabelled = review.bulk_label(ports, scope, DIRECTOR, keys=["a"], remove=["sprint-1"])
    assigned = review.bulk_assign(ports, scope, DIRECTOR, keys=["a", "b"], account_id="u1", name="Ann")
    excluded = review.set_excluded(ports, scope, DIRECTOR, keys=["c"], excluded=True)

    assert [t.labels for t in labelled] == [["sprint-1"], ["sprint-1"]] and unlabelled[0].labels == []
    assert labelled[0].title == "Edited"
    assert {(t.assignee_account_id, t.assignee_name) for t in assigned} == {("u1", "Ann")}
    assert excluded[0].excluded is True


def test_the_graph_puts_blockers_left_and_areas_in_lanes(tickets: tuple[Ports, review.Scope]) -> None:
    ports, scope = tickets
    found = ports.tickets.list(tenant_id=scope.tenant_id, session_id=scope.session_id)

    placed = layout(found)
    svg = str(render_svg(placed))

    assert placed.nodes["a"].x < placed.nodes["b"].x < placed.nodes["c"].x
    assert [lane[0] for lane in placed.lanes] == ["Content", "Views"]
    assert placed.nodes["c"].y >= placed.lanes[1][1]
    assert svg.count("class='dtg-node") == 4 and placed.cycles == []
    # People read titles: tooltips and labels name tickets, and each edge says which two it joins.
    assert "<title>Ticket b is blocked by Ticket a</title>" in svg
    assert "data-from='a' data-to='b'" in svg and "aria-label='Ticket b'" in svg and "role='button'" in svg


def test_a_link_that_closes_a_cycle_in_a_race_is_taken_back(
    tickets: tuple[Ports, review.Scope], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports, scope = tickets
    real = review._blocking_graph
    looks: list[str] = []

    def stale_first(records: list[TicketRecord]) -> nx.DiGraph:
        # The first look predates the other person's links (c waits for b, b for a).
        looks.append("stale" if not looks else "fresh")
        return nx.DiGraph() if len(looks) == 1 else real(records)

    monkeypatch.setattr(review, "_blocking_graph", stale_first)

    with pytest.raises(review.LinkCycleError):
        review.add_link(ports, scope, DIRECTOR, key="a", blocked_by="c")
    assert ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key="a").blocked_by == []
    assert looks == ["stale", "fresh"]


def test_an_edit_is_audited_with_the_fields_it_changed_not_every_field_the_editor_sent(
    tickets: tuple[Ports, review.Scope],
) -> None:
    ports, scope = tickets
    before = ports.tickets.get(tenant_id=scope.tenant_id, session_id=scope.session_id, key="a")
    sent = review.TicketEdit(
        title="A new title", labels=list(before.labels), on_hold=before.on_hold, excluded=before.excluded
    )
    review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=before.version, edit=sent)

    [event] = ports.audit.list_for_session(tenant_id=scope.tenant_id, session_id=scope.session_id)
    assert event.detail["fields"] == ["title"]


def test_each_review_step_is_audited_and_a_conflict_names_who_saved_first(tickets: tuple[Ports, review.Scope]) -> None:
    ports, scope = tickets
    review.edit_ticket(ports, scope, Actor("acc-other"), key="a", expected_version=1, edit=review.TicketEdit(title="X"))
    with pytest.raises(review.EditConflictError) as conflict:
        review.edit_ticket(ports, scope, DIRECTOR, key="a", expected_version=1, edit=review.TicketEdit(title="Mine"))
    review.add_link(ports, scope, DIRECTOR, key="d", blocked_by="c")
    review.remove_link(ports, scope, DIRECTOR, key="d", blocked_by="c")
    reviewed = review.set_reviewed(ports, scope, DIRECTOR, key="d", reviewed=True)
    review.bulk_label(ports, scope, DIRECTOR, keys=["a", "b"], add=["sprint-1"])
    review.bulk_assign(ports, scope, DIRECTOR, keys=["b"], account_id="u1", name="Ann")
    review.set_excluded(ports, scope, DIRECTOR, keys=["c"], excluded=True)

    assert (conflict.value.current.title, conflict.value.changed_by) == ("X", "acc-other")
    assert reviewed.reviewed_by == DIRECTOR.account_id
    events = ports.audit.list_for_session(tenant_id=scope.tenant_id, session_id=scope.session_id)
    assert [(e.action, e.account_id, e.detail) for e in reversed(events)] == [
        ("edited", "acc-other", {"ticket": "a", "fields": ["title"], "version": 2}),
        ("linked", DIRECTOR.account_id, {"ticket": "d", "blocked_by": "c"}),
        ("unlinked", DIRECTOR.account_id, {"ticket": "d", "blocked_by": "c"}),
        ("reviewed", DIRECTOR.account_id, {"ticket": "d"}),
        ("edited", DIRECTOR.account_id, {"bulk": "label", "tickets": ["a", "b"], "add": ["sprint-1"], "remove": []}),
        ("edited", DIRECTOR.account_id, {"bulk": "assign", "tickets": ["b"], "assignee": "u1"}),
        ("edited", DIRECTOR.account_id, {"bulk": "exclude", "tickets": ["c"]}),
    ]
