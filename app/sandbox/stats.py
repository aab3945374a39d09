"""Counters of what the REST API was asked and answered, so benchmarks can print "Jira requests made"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    unauthorized: int = 0
    issues_created: int = 0
    issues_updated: int = 0
    comments_added: int = 0
    links_deleted: int = 0
    deletes_refused: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": sum(self.requests.values()),
            "requestsByEndpoint": dict(sorted(self.requests.items())),
            "responsesByStatus": {str(status): count for status, count in sorted(self.statuses.items())},
            "rateLimited": self.rate_limited,
            "unauthorized": self.unauthorized,
            "faultsInjected": dict(self.faults),
            "issuesCreated": self.issues_created,
            "issuesUpdated": self.issues_updated,
            "commentsAdded": self.comments_added,
            "linksDeleted": self.links_deleted,
            "deletesRefused": self.deletes_refused,
        }
