"""Response headers for pages Jira frames: no caching, no referrer leaks, framing only by the tenant's site."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.domain.installation import Installation
from app.settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def module_page_headers(installation: Installation, settings: Settings) -> dict[str, str]:
    ancestors = sorted({_origin(installation.base_url), _origin(installation.display_url), *settings.frame_ancestors})
    script_origin = _origin(settings.all_js_url)
    policy = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {script_origin}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {' '.join(ancestors)}",
        ]
    )
    return {
        "Cache-Control": "no-store",
        # The page URL carries Jira's JWT: never send it onwards in a Referer header.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
    }
