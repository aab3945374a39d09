"""The configure page's JSON API (Jira admins only) and the issue glance."""

from __future__ import annotations

from app.web.routing import SecuredRoute


def routes() -> list[SecuredRoute]:
    return []
