"""The project page's JSON API: upload sessions, files, findings, generation, review and export."""

from __future__ import annotations

from app.web.routing import SecuredRoute


def routes() -> list[SecuredRoute]:
    return []
