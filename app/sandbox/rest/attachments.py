"""Attachments: multipart upload guarded by Jira's XSRF header rule, the content download, and deletion."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sandbox.models import app_actor
from app.sandbox.rest.common import caller, issue_in_path, runtime_of
from app.sandbox.rest.errors import JiraRequestError
from app.sandbox.rest.representations import API, attachment_json


async def add_attachments(request: Request) -> Response:
    """`POST /issue/{issueIdOrKey}/attachments`, multipart field `file` (repeatable).

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-issue-issueidorkey-attachments-post
    """
    # Without this header Jira's XSRF protection refuses a multipart POST.
    if request.headers.get("x-atlassian-token") != "no-check":
        raise JiraRequestError(403, "XSRF check failed")
    runtime = runtime_of(request)
    issue = issue_in_path(request)
    async with request.form() as form:
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise JiraRequestError(400, "The request must contain at least one multipart field named 'file'.")
        added = [
            await runtime.store.add_attachment(
                issue,
                f.filename or "attachment",
                f.content_type or "application/octet-stream",
                await f.read(),
                app_actor(caller(request)),
            )
            for f in files
        ]
    return JSONResponse([attachment_json(a, runtime.config.public_url) for a in added])


async def attachment_content(request: Request) -> Response:
    """`GET /attachment/content/{id}`: with `redirect=false` the bytes themselves; otherwise, as Jira does, a 303 to
    where they are (its media store; here the issue view's download link).

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-attachment-content-id-get
    """
    runtime = runtime_of(request)
    attachment_id = request.path_params["id"]
    attachment = runtime.store.attachments.get(attachment_id)
    content = runtime.store.attachment_content(attachment_id)
    if attachment is None or content is None:
        raise JiraRequestError(404, f"The attachment with id '{attachment_id}' does not exist.")
    if request.query_params.get("redirect", "true").lower() != "false":
        return Response(
            status_code=303, headers={"Location": f"{runtime.config.public_url}/_sandbox/attachments/{attachment_id}"}
        )
    return Response(content, media_type=attachment.mime_type)


async def delete_attachment(request: Request) -> Response:
    """`DELETE /attachment/{id}`: 204, or 404 when there is no such attachment (deleted already).

    @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/#api-rest-api-3-attachment-id-delete
    """
    runtime = runtime_of(request)
    attachment = runtime.store.attachments.get(request.path_params["id"])
    # Looked for again under the store's lock: a concurrent DELETE of the same id (a retry) may take it first.
    if attachment is None or not await runtime.store.delete_attachment(attachment, app_actor(caller(request))):
        raise JiraRequestError(404, "The attachment with id '{}' does not exist.".format(request.path_params["id"]))
    return Response(status_code=204)


ROUTES = [
    (f"{API}/issue/{{issueIdOrKey}}/attachments", add_attachments, ["POST"]),
    (f"{API}/attachment/content/{{id}}", attachment_content, ["GET"]),
    (f"{API}/attachment/{{id}}", delete_attachment, ["DELETE"]),
]
