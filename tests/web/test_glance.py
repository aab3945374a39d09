"""The issue glance: what our export knows about an issue it created, and nothing for any other issue."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.db.models import TicketRecord
from tests.web.conftest import AppUnderTest, Jira

pytestmark = [pytest.mark.unit, pytest.mark.web]

DIRECTOR = "5b10ac8d82e05b22cc7d4ef5"
FINDING = {
    "code": "unknown_reference",
    "severity": "warning",
    "message": "The field refers to the bundle 'Landing page', which does not exist.",
    "suggestion": "did you mean Landing Page?",
    "file": "fields.csv",
    "record": 12,
}


def glance_path(issue_key: str) -> str:
    return f"/jira/glance?issueKey={issue_key}&issueId=10001&projectKey=DTG"


def exported(app: AppUnderTest, jira: Jira, tickets: list[dict[str, Any]]) -> None:
    """Store an exported session: `tickets` are TicketRecord fields (key, title, jira_key, blocked_by, ...)."""
    installation = app.services.tenants.find(jira.client_key)
    assert installation is not None
    upload = app.services.sessions.create(tenant_id=installation.id, project_key="DTG", created_by=DIRECTOR)
    with app.services.db() as session:
        for fields in tickets:
            session.add(
                TicketRecord(
                    tenant_id=installation.id, session_id=upload.id, area="Content model", action="build", **fields
                )
            )
        session.commit()


@pytest.fixture
def site(app_under_test: AppUnderTest) -> Jira:
    jira = app_under_test.jira()
    jira.install()
    exported(
        app_under_test,
        jira,
        [
            {
                "key": "bundle:node:program",
                "title": "Content model: Build Academic Program content type (3 fields)",
                "jira_key": "DTG-7",
                "blocked_by": ["workflow:marketing"],
                "source": [{"file": "fields.csv", "record": r} for r in (12, 13, 14, 20)]
                + [{"file": "bundles.csv", "record": 3}],
                "findings": [FINDING],
            },
            {"key": "workflow:marketing", "title": "Workflows: Build Marketing workflow", "jira_key": "DTG-3"},
            {
                "key": "view:programs",
                "title": "Views: Build Programs view",
                "jira_key": "DTG-9",
                "blocked_by": ["bundle:node:program"],
            },
            {"key": "view:draft", "title": "Views: Build Draft view", "blocked_by": ["bundle:node:program"]},
        ],
    )
    return jira


def test_an_exported_issue_shows_its_source_links_findings_and_session(
    app_under_test: AppUnderTest, site: Jira
) -> None:
    response = app_under_test.client.get(site.signed_path(glance_path("DTG-7")))

    assert response.status_code == 200
    page = response.text
    assert '<span class="dtg-file">fields.csv</span>' in page and "12–14, 20" in page
    assert '<span class="dtg-file">bundles.csv</span>' in page
    browse = "https://tenant-a.atlassian.net/browse/"
    blocked_by, blocks = page.split("<dt>Blocked by</dt>")[1].split("<dt>Blocks</dt>")
    assert f'<a href="{browse}DTG-3" target="_top"' in blocked_by
    assert f'<a href="{browse}DTG-9" target="_top"' in blocks and "Build Draft view (not exported)" in blocks
    assert "DTG-3" not in blocks and "DTG-9" not in blocked_by
    assert "which does not exist." in page and "did you mean Landing Page?" in page and "warning" in page
    assert re.search(r"session “Session \d+ \(no files yet\)” in DTG", page)  # named as the project page names it
    # People read names, not account ids; this test's Jira does not answer /user/bulk, so a neutral phrase stands.
    assert DIRECTOR not in page and "started by a Jira user (name unavailable)" in page
    assert "<script>" not in page  # the CSP forbids inline scripts
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_an_issue_the_app_did_not_create_has_nothing_to_show(app_under_test: AppUnderTest, site: Jira) -> None:
    response = app_under_test.client.get(site.signed_path(glance_path("DTG-1")))

    assert response.status_code == 200
    assert "Nothing to show: DTG-1 was not created from a Drupal spec" in response.text
    assert "dtg-facts" not in response.text


def test_a_ticket_of_another_tenant_with_the_same_key_stays_hidden(app_under_test: AppUnderTest, site: Jira) -> None:
    other = app_under_test.jira(base_url="https://tenant-b.atlassian.net")
    other.install()

    response = app_under_test.client.get(other.signed_path(glance_path("DTG-7")))

    assert response.status_code == 200
    assert "Nothing to show" in response.text
    assert "Academic Program" not in response.text and "fields.csv" not in response.text
