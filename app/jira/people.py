"""People by name: Jira display names for the account ids the app stores, cached per site.

Account ids are what Jira hands out and what we keep (who started a session, who edited a ticket); people read
names. `GET /user/bulk` answers up to 200 ids at once; an id Jira does not know (a deleted user) is left out.
@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-user-bulk-get
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import httpx
from cachetools import TTLCache

from app.domain.installation import Installation
from app.jira.client import JiraClient
from app.jira.errors import JiraError
from app.jira.models import JiraUser

MAX_PER_CALL = 200


class JiraPeopleClient(JiraClient):
    async def users(self, account_ids: list[str]) -> list[JiraUser]:
        """Raises: JiraError."""
        params = [("accountId", account_id) for account_id in account_ids] + [("maxResults", str(MAX_PER_CALL))]
        body = await self._call("GET", "/user/bulk", params=params)
        return [self._parse(JiraUser, item) for item in (body or {}).get("values") or []]


class DisplayNames:
    """Display names by (site, account id), remembered for `ttl_seconds`; a page of 100 audit lines asks Jira once.

    A name Jira cannot give (unknown id, Jira down) is not cached and falls back to the caller's default, so a
    page never fails because a name is missing.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        app_key: str,
        *,
        ttl_seconds: float = 600.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._app_key = app_key
        self._names: TTLCache[tuple[int, str], str] = TTLCache(maxsize=max_entries, ttl=ttl_seconds, timer=clock)

    async def names(self, installation: Installation, account_ids: Iterable[str | None]) -> dict[str, str]:
        """The display names Jira knows for these ids (missing ids are absent from the answer)."""
        wanted = sorted({account_id for account_id in account_ids if account_id})
        missing = [account_id for account_id in wanted if (installation.id, account_id) not in self._names]
        client = JiraPeopleClient(self._http, installation, self._app_key)
        for start in range(0, len(missing), MAX_PER_CALL):
            try:
                found = await client.users(missing[start : start + MAX_PER_CALL])
            except JiraError:  # a name is a nicety: the caller shows its default instead
                break
            for user in found:
                if user.display_name:
                    self._names[(installation.id, user.account_id)] = user.display_name
        return {
            account_id: self._names[(installation.id, account_id)]
            for account_id in wanted
            if (installation.id, account_id) in self._names
        }
