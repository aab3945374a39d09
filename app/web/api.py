"""The JSON API the pages call with context tokens; every lookup is scoped to the caller's tenant."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import NotFoundError


async def whoami(request: Request) -> Response:
    identity = request.state.identity
    return JSONResponse(
        {"accountId": identity.account_id, "siteUrl": identity.installation.display_url, "context": identity.context}
    )


async def task_status(request: Request) -> Response:
    services = request.state.services
    tenant_id = request.state.identity.installation.id
    task = await run_in_threadpool(services.tasks.get, request.path_params["task_id"], tenant_id=tenant_id)
    if task is None:
        raise NotFoundError("No such task in this Jira site.")
    return JSONResponse(
        {
            "id": task.id,
            "kind": task.kind,
            "state": task.state,
            "done": task.done,
            "total": task.total,
            "message": task.message,
        }
    )
