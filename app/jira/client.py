"""`JiraClient`: one method per Jira Cloud REST endpoint we call, signed as the app, answers parsed into models.

Every HTTP failure is translated here, once, into the `app.jira.errors` tree.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from app.domain.installation import Installation
from app.jira.auth import ConnectJWTAuth
from app.jira.errors import (
    JiraAuthError,
    JiraBadRequestError,
    JiraError,
    JiraNotFoundError,
    JiraRateLimitedError,
    JiraUnavailableError,
    describe,
)
from app.jira.models import (
    AttachmentRef,
    BulkCreateResult,
    BulkElementError,
    CreateMetaField,
    CreateMetaIssueType,
    FoundIssue,
    IssueLinkRef,
    JiraIssue,
    JiraModel,
    JiraProject,
    JiraUser,
    LinkType,
)
from app.jira.pacing import TenantPacer

API = "/rest/api/3"
Model = TypeVar("Model", bound=JiraModel)
SEARCH_PAGE_SIZE = 100
CREATE_META_PAGE_SIZE = 200


class JiraClient:
    """A tenant's Jira, called as the app (Connect JWT with `iss` = our app key, or a Forge bearer token).

    `pacer`, when given, is awaited before every request so a long export stays under the tenant's rate limit.
    `requests` and `rate_limited` count what was sent and how many answers were 429s.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        installation: Installation,
        app_key: str,
        *,
        pacer: TenantPacer | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        """`auth` replaces the Connect JWT for Forge tenants (bearer tokens; their `base_url` is the apiBaseUrl)."""
        self._http = http
        self._base_url = installation.base_url.rstrip("/")
        self._auth = auth or ConnectJWTAuth(
            app_key=app_key, shared_secret=installation.shared_secret, tenant_base_url=self._base_url
        )
        self._pacer = pacer
        self.requests = 0
        self.rate_limited = 0

    async def myself(self) -> JiraUser:
        """The app's own user. Raises: JiraError."""
        return self._parse(JiraUser, await self._call("GET", "/myself"))

    async def project(self, key: str) -> JiraProject:
        """Raises: JiraNotFoundError when the project does not exist or the app cannot see it; JiraError."""
        return self._parse(JiraProject, await self._call("GET", f"/project/{key}"))

    async def issue_link_types(self) -> list[LinkType]:
        """Raises: JiraError."""
        body = await self._call("GET", "/issueLinkType")
        return [self._parse(LinkType, item) for item in body.get("issueLinkTypes", [])]

    async def create_meta_issue_types(self, project_key: str) -> list[CreateMetaIssueType]:
        """The issue types a project offers for creating, through all pages.

        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-createmeta-projectidorkey-issuetypes-get

        Raises: JiraNotFoundError when the project does not exist or the app cannot see it; JiraError.
        """
        items = await self._offset_pages(f"/issue/createmeta/{project_key}/issuetypes", "issueTypes")
        return [self._parse(CreateMetaIssueType, item) for item in items]

    async def create_meta_fields(self, project_key: str, issue_type_id: str) -> list[CreateMetaField]:
        """The fields a create of that issue type takes in that project, through all pages.

        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-createmeta-projectidorkey-issuetypes-issuetypeid-get

        Raises: JiraNotFoundError; JiraError.
        """
        items = await self._offset_pages(f"/issue/createmeta/{project_key}/issuetypes/{issue_type_id}", "fields")
        return [self._parse(CreateMetaField, item) for item in items]

    async def _offset_pages(self, path: str, items_key: str) -> list[Any]:
        """Every item of a `startAt`/`maxResults`/`total` paged list (create-meta answers at most 200 a page)."""
        items: list[Any] = []
        while True:
            body = await self._call("GET", path, params={"startAt": len(items), "maxResults": CREATE_META_PAGE_SIZE})
            page = body.get(items_key) or []
            items += page
            if not page or len(items) >= int(body.get("total", 0)):
                return items

    async def bulk_create(self, issue_updates: list[dict[str, Any]]) -> BulkCreateResult:
        """Create up to 50 issues; refused elements come back in `errors`, the others are created.

        Jira answers 201 for a partial success and 400 when no element could be created; both are results here.
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulk-post

        Raises:
            JiraBadRequestError: the request as a whole was refused (no per-element errors).
            JiraUnavailableError: 5xx, timeout or cut connection; some issues may have been created.
            JiraError: any other failure.
        """
        try:
            body = await self._call("POST", "/issue/bulk", json={"issueUpdates": issue_updates})
        except JiraBadRequestError as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            if not body.get("errors") or not isinstance(body["errors"], list):
                raise
        errors = [
            BulkElementError(
                index=int(item.get("failedElementNumber", -1)),
                status=int(item.get("status", 400)),
                messages=list((item.get("elementErrors") or {}).get("errorMessages") or []),
                field_errors=dict((item.get("elementErrors") or {}).get("errors") or {}),
            )
            for item in body.get("errors", [])
        ]
        return self._parse(BulkCreateResult, {"issues": body.get("issues", []), "errors": errors})

    async def get_issue(self, key: str, *, fields: tuple[str, ...] = ("issuelinks", "attachment")) -> JiraIssue:
        """The issue's links and attachments. Raises: JiraNotFoundError; JiraError."""
        body = await self._call("GET", f"/issue/{key}", params={"fields": ",".join(fields)})
        found = body.get("fields") or {}
        links = issue_links(found)
        attachments = [self._parse(AttachmentRef, item) for item in found.get("attachment") or []]
        return JiraIssue(id=str(body.get("id")), key=str(body.get("key")), links=links, attachments=attachments)

    async def search_by_property(
        self, property_key: str, conditions: Mapping[str, str | Sequence[str]], *, fields: Sequence[str] = ()
    ) -> list[FoundIssue]:
        """Every issue whose indexed property values match all `conditions` (a string: `=`, a list: `IN`), with
        that property (and the `fields` asked for), through all pages (`nextPageToken`).

        Needs the app descriptor's `jiraEntityProperties` index on each path.
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post

        Raises:
            JiraBadRequestError: the JQL was refused (e.g. the property is not indexed).
            JiraError: any other failure.
        """
        clauses = []
        for name, value in conditions.items():
            path = f"issue.property[{property_key}].{name}"
            if isinstance(value, str):
                clauses.append(f"{path} = {_jql_string(value)}")
            else:
                clauses.append(f"{path} IN ({', '.join(_jql_string(v) for v in value)})")
        jql = " AND ".join(clauses) + " ORDER BY key ASC"
        request: dict[str, Any] = {"jql": jql, "maxResults": SEARCH_PAGE_SIZE, "properties": [property_key]}
        if fields:
            request["fields"] = list(fields)
        found: list[FoundIssue] = []
        while True:
            body = await self._call("POST", "/search/jql", json=request)
            found += [self._parse(FoundIssue, item) for item in body.get("issues", [])]
            token = body.get("nextPageToken")
            if body.get("isLast", True) or not token:
                return found
            request["nextPageToken"] = token

    async def add_attachment(self, key: str, filename: str, media_type: str, content: bytes) -> list[AttachmentRef]:
        """Attach one file to an issue.

        Jira refuses multipart uploads without `X-Atlassian-Token: no-check` (its XSRF protection).
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-issue-issueidorkey-attachments-post

        Raises:
            JiraUnavailableError: the file may or may not have been attached.
            JiraError: any other failure.
        """
        body = await self._call(
            "POST",
            f"/issue/{key}/attachments",
            files={"file": (filename, content, media_type)},
            headers={"X-Atlassian-Token": "no-check"},
        )
        return [self._parse(AttachmentRef, item) for item in body]

    async def attachment_content(self, attachment_id: str, *, limit: int) -> bytes:
        """The bytes of an attachment, at most `limit` + 1 of them: a caller comparing with content of `limit` bytes
        still sees a longer one differ, and a huge file is never held in memory.

        `redirect=false` has Jira answer with the bytes itself rather than a 303 to its media store, so this call,
        like every other, goes nowhere but the tenant's Jira (or the Forge API host).
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-attachment-content-id-get

        Raises:
            JiraNotFoundError: no such attachment.
            JiraError: any other failure.
        """
        path = f"/attachment/content/{attachment_id}"
        response = await self._send("GET", path, params={"redirect": "false"}, stream=True)
        received = bytearray()
        try:
            with _transport_errors("GET", path):
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) > limit:
                        break
        finally:
            await response.aclose()
        return bytes(received[: limit + 1])

    async def delete_attachment(self, attachment_id: str) -> None:
        """Remove an attachment from its issue (the DELETE scope, as for links); raises JiraNotFoundError when it is
        gone already, JiraError on any other failure.
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-attachment-id-delete
        """
        await self._call("DELETE", f"/attachment/{attachment_id}")

    async def create_link(self, type_id: str, *, inward_key: str, outward_key: str) -> None:
        """Link two issues. Jira reads the link as "<inward issue> <type's outward text> <outward issue>".

        So for Blocks, `inward_key` blocks `outward_key` (and `outward_key` "is blocked by" `inward_key`).
        @see https://developer.atlassian.com/cloud/jira/platform/issue-linking-model/

        Raises:
            JiraNotFoundError: an issue or the link type does not exist.
            JiraError: any other failure.
        """
        link = {"type": {"id": type_id}, "inwardIssue": {"key": inward_key}, "outwardIssue": {"key": outward_key}}
        await self._call("POST", "/issueLink", json=link)

    async def edit_issue(
        self,
        key: str,
        *,
        fields: Mapping[str, Any] | None = None,
        update: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Edit an issue: `fields` set, `update` operations (e.g. `{"labels": [{"add": "x"}]}`), issue properties set
        in the same request. Sending the same edit twice leaves the issue as once.
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put

        Raises:
            JiraBadRequestError: Jira refused a field (its message says which).
            JiraNotFoundError: no such issue.
            JiraError: any other failure.
        """
        body: dict[str, Any] = {}
        if fields:
            body["fields"] = dict(fields)
        if update:
            body["update"] = dict(update)
        if properties:
            body["properties"] = [{"key": name, "value": value} for name, value in properties.items()]
        await self._call("PUT", f"/issue/{key}", json=body)

    async def add_comment(self, key: str, body: dict[str, Any]) -> None:
        """Comment on an issue (an ADF body).
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-post

        Raises:
            JiraUnavailableError: the comment may or may not have been added.
            JiraError: any other failure.
        """
        await self._call("POST", f"/issue/{key}/comment", json={"body": body})

    async def comment_bodies(self, key: str) -> list[dict[str, Any]]:
        """The ADF bodies of an issue's comments, oldest first, through all pages. Raises: JiraError."""
        bodies: list[dict[str, Any]] = []
        while True:
            page = await self._call(
                "GET", f"/issue/{key}/comment", params={"startAt": len(bodies), "maxResults": SEARCH_PAGE_SIZE}
            )
            items = page.get("comments") or []
            bodies += [item.get("body") or {} for item in items]
            if not items or len(bodies) >= int(page.get("total", 0)):
                return bodies

    async def delete_link(self, link_id: str) -> None:
        """Remove an issue link (needs the descriptor's DELETE scope on Connect).
        @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-links/#api-rest-api-3-issuelink-linkid-delete

        Raises:
            JiraNotFoundError: no such link (already removed).
            JiraError: any other failure.
        """
        await self._call("DELETE", f"/issueLink/{link_id}")

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise JiraUnavailableError(f"Jira's answer to {method} {path} was not JSON.") from exc

    async def _send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """One paced request; a successful answer, or the error it translates to. Redirects are never followed.

        With `stream` the successful answer's body is left unread: read it inside `_transport_errors`, then close it.
        """
        if self._pacer is not None:
            await self._pacer.wait()
        self.requests += 1
        url = self._base_url + API + path
        with _transport_errors(method, path):
            if stream:
                request = self._http.build_request(method, url, **kwargs)
                response = await self._http.send(request, auth=self._auth, stream=True, follow_redirects=False)
            else:
                response = await self._http.request(method, url, auth=self._auth, follow_redirects=False, **kwargs)
            if response.status_code == 429:
                self.rate_limited += 1
            if response.is_success:
                return response
            await response.aread()  # read already unless streamed
        raise _translate(response, f"{method} {path}")

    @staticmethod
    def _parse(model: type[Model], data: Any) -> Model:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise JiraError(f"Unexpected answer from Jira ({model.__name__}): {exc.errors()[0]['msg']}") from exc


def issue_links(fields: Mapping[str, Any]) -> list[IssueLinkRef]:
    """An issue's `issuelinks` field, as seen from that issue."""
    return [
        IssueLinkRef(
            id=str(link.get("id")),
            type_name=str((link.get("type") or {}).get("name", "")),
            inward_issue_key=(link.get("inwardIssue") or {}).get("key"),
            outward_issue_key=(link.get("outwardIssue") or {}).get("key"),
        )
        for link in fields.get("issuelinks") or []
    ]


@contextlib.contextmanager
def _transport_errors(method: str, path: str) -> Iterator[None]:
    """A request, or the reading of its answer, that times out or loses its connection: JiraUnavailableError."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise JiraUnavailableError(f"Jira did not answer {method} {path} in time.") from exc
    except httpx.TransportError as exc:
        raise JiraUnavailableError(f"The connection to Jira failed during {method} {path}: {exc}") from exc


def _translate(response: httpx.Response, what: str) -> JiraError:
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    collection = body if isinstance(body, dict) else {}
    messages = [str(m) for m in collection.get("errorMessages") or []]
    raw_errors = collection.get("errors")
    field_errors = {str(k): str(v) for k, v in raw_errors.items()} if isinstance(raw_errors, dict) else {}
    reason = describe(messages, field_errors) if (messages or field_errors) else response.reason_phrase
    if status in (401, 403):
        return JiraAuthError(
            f"Jira refused the app's credentials ({status}: {reason}). The app may have been uninstalled or "
            "disabled, or its shared secret changed; a Jira admin can reinstall or re-enable it.",
            status=status,
        )
    if status == 404:
        return JiraNotFoundError(f"Jira found nothing at {what}: {reason}", status=status)
    if status == 429:
        return JiraRateLimitedError(
            f"Jira rate-limited {what}.", retry_after=_retry_after(response.headers.get("Retry-After"))
        )
    if status >= 500:
        return JiraUnavailableError(f"Jira failed on {what} ({status}: {reason}).", status=status)
    if status == 400:
        return JiraBadRequestError(
            f"Jira refused {what}: {reason}", messages=messages, field_errors=field_errors, body=body, status=status
        )
    return JiraError(f"Jira answered {status} to {what}: {reason}", status=status)


def _retry_after(header: str | None) -> float | None:
    """`Retry-After` is seconds or an HTTP date; None when absent or unreadable (the retry policy picks a wait)."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _jql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
