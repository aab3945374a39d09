"""Jira calls the review needs beside the export's: the people an issue of a project can be assigned to.

Kept apart from `client.py` (the export's adapter) so the two can change independently; it reuses its signing,
pacing and error translation by extending `JiraClient`.
"""

from __future__ import annotations

from app.jira.client import JiraClient
from app.jira.models import JiraUser

MAX_USERS = 100


class ReviewJiraClient(JiraClient):
    async def assignable_users(self, project_key: str, query: str = "") -> list[JiraUser]:
        """People who can be assigned issues in the project, optionally filtered by name. Raises: JiraError.

        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-user-search/#api-rest-api-3-user-assignable-search-get
        """
        params = {"project": project_key, "maxResults": str(MAX_USERS)}
        if query:
            params["query"] = query
        body = await self._call("GET", "/user/assignable/search", params=params)
        return [self._parse(JiraUser, item) for item in body or [] if item.get("active", True)]
