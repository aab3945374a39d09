"""The runs a front watches: find one within the caller's project, and ask one to stop."""

from __future__ import annotations

from app.db.models import Task
from app.errors import NotFoundError
from app.pipeline.activity import record_step
from app.pipeline.ports import Actor, CancelPorts, Scope, TaskLookupPorts


def project_task(ports: TaskLookupPorts, tenant_id: int, project_key: str, task_id: int) -> Task:
    """The task, if its session is the tenant's and in the project. Raises: NotFoundError otherwise."""
    task = ports.tasks.get(task_id, tenant_id=tenant_id)
    if task is not None and task.session_id is not None:
        session = ports.sessions.get(task.session_id, tenant_id=tenant_id)
        if session.project_key == project_key:
            return task
    raise NotFoundError("No such task in this Jira project.")


def cancel_task(ports: CancelPorts, task: Task, actor: Actor) -> bool:
    """Ask a queued or running task to stop at its next step; audited as "cancelled" when it was still active.

    Returns whether the request was taken (False: the task had already ended).
    """
    assert task.id is not None and task.tenant_id is not None
    cancelled = ports.tasks.request_cancel(task.id, tenant_id=task.tenant_id)
    if cancelled and task.session_id is not None:
        record_step(ports, Scope(task.tenant_id, task.session_id), actor, "cancelled", kind=task.kind, task=task.id)
    return cancelled
