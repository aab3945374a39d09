"""Is this person a Jira administrator? Asked of Jira as the app, answers cached briefly per site and account.

`GET /mypermissions` only describes the caller, which for a call signed as the app is the app's own bot user.
`POST /permissions/check` takes an `accountId`, and a Connect app calling from its server may ask it about any user.
@see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-permissions-check-post
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from app.domain.installation import Installation
from app.jira.client import JiraClient

ADMINISTER = "ADMINISTER"


class JiraPermissionsClient(JiraClient):
    """The permission calls, beside the export's `JiraClient` and sharing its signing and error translation."""

    async def global_permissions(self, account_id: str, keys: tuple[str, ...]) -> set[str]:
        """Which of the global permissions `keys` the account holds. Raises: JiraError."""
        body = await self._call(
            "POST", "/permissions/check", json={"globalPermissions": list(keys), "accountId": account_id}
        )
        return {str(key) for key in (body or {}).get("globalPermissions") or []}


class AdminCheck:
    """Answers "is this account a Jira admin of this site?", remembering each answer for `ttl_seconds`.

    The cache keeps page loads and the configure page's API calls fast; an admin who loses the right keeps it here
    for at most `ttl_seconds`. Failures are not cached, so the next request asks Jira again.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        app_key: str,
        *,
        ttl_seconds: float = 60.0,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._app_key = app_key
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._answers: dict[tuple[int, str], tuple[float, bool]] = {}

    async def is_admin(self, installation: Installation, account_id: str, *, auth: httpx.Auth | None = None) -> bool:
        """Raises: JiraError when Jira cannot answer (the caller must then refuse, not guess).

        `auth`: a Forge request's user token (Jira answers for that user); None signs as the Connect app.
        """
        key = (installation.id, account_id)
        now = self._clock()
        cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        client = JiraPermissionsClient(self._http, installation, self._app_key, auth=auth)
        answer = ADMINISTER in await client.global_permissions(account_id, (ADMINISTER,))
        if len(self._answers) >= self._max_entries:
            self._answers = {k: v for k, v in self._answers.items() if v[0] > now}
            if len(self._answers) >= self._max_entries:  # all fresh: a bounded memory beats a warm cache
                self._answers.clear()
        self._answers[key] = (now + self._ttl, answer)
        return answer
