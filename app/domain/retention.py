"""How long an upload session is kept: deleted this many days after its last activity.

The one statement of it: the clean-up (app/pipeline/retention.py) applies it, and the pages and API messages say it.
"""

from __future__ import annotations

SESSION_IDLE_DAYS = 7
