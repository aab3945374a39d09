"""Generation from the project page: provider choice and cost estimate, start, cancel, and live task progress.

Progress is a server-sent event stream read with fetch() (the context token must travel in a header, which
EventSource cannot send); every event carries the whole current state, so a reconnect shows where the task is,
never a restart. `GET /api/tasks/{id}` is the polling fallback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.db.models import ACTIVE_TASK_STATES, Task
from app.offload import offload
from app.pipeline import tasks
from app.pipeline.generation import acceptance_feature, estimate, generate_tickets
from app.pipeline.providers import choices, choose
from app.pipeline.queries import find_task
from app.web import body_schemas
from app.web.routing import Auth, SecuredRoute
from app.web.scope import actor, json_body, project_key, scope_of, services, stored_id, tenant_id, upload_session

POLL_SECONDS = 0.5
# A stream ends after this long even if the task does not; the page reconnects and carries on.
STREAM_SECONDS = 300


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state,
        "done": task.done,
        "total": task.total,
        "current": task.current,
        "message": task.message,
        "detail": task.detail,
        "active": task.state in ACTIVE_TASK_STATES,
        "cancelRequested": task.cancel_requested,
    }


async def _task(request: Request) -> Task:
    """The task named in the path, if its session belongs to the caller's tenant and project. Raises: NotFoundError."""
    key = project_key(request)
    return await offload(tasks.project_task, services(request), tenant_id(request), key, request.path_params["task_id"])


async def task_status(request: Request) -> Response:
    return JSONResponse(task_json(await _task(request)))


async def task_events(request: Request) -> Response:
    first = await _task(request)
    assert first.id is not None  # a stored task always has one
    task_id = first.id

    async def events() -> AsyncIterator[dict[str, str]]:
        task: Task | None = first
        last = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_SECONDS
        while task is not None and loop.time() < deadline:
            data = json.dumps(task_json(task))
            if data != last:
                yield {"event": "progress", "data": data}
                last = data
            if task.state not in ACTIVE_TASK_STATES:
                return
            await asyncio.sleep(POLL_SECONDS)
            task = await offload(find_task, services(request), tenant_id(request), task_id)

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


async def cancel_task(request: Request) -> Response:
    task = await _task(request)
    cancelled = await offload(tasks.cancel_task, services(request), task, actor(request))
    return JSONResponse({"cancelRequested": cancelled})


async def acceptance_tests(request: Request) -> Response:
    """The session's spec as one Behat .feature file in the Drupal Spec Tool's format, as a download."""
    upload = await upload_session(request)
    text = await offload(
        acceptance_feature, services(request), tenant_id=upload.tenant_id, session_id=stored_id(upload)
    )
    return Response(
        text,
        media_type="text/x-gherkin; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{upload.project_key}-acceptance.feature"',
            "Cache-Control": "no-store",
        },
    )


async def estimate_cost(request: Request) -> Response:
    upload = await upload_session(request)
    current = services(request)
    name = request.query_params.get("provider")
    choice = await offload(choose, current, upload.tenant_id, name)
    found = await offload(estimate, current, choice.config, tenant_id=upload.tenant_id, session_id=stored_id(upload))
    return JSONResponse(
        {
            "provider": choice.name,
            "label": choice.label,
            "tickets": found.tickets,
            "inputTokens": found.input_tokens,
            "outputTokens": found.output_tokens,
            "costUsd": found.cost_usd,
            "note": found.note,
        }
    )


async def provider_choices(request: Request) -> Response:
    current = services(request)
    found = await offload(choices, current, tenant_id(request))
    return JSONResponse({"providers": [{"name": c.name, "label": c.label} for c in found]})


async def generate(request: Request) -> Response:
    upload = await upload_session(request)
    body = await json_body(request, body_schemas.CHOOSE_PROVIDER)
    task_id = await offload(generate_tickets, services(request), scope_of(upload), actor(request), body.get("provider"))
    return JSONResponse({"taskId": task_id}, status_code=202)


def routes() -> list[SecuredRoute]:
    base = "/api/sessions/{session_id:int}"
    return [
        SecuredRoute("/api/tasks/{task_id:int}", task_status, auth=Auth.CONTEXT),
        SecuredRoute("/api/tasks/{task_id:int}/events", task_events, auth=Auth.CONTEXT),
        SecuredRoute("/api/tasks/{task_id:int}/cancel", cancel_task, auth=Auth.CONTEXT, methods=["POST"]),
        SecuredRoute("/api/providers", provider_choices, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/estimate", estimate_cost, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/acceptance.feature", acceptance_tests, auth=Auth.CONTEXT),
        SecuredRoute(f"{base}/generate", generate, auth=Auth.CONTEXT, methods=["POST"]),
    ]
