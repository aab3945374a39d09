"""How long a description is as Jira counts it against its 32,767-character limit; one rule for app and sandbox.

Atlassian documents the limit (JRACLOUD-78553: a v3 create whose description exceeds 32,767 characters fails with
CONTENT_LIMIT_EXCEEDED) but not what is counted for an ADF document; the rich-text field stores the document as
serialised JSON, so we count the JSON as we send it: compact separators and unescaped non-ASCII, which is how
httpx serialises a request body (`json.dumps(..., ensure_ascii=False, separators=(",", ":"))`).
"""

from __future__ import annotations

import json
from typing import Any

from app.domain.jira_limits import DESCRIPTION_MAX

MAX_DESCRIPTION = DESCRIPTION_MAX


def description_size(document: dict[str, Any]) -> int:
    """The characters of the description's JSON as the request carries it."""
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
