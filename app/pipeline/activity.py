"""Recording a step: the audit event, and for a session step its activity (which postpones its deletion)."""

from __future__ import annotations

from typing import Any

from app.pipeline.ports import ActivityPorts, Actor, AuditPorts, Scope


def record_step(ports: ActivityPorts, scope: Scope, actor: Actor, action: str, **detail: Any) -> None:
    """Every audited step of a session is activity: it postpones the session's deletion, then joins its trail."""
    ports.sessions.touch(scope.session_id, tenant_id=scope.tenant_id)
    record_tenant_step(ports, scope.tenant_id, actor, action, session_id=scope.session_id, **detail)


def record_tenant_step(
    ports: AuditPorts, tenant_id: int, actor: Actor, action: str, *, session_id: int | None = None, **detail: Any
) -> None:
    """An audited step outside any session (or of a session that is gone, such as its deletion)."""
    ports.audit.record(
        tenant_id=tenant_id, session_id=session_id, account_id=actor.account_id, action=action, detail=detail
    )
