"""Iframe URLs for an app's modules, built as Jira builds them: context variables, Connect parameters, `jwt`.

@see https://developer.atlassian.com/cloud/jira/platform/context-parameters/
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from app.sandbox.models import Installation, Issue, Project, SandboxUser
from app.sandbox.tokens import iframe_token

CONNECT_VERSION = "1001.0.0-SNAPSHOT"
_VARIABLE = re.compile(r"\$?\{([\w.]+)\}")


@dataclass(frozen=True)
class Frame:
    """One module iframe of a page, and what the host script needs to answer its `AP` calls."""

    app_key: str
    module_type: str
    module_key: str
    src: str
    app_origin: str
    jira: dict[str, Any]


def substitute(template: str, variables: dict[str, str]) -> str:
    """Fill `{project.key}` (or the older `${project.key}`) variables; unknown ones become empty, as in Jira."""
    return _VARIABLE.sub(lambda match: quote(variables.get(match.group(1), ""), safe=""), template)


def module_url(module: dict[str, Any]) -> str | None:
    """A page module has `url`; an issue glance keeps it in `target.url`."""
    return module.get("url") or (module.get("target") or {}).get("url")


def origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def page_context(project: Project | None = None, issue: Issue | None = None) -> dict[str, Any]:
    """The `jira` part of a token's `context` claim for a page about a project and maybe an issue."""
    context: dict[str, Any] = {}
    if project is not None:
        context["project"] = {"key": project.key, "id": project.id}
    if issue is not None:
        context["issue"] = {"key": issue.key, "id": issue.id, "issuetype": {"id": issue.issuetype_id}}
    return context


def module_frame(
    installation: Installation,
    module_type: str,
    *,
    host_url: str,
    user: SandboxUser,
    project: Project | None = None,
    issue: Issue | None = None,
) -> Frame | None:
    """The signed iframe of the app's first module of `module_type`, or None if the app has none."""
    module = installation.module(module_type)
    template = module_url(module) if module else None
    if module is None or template is None:
        return None
    jira = page_context(project, issue)
    variables = {
        f"{entity}.{name}": value
        for entity, fields in jira.items()
        for name, value in fields.items()
        if isinstance(value, str)
    }
    if issue is not None:
        variables["issuetype.id"] = issue.issuetype_id

    url = substitute(template, variables)
    if not url.startswith(("http://", "https://")):
        url = installation.app_base_url.rstrip("/") + "/" + url.lstrip("/")
    module_key = str(module.get("key", module_type))
    connect_params = {
        "xdm_e": host_url,
        "xdm_c": f"channel-{installation.app_key}__{module_key}",
        "cp": "",
        "xdm_deprecated_addon_key_do_not_use": installation.app_key,
        "lic": "none",
        "cv": CONNECT_VERSION,
        "tz": "Europe/London",
        "loc": "en-GB",
    }
    url += ("&" if "?" in url else "?") + urlencode(connect_params, quote_via=quote)
    token = iframe_token(installation, url=url, user=user, jira=jira)
    return Frame(
        app_key=installation.app_key,
        module_type=module_type,
        module_key=module_key,
        src=f"{url}&jwt={token}",
        app_origin=origin_of(installation.app_base_url),
        jira=jira,
    )
