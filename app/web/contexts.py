"""Typed template contexts, one per page, so handlers pass objects and not loose dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from starlette.requests import Request

from app.intake.status import SPEC_TOOL_LEGEND
from app.llm.providers import PROVIDERS, ProviderInfo
from app.pipeline.configuration import ACTIONS, SettingsView
from app.pipeline.glance import IssueGlance


@dataclass(frozen=True)
class PageContext:
    title: str
    all_js_url: str
    site_url: str
    account_id: str | None
    project_key: str | None
    issue_key: str | None

    @classmethod
    def from_request(cls, request: Request, *, title: str) -> Self:
        identity = request.state.identity
        params = request.query_params
        return cls(
            title=title,
            all_js_url=request.state.services.settings.all_js_url,
            site_url=identity.installation.display_url,
            account_id=identity.account_id,
            project_key=params.get("projectKey"),
            issue_key=params.get("issueKey"),
        )


@dataclass(frozen=True)
class GlancePage(PageContext):
    """The issue glance; `glance` is None when the issue did not come from our export."""

    glance: IssueGlance | None = None
    # Jira display names of the account ids the glance names (who started the generation).
    names: dict[str, str] = field(default_factory=dict)
    # The session's name as the project page shows it ("UWEC spec", or the one the director typed).
    session_name: str = ""


@dataclass(frozen=True)
class ConfigurePage(PageContext):
    settings: SettingsView | None = None
    providers: tuple[ProviderInfo, ...] = tuple(PROVIDERS.values())
    actions: tuple[str, ...] = ACTIONS
    # What "Reset to the legend" restores in the status table.
    legend: tuple[tuple[str, str], ...] = tuple((code, str(action)) for code, action in SPEC_TOOL_LEGEND.items())
